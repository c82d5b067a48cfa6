"""The organization's members and their roles."""

from __future__ import annotations

from fastapi import Request, Response

from tenantry.dashboard.auth import OrgMember, SignedIn
from tenantry.dashboard.web import page, pages
from tenantry.db import Session
from tenantry.members import service as members

router = pages()


@router.get("/orgs/{org_id}/members")
async def members_page(request: Request, principal: OrgMember, signed_in: SignedIn, session: Session) -> Response:
    listed = await members.list_members(session, principal.org_id)
    return await page(request, session, principal, signed_in, "members.html", members=listed, section="members")
