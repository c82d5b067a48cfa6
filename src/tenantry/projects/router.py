from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tenantry.api_keys.schemas import ApiKeyRegenerated
from tenantry.db import Session
from tenantry.errors import ProjectNameTaken, ProjectNotFound, Unauthenticated, responses
from tenantry.projects import schemas, service
from tenantry.projects.auth import LockedOrgProject, OrgKey, OrgProject

router = APIRouter(prefix="/org/owner/project", tags=["Projects"])


@router.post(
    "/new",
    response_model=schemas.ProjectCreated,
    responses=responses(Unauthenticated, ProjectNameTaken),
)
async def create(payload: schemas.ProjectCreate, principal: OrgKey, session: Session) -> schemas.ProjectCreated:
    """Create a project in the calling organization, optionally with a project API key."""
    return await service.create(session, principal, payload)


@router.get("/list", response_model=schemas.ProjectList, responses=responses(Unauthenticated))
async def list(  # noqa: A001 - the STYLE names router functions after their verb
    principal: OrgKey,
    session: Session,
    limit: Annotated[int | None, Query(ge=1, le=50, description="Page size, 1–50 (default 20).")] = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> schemas.ProjectList:
    """List the organization's live projects, newest first."""
    return await service.list_page(session, principal, limit=limit, cursor=cursor)


@router.get(
    "/{nano_id}",
    response_model=schemas.ProjectDetail,
    responses=responses(Unauthenticated, ProjectNotFound),
)
async def get(project: OrgProject, session: Session) -> schemas.ProjectDetail:
    """A project with its live API keys (masked)."""
    return await service.get(session, project)


@router.delete(
    "/{nano_id}",
    response_model=schemas.ProjectDeleted,
    responses=responses(Unauthenticated, ProjectNotFound),
)
async def delete(project: LockedOrgProject, principal: OrgKey, session: Session) -> schemas.ProjectDeleted:
    """Soft-delete a project: it leaves the list, its name is free again and its keys stop working."""
    return await service.delete(session, principal, project)


@router.post(
    "/{nano_id}/regenerate_api_key",
    response_model=ApiKeyRegenerated,
    responses=responses(Unauthenticated, ProjectNotFound),
)
async def regenerate_api_key(project: LockedOrgProject, session: Session) -> ApiKeyRegenerated:
    """Revoke every key of the project and return one new key, shown only here."""
    return await service.regenerate_key(session, project)
