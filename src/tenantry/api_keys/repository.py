from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.kit.time import utcnow
from tenantry.models import ApiKey, Project


class ProjectKeyRepository:
    """The API keys of one project the caller is already allowed to touch."""

    def __init__(self, session: AsyncSession, project: Project) -> None:
        self._session = session
        self._project = project

    async def live(self) -> Sequence[ApiKey]:
        statement = tenancy.live_project_keys(self._project).order_by(ApiKey.created_at, ApiKey.id)
        return (await self._session.scalars(statement)).all()

    async def revoke_all(self) -> None:
        await self._session.execute(tenancy.revoke_project_keys(self._project).values(revoked_at=utcnow()))
