"""The only module that writes tenant filters.

Every query that reaches a tenant's rows starts from one of these base statements, built from
an already-authenticated principal or an already-authorized project. Repositories take them as
their starting point; no handler or service writes `org_id ==` or `project_id ==` itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, Update, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from tenantry.auth.principal import Principal
from tenantry.errors import ProjectNotFound
from tenantry.kit import ids
from tenantry.models import ApiKey, AuthConfig, ConnectedAccount, Organization, Project, ProjectSettings


def own_organization(principal: Principal) -> Select[tuple[Organization]]:
    return select(Organization).where(Organization.id == principal.org_id)


def adjust_live_project_count(principal: Principal, delta: int) -> Update:
    return (
        update(Organization)
        .where(Organization.id == principal.org_id)
        .values(live_project_count=Organization.live_project_count + delta)
    )


def live_projects(org_id: str) -> Select[tuple[Project]]:
    """The organization's projects that are not deleted."""
    return select(Project).where(Project.org_id == org_id, Project.deleted_at.is_(None))


def live_project_keys(project: Project) -> Select[tuple[ApiKey]]:
    return select(ApiKey).where(ApiKey.project_id == project.id, ApiKey.revoked_at.is_(None))


def revoke_project_keys(project: Project) -> Update:
    return update(ApiKey).where(ApiKey.project_id == project.id, ApiKey.revoked_at.is_(None))


def settings_of(project_id: str) -> Select[tuple[ProjectSettings]]:
    return select(ProjectSettings).where(ProjectSettings.project_id == project_id)


def _own_project_id(principal: Principal) -> str:
    if principal.project_id is None:
        raise AssertionError("project-scoped data needs a project principal")
    return principal.project_id


def live_auth_configs(principal: Principal) -> Select[tuple[AuthConfig]]:
    """The calling project's auth configs that are not deleted."""
    return select(AuthConfig).where(
        AuthConfig.project_id == _own_project_id(principal), AuthConfig.deleted_at.is_(None)
    )


def live_connected_accounts(principal: Principal) -> Select[tuple[ConnectedAccount]]:
    """The calling project's connected accounts that are not deleted."""
    return select(ConnectedAccount).where(
        ConnectedAccount.project_id == _own_project_id(principal), ConnectedAccount.deleted_at.is_(None)
    )


def delete_connected_accounts_of(auth_config: AuthConfig) -> Update:
    return update(ConnectedAccount).where(
        ConnectedAccount.project_id == auth_config.project_id,
        ConnectedAccount.auth_config_id == auth_config.id,
        ConnectedAccount.deleted_at.is_(None),
    )


def account_by_capability(digest_column: InstrumentedAttribute[str | None], digest: str) -> Select[tuple[ConnectedAccount]]:
    """The one live account a browser capability (OAuth `state`, link token) names, in whatever project.

    The capability itself is the authorization; callers act for that account's project only.
    """
    return select(ConnectedAccount).where(digest_column == digest, ConnectedAccount.deleted_at.is_(None))


def stale_initiations(now: datetime) -> Update:
    """Initiations past their deadline, in every project: for the sweeper, not for a tenant's read."""
    return update(ConnectedAccount).where(
        ConnectedAccount.status.in_(("INITIALIZING", "INITIATED")),
        ConnectedAccount.initiation_expires_at < now,
    )


async def project_of_org(
    session: AsyncSession, principal: Principal, project_id: str, *, for_update: bool = False
) -> Project:
    """The principal's organization's live project `project_id`, or 404.

    Another organization's project and one that never existed get the same answer, so an
    id reveals nothing about who owns it.
    """
    if not ids.looks_like("pr", project_id):
        raise ProjectNotFound()
    statement = live_projects(principal.org_id).where(Project.id == project_id)
    if for_update:
        statement = statement.with_for_update()
    project = await session.scalar(statement)
    if project is None:
        raise ProjectNotFound()
    return project
