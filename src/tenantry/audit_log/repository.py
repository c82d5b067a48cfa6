from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.kit.pagination import PageRequest
from tenantry.models import AuditEvent


@dataclass(frozen=True)
class AuditFilters:
    project_ids: list[str] | None = None
    actions: list[str] | None = None
    actor_ids: list[str] | None = None
    member_ids: list[str] | None = None
    target_ids: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditRepository:
    """The audit log of the calling organization."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._principal = principal

    def _filtered(self, filters: AuditFilters) -> Select[tuple[AuditEvent]]:
        statement = tenancy.audit_events(self._principal)
        for column, values in (
            (AuditEvent.project_id, filters.project_ids),
            (AuditEvent.action, filters.actions),
            (AuditEvent.actor_id, filters.actor_ids),
            (AuditEvent.member_id, filters.member_ids),
            (AuditEvent.target_id, filters.target_ids),
        ):
            if values:
                statement = statement.where(column.in_(values))
        if filters.since is not None:
            statement = statement.where(AuditEvent.created_at >= filters.since)
        if filters.until is not None:
            statement = statement.where(AuditEvent.created_at < filters.until)
        return statement

    async def page(self, filters: AuditFilters, request: PageRequest) -> Sequence[AuditEvent]:
        statement = request.apply(self._filtered(filters), AuditEvent.created_at, AuditEvent.id)
        return (await self._session.scalars(statement)).all()
