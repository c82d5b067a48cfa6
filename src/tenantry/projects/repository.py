from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.kit.pagination import PageRequest
from tenantry.models import ConnectedAccount, Project, ProjectSettings


class ProjectRepository:
    """The live projects of the calling organization, and its deleted ones still within retention."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._principal = principal

    async def add(self, project: Project, settings: ProjectSettings) -> None:
        """Inserts the project; the unique index on live names raises IntegrityError for a taken name."""
        self._session.add(project)
        await self._session.flush()
        self._session.add(settings)
        await self._session.execute(tenancy.adjust_live_project_count(self._principal, +1))

    async def mark_deleted(self, project: Project, moment: datetime) -> None:
        project.deleted_at = moment
        await self._session.flush()
        await self._session.execute(tenancy.adjust_live_project_count(self._principal, -1))

    async def mark_restored(self, project: Project) -> None:
        """Brings the project back; the unique index on live names raises IntegrityError if its name was taken since."""
        project.deleted_at = None
        await self._session.flush()
        await self._session.execute(tenancy.adjust_live_project_count(self._principal, +1))

    async def count(self) -> int:
        organization = await self._session.scalar(tenancy.own_organization(self._principal))
        return organization.live_project_count if organization else 0

    async def page(self, request: PageRequest) -> Sequence[Project]:
        """One page of live projects, newest first (plus one row to tell whether more follow)."""
        statement = request.apply(tenancy.live_projects(self._principal.org_id), Project.created_at, Project.id)
        return (await self._session.scalars(statement)).all()

    async def deleted_page(self, request: PageRequest, deleted_after: datetime) -> Sequence[Project]:
        """One page of restorable projects, most recently deleted first."""
        statement = request.apply(
            tenancy.deleted_projects(self._principal.org_id, deleted_after), Project.deleted_at, Project.id
        )
        return (await self._session.scalars(statement)).all()

    async def deleted_count(self, deleted_after: datetime) -> int:
        subquery = tenancy.deleted_projects(self._principal.org_id, deleted_after).subquery()
        return int(await self._session.scalar(select(func.count()).select_from(subquery)) or 0)


class PurgeRepository:
    """Deleted projects past their retention, across every organization: for the purge job only."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def due(self, deleted_before: datetime, waiting_on_job: str, limit: int) -> Sequence[Row[tuple[str, str]]]:
        statement = tenancy.projects_due_for_purge(deleted_before, waiting_on_job).limit(limit)
        return (await self._session.execute(statement)).all()

    async def claim(self, project_id: str, deleted_before: datetime, waiting_on_job: str) -> bool:
        """Whether the project is still due, locking it; False when another worker has it or purged it."""
        statement = (
            tenancy.projects_due_for_purge(deleted_before, waiting_on_job)
            .where(Project.id == project_id)
            .with_for_update(skip_locked=True)
        )
        return (await self._session.execute(statement)).first() is not None

    async def delete_everything(self, project_id: str) -> None:
        for statement in tenancy.purge_project(project_id):
            await self._session.execute(statement)


class RevocationRepository:
    """The accounts of one deleted project whose grants the revocation job revokes."""

    def __init__(self, session: AsyncSession, project_id: str) -> None:
        self._session = session
        self._project_id = project_id

    async def account_ids(self) -> Sequence[str]:
        statement = tenancy.revocable_accounts(self._project_id).with_only_columns(ConnectedAccount.id)
        return (await self._session.scalars(statement.order_by(ConnectedAccount.id))).all()
