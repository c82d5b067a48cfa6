from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
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
        statement = tenancy.live_project_keys(self._project, utcnow()).order_by(ApiKey.created_at, ApiKey.id)
        return (await self._session.scalars(statement)).all()

    async def get_live(self, key_id: str) -> ApiKey | None:
        statement = tenancy.live_project_keys(self._project, utcnow()).where(ApiKey.id == key_id)
        return await self._session.scalar(statement)

    async def count_live(self) -> int:
        subquery = tenancy.live_project_keys(self._project, utcnow()).subquery()
        return int(await self._session.scalar(select(func.count()).select_from(subquery)) or 0)

    async def name_taken(self, name: str) -> bool:
        return await self._session.scalar(tenancy.project_keys_named(self._project, name, utcnow())) is not None

    async def revoke_all(self) -> None:
        await self._session.execute(tenancy.revoke_project_keys(self._project).values(revoked_at=utcnow()))

    async def expire_all(self, moment: datetime) -> None:
        await self._session.execute(tenancy.expire_project_keys(self._project, moment))
