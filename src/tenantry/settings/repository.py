from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.models import ProjectSettings


class SettingsRepository:
    """The settings row of one project the caller is already allowed to touch."""

    def __init__(self, session: AsyncSession, project_id: str) -> None:
        self._session = session
        self._project_id = project_id

    async def get(self, *, for_update: bool = False) -> ProjectSettings | None:
        statement = tenancy.settings_of(self._project_id)
        if for_update:
            statement = statement.with_for_update()
        return await self._session.scalar(statement)
