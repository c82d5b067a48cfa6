"""Who is browsing: a signed-in member, acting in one of their organizations with their role there.

The Principal a page acts with is the one a user key of the same member would have
(tenantry.members.auth): kind `user`, the member, the organization and the role. Its key id is the
dashboard session's id, so the audit log tells which sign-in made a change. Another organization,
and another organization's project, answer 404 like ones that do not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.dashboard import accounts
from tenantry.dashboard.web import SESSION_COOKIE, SignInRequired
from tenantry.db import Session
from tenantry.errors import OrganizationNotFound, RoleForbidden
from tenantry.kit import ids
from tenantry.kit.inputs import NoNul
from tenantry.kit.keys import KeyKind
from tenantry.members.schemas import Role
from tenantry.models import Project


async def _signed_in(request: Request, session: Session) -> accounts.SignedIn:
    token = request.cookies.get(SESSION_COOKIE)
    found = await accounts.resolve(session, token) if token else None
    if found is None:
        raise SignInRequired()
    return found


SignedIn = Annotated[accounts.SignedIn, Depends(_signed_in)]


def member_principal(signed_in: accounts.SignedIn) -> Principal:
    """The member across all their organizations (for listing them)."""
    return Principal(key_id=signed_in.session_id, kind=KeyKind.user, org_id="", project_id=None, member_id=signed_in.member.id)


OrgIdPath = Annotated[str, Path(description="The organization, `ok_…`."), NoNul]


async def _org_member(signed_in: SignedIn, session: Session, org_id: OrgIdPath) -> Principal:
    membership = None
    if ids.looks_like("ok", org_id):
        membership = await session.scalar(tenancy.membership(signed_in.member.id, org_id))
    if membership is None:
        raise OrganizationNotFound()
    return Principal(
        key_id=signed_in.session_id,
        kind=KeyKind.user,
        org_id=org_id,
        project_id=None,
        member_id=signed_in.member.id,
        role=membership.role,
    )


OrgMember = Annotated[Principal, Depends(_org_member)]


def require_admin(principal: Principal) -> None:
    """The API's rule (tenantry.members.auth): deleting and restoring projects and the audit log need an admin."""
    if principal.role != Role.admin:
        raise RoleForbidden(
            f"This needs the admin role in this organization; yours is {principal.role}.",
            suggested_fix="Ask an admin of the organization",
        )


async def _org_admin(principal: OrgMember) -> Principal:
    require_admin(principal)
    return principal


OrgAdmin = Annotated[Principal, Depends(_org_admin)]
ProjectIdPath = Annotated[str, Path(description="The project, `pr_…`."), NoNul]


async def _project(principal: OrgMember, session: Session, project_id: ProjectIdPath, request: Request) -> Project:
    # Changes hold the project row until commit, as the API's do (tenantry.projects.auth).
    return await tenancy.project_of_org(session, principal, project_id, for_update=request.method == "POST")


DashProject = Annotated[Project, Depends(_project)]


def acting_for(principal: Principal, project: Project) -> Principal:
    """The member's principal narrowed to one of their organization's projects, for project-scoped services."""
    return Principal(
        key_id=principal.key_id,
        kind=principal.kind,
        org_id=principal.org_id,
        project_id=project.id,
        member_id=principal.member_id,
        role=principal.role,
    )
