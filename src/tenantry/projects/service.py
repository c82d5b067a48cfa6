"""Project management with an organization key (reference §3.1–3.5), plus restore (ours).

A deleted project stays restorable for `project_retention_days`; after that the purge job
(tenantry.projects.lifecycle) deletes it and everything it owns.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import audit, outbox
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
from tenantry.projects import lifecycle, schemas
from tenantry.projects.repository import ProjectRepository
from tenantry.settings import service as settings_service

DEFAULT_PAGE_SIZE = 20


def _project_email(project_id: str) -> str:
    domain = get_settings().project_email_domain
    return f"project-{project_id.removeprefix('pr_').lower()}@{domain}"


def _name_taken(name: str) -> ProjectNameTaken:
    return ProjectNameTaken(
        f"A project named {name!r} already exists in this organization",
        suggested_fix="Choose another name, or delete the existing project first",
    )


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
        raise _name_taken(payload.name) from None
    plaintext = key_id = None
    if payload.should_create_api_key:
        key, plaintext = await api_keys.mint(
            session, kind=KeyKind.project, org_id=principal.org_id, project_id=project.id
        )
        key_id = key.id
    await audit.record(session, principal, "project.created", project, details={"name": project.name, "api_key_id": key_id})
    return schemas.ProjectCreated(id=project.id, name=project.name, api_key=plaintext)


def to_schema(project: Project) -> schemas.Project:
    return schemas.Project(**_wire_fields(project))


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
    session: AsyncSession, principal: Principal, *, limit: int | None, cursor: str | None, deleted: bool = False
) -> schemas.ProjectList:
    request = PageRequest.parse(limit, cursor, DEFAULT_PAGE_SIZE)
    repository = ProjectRepository(session, principal)
    if deleted:
        restorable_since = lifecycle.restorable_since()
        page = await repository.deleted_page(request, restorable_since)
        rows, next_cursor = request.slice(page, lambda project: (project.deleted_at or project.created_at, project.id))
        total = await repository.deleted_count(restorable_since)
    else:
        rows, next_cursor = request.slice(await repository.page(request), lambda project: (project.created_at, project.id))
        total = await repository.count()
    return schemas.ProjectList(
        data=[to_schema(project) for project in rows],
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


async def delete(
    session: AsyncSession, principal: Principal, project: Project, *, revoke_on_delete: bool = False
) -> schemas.ProjectDeleted:
    """Soft delete: the project leaves the list, frees its name, and its keys stop working.

    With `revoke_on_delete` a background job (tenantry.projects.lifecycle) also revokes the OAuth
    grants of its connected accounts at their providers; it is written to the outbox in this
    transaction, so it runs exactly when the delete commits.
    """
    await ProjectRepository(session, principal).mark_deleted(project, utcnow())
    await api_keys.revoke_all(session, project)
    job_id = None
    if revoke_on_delete:
        job_id = ids.nano_id("oj")
        await outbox.enqueue(
            session, lifecycle.REVOKE_UPSTREAM, {"project_id": project.id, "org_id": project.org_id, "job_id": job_id}, key=project.id
        )
    await audit.record(
        session,
        principal,
        "project.deleted",
        project,
        details={"name": project.name, "revoke_on_delete": revoke_on_delete, "revoke_job_id": job_id},
    )
    return schemas.ProjectDeleted(revoke_job_id=job_id)


async def restore(session: AsyncSession, principal: Principal, project: Project) -> schemas.ProjectDetail:
    """Brings a deleted project back with everything it owned. Its keys stay revoked."""
    name = project.name  # a failed flush expires the instance
    try:
        await ProjectRepository(session, principal).mark_restored(project)
    except IntegrityError:
        raise _name_taken(name) from None
    await audit.record(session, principal, "project.restored", project, details={"name": project.name})
    return await get(session, project)


async def regenerate_key(
    session: AsyncSession, principal: Principal, project: Project, grace_period_seconds: int | None = None
) -> ApiKeyRegenerated:
    grace = timedelta(seconds=grace_period_seconds) if grace_period_seconds else None
    return await api_keys.regenerate(session, principal, project, grace)
