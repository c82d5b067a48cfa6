"""Project management with an organization key (reference §3.1–3.5)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.api_keys import service as api_keys
from tenantry.api_keys.repository import ProjectKeyRepository
from tenantry.api_keys.schemas import ApiKeyRegenerated
from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.config import get_settings
from tenantry.errors import ProjectNameTaken
from tenantry.kit import ids
from tenantry.kit.keys import KeyKind
from tenantry.kit.pagination import PageRequest, total_pages
from tenantry.kit.time import utcnow
from tenantry.models import Project
from tenantry.projects import schemas
from tenantry.projects.repository import ProjectRepository
from tenantry.settings import service as settings_service

DEFAULT_PAGE_SIZE = 20


def _project_email(project_id: str) -> str:
    domain = get_settings().project_email_domain
    return f"project-{project_id.removeprefix('pr_').lower()}@{domain}"


async def create(session: AsyncSession, principal: Principal, payload: schemas.ProjectCreate) -> schemas.ProjectCreated:
    organization = await session.scalar(tenancy.own_organization(principal))
    assert organization is not None, "an authenticated org key always has its organization"
    moment = utcnow()
    project_id = ids.nano_id("pr")
    project = Project(
        id=project_id,
        org_id=principal.org_id,
        name=payload.name,
        email=_project_email(project_id),
        created_at=moment,
        updated_at=moment,
    )
    settings = settings_service.defaults_for(project_id, organization.created_at)
    if payload.config is not None:
        settings_service.apply(settings, payload.config)
    try:
        await ProjectRepository(session, principal).add(project, settings)
    except IntegrityError:
        raise ProjectNameTaken(
            f"A project named {payload.name!r} already exists in this organization",
            suggested_fix="Choose another name, or delete the existing project first",
        ) from None
    plaintext = None
    if payload.should_create_api_key:
        _, plaintext = await api_keys.mint(
            session, kind=KeyKind.project, org_id=principal.org_id, project_id=project.id
        )
    return schemas.ProjectCreated(id=project.id, name=project.name, api_key=plaintext)


def _wire_fields(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "org_id": project.org_id,
        "name": project.name,
        "email": project.email,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
        "deleted": project.deleted_at is not None,
    }


async def list_page(
    session: AsyncSession, principal: Principal, *, limit: int | None, cursor: str | None
) -> schemas.ProjectList:
    request = PageRequest.parse(limit, cursor, DEFAULT_PAGE_SIZE)
    repository = ProjectRepository(session, principal)
    rows, next_cursor = request.slice(
        await repository.page(request), lambda project: (project.created_at, project.id)
    )
    total = await repository.count()
    return schemas.ProjectList(
        data=[schemas.Project(**_wire_fields(project)) for project in rows],
        next_cursor=next_cursor,
        total_pages=total_pages(total, request.limit),
        current_page=request.page,
        total_items=total,
    )


async def get(session: AsyncSession, project: Project) -> schemas.ProjectDetail:
    keys = await ProjectKeyRepository(session, project).live()
    return schemas.ProjectDetail(
        **_wire_fields(project), api_keys=[api_keys.listed(key) for key in keys]
    )


async def delete(session: AsyncSession, principal: Principal, project: Project) -> schemas.ProjectDeleted:
    """Soft delete: the project leaves the list, frees its name, and its keys stop working."""
    await ProjectRepository(session, principal).mark_deleted(project, utcnow())
    await api_keys.revoke_all(session, project)
    return schemas.ProjectDeleted()


async def regenerate_key(session: AsyncSession, project: Project) -> ApiKeyRegenerated:
    key, plaintext = await api_keys.regenerate(session, project)
    return ApiKeyRegenerated(api_key=api_keys.created(key, plaintext))
