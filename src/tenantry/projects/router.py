from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tenantry.api_keys.schemas import MAX_GRACE_PERIOD_SECONDS, ApiKeyRegenerated
from tenantry.auth import tenancy
from tenantry.db import Session
from tenantry.errors import (
    ProjectNameTaken,
    ProjectNotFound,
    RoleForbidden,
    Unauthenticated,
    responses,
)
from tenantry.kit.inputs import CursorParam
from tenantry.models import Project
from tenantry.projects import lifecycle, schemas, service
from tenantry.projects.auth import (
    LockedOrgProject,
    OrgAdminKey,
    OrgKey,
    OrgProject,
    ProjectId,
)

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
    cursor: CursorParam = None,
    deleted: Annotated[
        bool,
        Query(description="List the deleted projects that can still be restored (most recently deleted first) instead of the live ones."),
    ] = False,
) -> schemas.ProjectList:
    """List the organization's live projects, newest first."""
    return await service.list_page(session, principal, limit=limit, cursor=cursor, deleted=deleted)


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
    response_model_exclude_none=True,
    responses=responses(Unauthenticated, RoleForbidden, ProjectNotFound),
)
async def delete(
    principal: OrgAdminKey,
    project: LockedOrgProject,
    session: Session,
    revoke_on_delete: Annotated[
        bool | None,
        Query(
            description="Also revoke, in a background job, the OAuth grants of the project's connected "
            "accounts at providers that support revocation. Irreversible; the response names the job."
        ),
    ] = False,
) -> schemas.ProjectDeleted:
    """Soft-delete a project: it leaves the list, its name is free again and its keys stop working.

    It can be restored with `POST …/{nano_id}/restore` for the server's retention period (30 days
    by default); after that it is purged with everything it owns.
    """
    return await service.delete(session, principal, project, revoke_on_delete=bool(revoke_on_delete))


async def _restorable_project(principal: OrgAdminKey, session: Session, nano_id: ProjectId) -> Project:
    return await tenancy.deleted_project_of_org(session, principal, nano_id, lifecycle.restorable_since())


@router.post(
    "/{nano_id}/restore",
    response_model=schemas.ProjectDetail,
    responses=responses(Unauthenticated, RoleForbidden, ProjectNotFound, ProjectNameTaken),
)
async def restore(
    principal: OrgAdminKey,
    project: Annotated[Project, Depends(_restorable_project)],
    session: Session,
) -> schemas.ProjectDetail:
    """Bring back a deleted project within the retention period, with its settings, auth configs and
    connected accounts. Its keys stay revoked: create one with `POST …/{nano_id}/api_keys` or
    `regenerate_api_key`. 409 when a live project has taken its name meanwhile."""
    return await service.restore(session, principal, project)


@router.post(
    "/{nano_id}/regenerate_api_key",
    response_model=ApiKeyRegenerated,
    responses=responses(Unauthenticated, ProjectNotFound),
)
async def regenerate_api_key(
    principal: OrgKey,
    project: LockedOrgProject,
    session: Session,
    grace_period_seconds: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_GRACE_PERIOD_SECONDS,
            description="Keep the replaced keys working this many seconds (at most 30 days), then let "
            "them expire. Without it they are revoked at once, as on Composio.",
        ),
    ] = None,
) -> ApiKeyRegenerated:
    """Replace every key of the project with one new key, shown only here."""
    return await service.regenerate_key(session, principal, project, grace_period_seconds)
