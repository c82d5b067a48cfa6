"""Reading the audit log (writing it is tenantry.audit.record, in each change's transaction)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.audit_log import schemas
from tenantry.audit_log.repository import AuditFilters, AuditRepository
from tenantry.auth.principal import Principal
from tenantry.kit.pagination import PageRequest
from tenantry.models import AuditEvent

DEFAULT_PAGE_SIZE = 50


def _to_schema(event: AuditEvent) -> schemas.AuditEvent:
    return schemas.AuditEvent(
        id=event.id,
        action=event.action,
        org_id=event.org_id,
        project_id=event.project_id,
        actor_type=event.actor_type,
        actor_id=event.actor_id,
        member_id=event.member_id,
        target_type=event.target_type,
        target_id=event.target_id,
        request_id=event.request_id,
        details=event.details,
        created_at=event.created_at,
    )


async def list_page(
    session: AsyncSession, principal: Principal, filters: AuditFilters, *, limit: int | None, cursor: str | None
) -> schemas.AuditEventList:
    """Newest first. No totals: counting a long log would cost more than the page."""
    request = PageRequest.parse(limit, cursor, DEFAULT_PAGE_SIZE)
    rows, next_cursor = request.slice(
        await AuditRepository(session, principal).page(filters, request), lambda event: (event.created_at, event.id)
    )
    return schemas.AuditEventList(items=[_to_schema(event) for event in rows], next_cursor=next_cursor)
