"""What a member's user key lists (reference §3.6–3.7): their organizations and those organizations'
projects; and (our extension) an organization's members and roles, managed by its admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from tenantry.db import Session
from tenantry.errors import (
    LastAdmin,
    MemberAlreadyExists,
    MemberInOtherOrganizations,
    OrganizationNotFound,
    OrgMemberNotFound,
    RoleForbidden,
    Unauthenticated,
    responses,
)
from tenantry.kit.inputs import CursorParam, NoNul
from tenantry.members import schemas, service
from tenantry.members.auth import Member, OrgActor, OrgAdmin, UserKey
from tenantry.projects.schemas import ProjectList

router = APIRouter(prefix="/org", tags=["Organizations"])

Limit = Annotated[int | None, Query(ge=1, le=50, description="Page size, 1–50 (default 20).")]
MembersLimit = Annotated[int | None, Query(ge=1, le=200, description="Page size, 1–200 (default 50).")]
MemberId = Annotated[str, Path(description="The member's id, `mb_` + 12 characters."), NoNul]


@router.get("/list", response_model=schemas.OrganizationList, responses=responses(Unauthenticated))
async def list_organizations(principal: UserKey, session: Session, limit: Limit = None, cursor: CursorParam = None) -> schemas.OrganizationList:
    """The organizations the key's member belongs to, newest first."""
    return await service.list_organizations(session, principal, limit=limit, cursor=cursor)


@router.get("/project/list", response_model=ProjectList, responses=responses(Unauthenticated, OrganizationNotFound))
async def list_projects(
    principal: Member,
    session: Session,
    list_all_org_projects: Annotated[
        bool | None, Query(description="List the projects of every organization the member belongs to.")
    ] = False,
    limit: Limit = None,
    cursor: CursorParam = None,
) -> ProjectList:
    """The live projects of the key's organization (or the `x-org-id` one), newest first."""
    return await service.list_projects(
        session, principal, all_organizations=bool(list_all_org_projects), limit=limit, cursor=cursor
    )


@router.get(
    "/owner/members",
    response_model=schemas.MemberList,
    tags=["Members"],
    responses=responses(Unauthenticated, OrganizationNotFound),
)
async def list_members(principal: OrgActor, session: Session, limit: MembersLimit = None, cursor: CursorParam = None) -> schemas.MemberList:
    """The organization's members and their roles, in the order they joined, 50 a page by default.
    Any member may read it, as on the dashboard."""
    return await service.list_of_organization(session, principal, limit=limit, cursor=cursor)


@router.post(
    "/owner/members",
    status_code=201,
    response_model=schemas.MemberAdded,
    tags=["Members"],
    responses=responses(Unauthenticated, RoleForbidden, OrganizationNotFound, MemberAlreadyExists),
)
async def create_member(payload: schemas.MemberCreate, principal: OrgAdmin, session: Session) -> schemas.MemberAdded:
    """Add a person to the organization with a role. The answer holds a one-time link (valid 7 days,
    shown only this once) with which they choose their dashboard password; a person who already
    belongs to other organizations keeps the password they have and gets no link."""
    return await service.add(session, principal, payload)


@router.patch(
    "/owner/members/{member_id}",
    response_model=schemas.MemberListed,
    tags=["Members"],
    responses=responses(Unauthenticated, RoleForbidden, OrganizationNotFound, OrgMemberNotFound, LastAdmin),
)
async def update_member(
    member_id: MemberId, payload: schemas.MemberRoleUpdate, principal: OrgAdmin, session: Session
) -> schemas.MemberListed:
    """Change a member's role. The organization's last admin cannot be demoted (409)."""
    return await service.change_role(session, principal, member_id, payload)


@router.delete(
    "/owner/members/{member_id}",
    response_model=schemas.MemberRemoved,
    tags=["Members"],
    responses=responses(Unauthenticated, RoleForbidden, OrganizationNotFound, OrgMemberNotFound, LastAdmin),
)
async def delete_member(member_id: MemberId, principal: OrgAdmin, session: Session) -> schemas.MemberRemoved:
    """Remove a member from the organization: the user keys issued to them in it stop working at once.
    The organization's last admin cannot be removed (409)."""
    return await service.remove(session, principal, member_id)


@router.post(
    "/owner/members/{member_id}/invitation",
    status_code=201,
    response_model=schemas.Invitation,
    tags=["Members"],
    responses=responses(Unauthenticated, RoleForbidden, OrganizationNotFound, OrgMemberNotFound, MemberInOtherOrganizations),
)
async def create_invitation(member_id: MemberId, principal: OrgAdmin, session: Session) -> schemas.Invitation:
    """A fresh one-time link (valid 7 days, shown only this once) with which the member chooses a new
    dashboard password; their earlier links stop working. Refused (409) for a member who also belongs
    to other organizations."""
    return await service.issue_invitation(session, principal, member_id)
