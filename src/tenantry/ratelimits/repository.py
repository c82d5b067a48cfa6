from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.kit.time import utcnow
from tenantry.models import ProjectRateLimit


class RateLimitRepository:
    """The rate-limit override of one project the caller is already allowed to touch."""

    def __init__(self, session: AsyncSession, project_id: str) -> None:
        self._session = session
        self._project_id = project_id

    async def get(self, *, for_update: bool = False) -> ProjectRateLimit | None:
        statement = tenancy.rate_limit_of(self._project_id)
        if for_update:
            statement = statement.with_for_update()
        return await self._session.scalar(statement)

    async def put(self, requests_per_window: int) -> None:
        row = await self.get(for_update=True)
        if row is None:
            self._session.add(ProjectRateLimit(project_id=self._project_id, requests_per_window=requests_per_window))
        else:
            row.requests_per_window = requests_per_window
            row.updated_at = utcnow()
        await self._session.flush()

    async def remove(self) -> None:
        row = await self.get(for_update=True)
        if row is not None:
            await self._session.delete(row)
            await self._session.flush()


async def load_override(session: AsyncSession, project_id: str) -> int | None:
    row = await RateLimitRepository(session, project_id).get()
    return row.requests_per_window if row else None
