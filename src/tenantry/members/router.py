"""What a member's user key lists (reference §3.6–3.7): their organizations and those organizations' projects."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tenantry.db import Session
from tenantry.errors import OrganizationNotFound, Unauthenticated, responses
from tenantry.members import schemas, service
from tenantry.members.auth import Member, UserKey
from tenantry.projects.schemas import ProjectList

router = APIRouter(prefix="/org", tags=["Organizations"])

Limit = Annotated[int | None, Query(ge=1, le=50, description="Page size, 1–50 (default 20).")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


@router.get("/list", response_model=schemas.OrganizationList, responses=responses(Unauthenticated))
async def list_organizations(principal: UserKey, session: Session, limit: Limit = None, cursor: Cursor = None) -> schemas.OrganizationList:
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
    cursor: Cursor = None,
) -> ProjectList:
    """The live projects of the key's organization (or the `x-org-id` one), newest first."""
    return await service.list_projects(
        session, principal, all_organizations=bool(list_all_org_projects), limit=limit, cursor=cursor
    )
