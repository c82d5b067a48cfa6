from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from tenantry.audit_log import schemas, service
from tenantry.audit_log.repository import AuditFilters
from tenantry.db import Session
from tenantry.errors import RoleForbidden, Unauthenticated, responses
from tenantry.kit.inputs import CursorParam, NoNul
from tenantry.kit.query import comma_separated
from tenantry.projects.auth import OrgAdminKey

router = APIRouter(prefix="/org/owner/audit_log", tags=["Audit log"])

Ids = Annotated[str | None, Query(description="One value, or several comma-separated."), NoNul]
# The last millisecond of year 9999, the last a datetime can hold.
MAX_EPOCH_MS = 253402300799999


def _moment(milliseconds: int | None) -> datetime | None:
    return None if milliseconds is None else datetime.fromtimestamp(milliseconds / 1000, UTC)


@router.get("", response_model=schemas.AuditEventList, responses=responses(Unauthenticated, RoleForbidden))
async def list(  # noqa: A001 - the STYLE names router functions after their verb
    principal: OrgAdminKey,
    session: Session,
    project_id: Ids = None,
    action: Annotated[str | None, Query(description="Actions, comma-separated, e.g. `project.deleted,api_key.revoked`."), NoNul] = None,
    actor_id: Ids = None,
    member_id: Ids = None,
    target_id: Ids = None,
    from_: Annotated[int | None, Query(alias="from", ge=0, le=MAX_EPOCH_MS, description="Unix epoch milliseconds, inclusive.")] = None,
    to: Annotated[int | None, Query(ge=0, le=MAX_EPOCH_MS, description="Unix epoch milliseconds, exclusive.")] = None,
    limit: Annotated[int | None, Query(ge=1, le=200, description="Page size, 1–200 (default 50).")] = None,
    cursor: CursorParam = None,
) -> schemas.AuditEventList:
    """The organization's control-plane changes, newest first: who changed what, when, in which request."""
    filters = AuditFilters(
        project_ids=comma_separated(project_id),
        actions=comma_separated(action),
        actor_ids=comma_separated(actor_id),
        member_ids=comma_separated(member_id),
        target_ids=comma_separated(target_id),
        since=_moment(from_),
        until=_moment(to),
    )
    return await service.list_page(session, principal, filters, limit=limit, cursor=cursor)
