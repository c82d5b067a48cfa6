"""The organization's audit log, with filters (admins only, as in the API)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request, Response

from tenantry.audit_log import service as audit_log
from tenantry.audit_log.repository import AuditFilters
from tenantry.dashboard.auth import OrgMember, SignedIn, require_admin
from tenantry.dashboard.pages.params import Cursor, utc_day
from tenantry.dashboard.web import page, pages
from tenantry.db import Session
from tenantry.kit.inputs import NoNul

router = pages()

AUDIT_PAGE_SIZE = 50


@router.get("/orgs/{org_id}/audit")
async def audit_page(
    request: Request,
    principal: OrgMember,
    signed_in: SignedIn,
    session: Session,
    action: Annotated[str, Query(max_length=100), NoNul] = "",
    project_id: Annotated[str, Query(max_length=40), NoNul] = "",
    member_id: Annotated[str, Query(max_length=40), NoNul] = "",
    since: Annotated[str, Query(alias="from", max_length=10), NoNul] = "",
    until: Annotated[str, Query(alias="to", max_length=10), NoNul] = "",
    cursor: Cursor = None,
) -> Response:
    require_admin(principal)
    start, end = utc_day(since, "from"), utc_day(until, "to")
    filters = AuditFilters(
        project_ids=[project_id.strip()] if project_id.strip() else None,
        actions=[action.strip()] if action.strip() else None,
        member_ids=[member_id.strip()] if member_id.strip() else None,
        since=start,
        until=end + timedelta(days=1) if end else None,
    )
    listed = await audit_log.list_page(session, principal, filters, limit=AUDIT_PAGE_SIZE, cursor=cursor)
    query = {"action": action, "project_id": project_id, "member_id": member_id, "from": since, "to": until}
    next_url = f"?{urlencode({**query, 'cursor': listed.next_cursor})}" if listed.next_cursor else None
    return await page(
        request, session, principal, signed_in, "audit.html", events=listed.items, filters=query, next_url=next_url, section="audit"
    )
