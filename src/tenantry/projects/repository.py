from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.kit.pagination import PageRequest
from tenantry.models import Project, ProjectSettings


class ProjectRepository:
    """The live projects of the calling organization."""

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

    async def count(self) -> int:
        organization = await self._session.scalar(tenancy.own_organization(self._principal))
        return organization.live_project_count if organization else 0

    async def page(self, request: PageRequest) -> Sequence[Project]:
        """One page of live projects, newest first (plus one row to tell whether more follow)."""
        statement = request.apply(tenancy.live_projects(self._principal.org_id), Project.created_at, Project.id)
        return (await self._session.scalars(statement)).all()
