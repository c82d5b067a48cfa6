"""The two reads the API has no route for: searching projects by name, and usage per day."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.kit.pagination import PageRequest
from tenantry.models import Project, UsageEvent

DAY_MS = 86_400_000


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ProjectSearch:
    """The organization's live projects whose name contains a text (case-insensitive), newest first."""

    def __init__(self, session: AsyncSession, principal: Principal, text: str) -> None:
        self._session = session
        pattern = f"%{_escape_like(text.lower())}%"
        self._statement = tenancy.live_projects(principal.org_id).where(func.lower(Project.name).like(pattern, escape="\\"))

    async def page(self, request: PageRequest) -> Sequence[Project]:
        statement = request.apply(self._statement, Project.created_at, Project.id)
        return (await self._session.scalars(statement)).all()

    async def count(self) -> int:
        return int(await self._session.scalar(select(func.count()).select_from(self._statement.subquery())) or 0)


class DailyUsage:
    """A project's usage quantities per UTC day and entity type."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._base = tenancy.project_usage_events(principal)

    async def per_day(self, start_ms: int, end_ms: int) -> dict[tuple[int, str], int]:
        """`{(day number since the epoch, entity type): quantity}` for events in [start_ms, end_ms)."""
        day = (UsageEvent.occurred_at_ms // DAY_MS).label("day")
        statement = (
            self._base.where(UsageEvent.occurred_at_ms >= start_ms, UsageEvent.occurred_at_ms < end_ms)
            .with_only_columns(day, UsageEvent.entity_type, func.coalesce(func.sum(UsageEvent.quantity), 0))
            .group_by(day, UsageEvent.entity_type)
        )
        rows = (await self._session.execute(statement)).all()
        return {(int(row[0]), str(row[1])): int(row[2]) for row in rows}
