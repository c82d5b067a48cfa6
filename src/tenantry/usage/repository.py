from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, Integer, Select, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.models import Project, UsageEvent

GROUP_COLUMNS = {
    "tool_slug": UsageEvent.tool_slug,
    "toolkit_slug": UsageEvent.toolkit_slug,
    "connected_account_id": UsageEvent.connected_account_id,
    "user_id": UsageEvent.user_id,
    "session_id": UsageEvent.session_id,
    "project_id": UsageEvent.project_id,
}


@dataclass(frozen=True)
class Window:
    """Events from `start_ms` (inclusive) to `end_ms` (exclusive) matching the filters."""

    start_ms: int
    end_ms: int
    user_ids: Sequence[str] | None = None
    session_ids: Sequence[str] | None = None
    project_ids: Sequence[str] | None = None


@dataclass(frozen=True)
class Total:
    key: str
    event_count: int
    quantity: int


class UsageRepository:
    """Aggregates over the usage events a tenancy base statement admits (one project's, or an org's)."""

    def __init__(self, session: AsyncSession, base: Select[tuple[UsageEvent]]) -> None:
        self._session = session
        self._base = base

    def _within(self, window: Window, entity_types: Sequence[str]) -> Select[tuple[UsageEvent]]:
        statement = self._base.where(
            UsageEvent.entity_type.in_(entity_types),
            UsageEvent.occurred_at_ms >= window.start_ms,
            UsageEvent.occurred_at_ms < window.end_ms,
        )
        for column, values in (
            (UsageEvent.user_id, window.user_ids),
            (UsageEvent.session_id, window.session_ids),
            (UsageEvent.project_id, window.project_ids),
        ):
            if values:
                statement = statement.where(column.in_(values))
        return statement

    async def by_entity_type(self, window: Window, entity_types: Sequence[str]) -> dict[str, Total]:
        statement = (
            self._within(window, entity_types)
            .with_only_columns(UsageEvent.entity_type, func.count(), func.coalesce(func.sum(UsageEvent.quantity), 0))
            .group_by(UsageEvent.entity_type)
        )
        rows = (await self._session.execute(statement)).all()
        return {row[0]: Total(row[0], int(row[1]), int(row[2])) for row in rows}

    async def groups(
        self, window: Window, entity_type: str, group_by: str, order_by: str, descending: bool, limit: int
    ) -> list[Total]:
        key = func.coalesce(GROUP_COLUMNS[group_by], "")
        count, quantity = func.count(), func.coalesce(func.sum(UsageEvent.quantity), 0)
        sort = {"key": key, "event_count": count, "total_quantity": quantity}[order_by]
        statement = (
            self._within(window, [entity_type])
            .with_only_columns(key, count, quantity)
            .group_by(key)
            .order_by(sort.desc() if descending else sort.asc(), key.asc())
            .limit(limit)
        )
        rows = (await self._session.execute(statement)).all()
        return [Total(str(row[0]), int(row[1]), int(row[2])) for row in rows]


class UsageWriter:
    """Meters events of one project; the organization is read from the project in the same statement."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        project_id: str,
        entity_type: str,
        occurred_at_ms: int,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        quantity: int = 1,
    ) -> None:
        values = {
            "entity_type": literal(entity_type),
            "occurred_at_ms": literal(occurred_at_ms, BigInteger),
            "quantity": literal(quantity, Integer),
            "user_id": literal(user_id),
            "session_id": literal(session_id),
        }
        source = select(Project.org_id, Project.id, *values.values()).where(Project.id == project_id)
        await self._session.execute(insert(UsageEvent).from_select(["org_id", "project_id", *values], source))
