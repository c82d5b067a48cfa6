from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ColumnElement, Insert, Integer, delete, exists, insert, literal, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import case

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.kit.pagination import PageRequest
from tenantry.models import Project, ProjectSettings, ToolExecutionLog, UsageEvent

# Log columns a search filter may name (reference §3.15), and `log_id` for the id itself.
FILTER_COLUMNS: dict[str, Any] = {
    "tool_slug": ToolExecutionLog.tool_slug,
    "toolkit_slug": ToolExecutionLog.toolkit_slug,
    "connected_account_id": ToolExecutionLog.connected_account_id,
    "auth_config_id": ToolExecutionLog.auth_config_id,
    "status": ToolExecutionLog.status,
    "user_id": ToolExecutionLog.user_id,
    "session_id": ToolExecutionLog.session_id,
    "request_id": ToolExecutionLog.request_id,
    "log_id": ToolExecutionLog.id,
    # No sandboxes here: every log's sandbox_id is empty.
    "sandbox_id": None,
}


@dataclass(frozen=True)
class LogFilter:
    field: str
    operator: str
    value: str

    def clause(self) -> ColumnElement[bool]:
        column = FILTER_COLUMNS[self.field]
        if column is None:
            # An absent value equals nothing and differs from everything.
            return literal(self.operator in ("!=", "not_contains"))
        if self.operator == "==":
            return column == self.value  # type: ignore[no-any-return]
        if self.operator == "!=":
            return or_(column.is_(None), column != self.value)
        contained = column.ilike(f"%{_escape(self.value)}%", escape="\\")
        if self.operator == "contains":
            return contained  # type: ignore[no-any-return]
        return or_(column.is_(None), ~contained)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class Entry:
    """What one execution leaves behind: a log row and, in the same statement, its usage event."""

    log_id: str
    project_id: str
    kind: str
    tool_slug: str
    toolkit_slug: str
    connected_account_id: str | None
    auth_config_id: str | None
    user_id: str | None
    session_id: str | None
    request_id: str | None
    started_at: datetime
    duration_ms: int
    status: str
    # The message kept when the project stores data, and the one kept when it does not (no payload in it).
    message: str
    private_message: str
    http_status: int | None
    source: str
    payload: dict[str, Any] | None


class LogWriter:
    """Writes execution logs with their usage events; never reads a tenant's rows."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def log_insert(self, entry: Entry) -> Insert:
        """The INSERT of the log row alone."""
        # The project's setting is read again by the INSERT itself, so a change made on another
        # worker a moment ago wins over this worker's cached copy: a private project's payload
        # is never stored, however stale the cache.
        private = exists().where(
            ProjectSettings.project_id == entry.project_id, ProjectSettings.log_visibility_setting == "dont_store_data"
        )
        # With no payload to keep, NULL alone: PostgreSQL types a CASE of two NULLs as text.
        payload = null() if entry.payload is None else case((private, null()), else_=literal(entry.payload, JSON))
        return insert(ToolExecutionLog).values(
            id=entry.log_id,
            project_id=entry.project_id,
            created_at=entry.started_at,
            duration_ms=entry.duration_ms,
            kind=entry.kind,
            tool_slug=entry.tool_slug,
            toolkit_slug=entry.toolkit_slug,
            connected_account_id=entry.connected_account_id,
            auth_config_id=entry.auth_config_id,
            user_id=entry.user_id,
            session_id=entry.session_id,
            request_id=entry.request_id,
            status=entry.status,
            message=case((private, literal(entry.private_message)), else_=literal(entry.message)),
            http_status=entry.http_status,
            source=entry.source,
            payload=payload,
        )

    async def add(self, entry: Entry) -> None:
        """Inserts the log row and the `tool_calls` event that meters it."""
        log = self.log_insert(entry)
        event_values = {
            "entity_type": literal("tool_calls"),
            "occurred_at_ms": literal(int(entry.started_at.timestamp() * 1000), BigInteger),
            "quantity": literal(1, Integer),
            "tool_slug": literal(entry.tool_slug),
            "toolkit_slug": literal(entry.toolkit_slug),
            "connected_account_id": literal(entry.connected_account_id),
            "user_id": literal(entry.user_id),
            "session_id": literal(entry.session_id),
        }
        if self._session.bind.dialect.name == "postgresql":
            # One statement, so one round trip: the usage event is inserted from the log row the
            # same statement inserts, and its organization read from the project there too.
            logged = log.returning(ToolExecutionLog.id, ToolExecutionLog.project_id).cte("logged")
            source = select(
                Project.org_id, Project.id, *event_values.values(), logged.c.id
            ).join(logged, logged.c.project_id == Project.id)
            await self._session.execute(
                insert(UsageEvent).from_select(["org_id", "project_id", *event_values, "log_id"], source)
            )
            return
        # SQLite has no INSERT in a WITH clause; it runs in this process, so a second statement
        # costs a call, not a round trip over the network.
        await self._session.execute(log)
        source = select(Project.org_id, Project.id, *event_values.values(), literal(entry.log_id)).where(
            Project.id == entry.project_id
        )
        await self._session.execute(insert(UsageEvent).from_select(["org_id", "project_id", *event_values, "log_id"], source))


class LogRepository:
    """The calling project's execution logs."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._principal = principal

    async def get(self, log_id: str) -> ToolExecutionLog | None:
        return await self._session.scalar(tenancy.project_logs(self._principal).where(ToolExecutionLog.id == log_id))

    async def page(
        self, filters: Sequence[LogFilter], since: datetime | None, until: datetime | None, request: PageRequest
    ) -> Sequence[ToolExecutionLog]:
        statement = tenancy.project_logs(self._principal)
        for log_filter in filters:
            statement = statement.where(log_filter.clause())
        if since is not None:
            statement = statement.where(ToolExecutionLog.created_at >= since)
        if until is not None:
            statement = statement.where(ToolExecutionLog.created_at < until)
        statement = request.apply(statement, ToolExecutionLog.created_at, ToolExecutionLog.id)
        return (await self._session.scalars(statement)).all()


class RetentionRepository:
    """Deletes logs past their retention in every project: a sweep, not a tenant's read."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def delete_batch(self, before: datetime, limit: int) -> int:
        batch = tenancy.expired_logs(before).limit(limit).scalar_subquery()
        result = await self._session.execute(delete(ToolExecutionLog).where(ToolExecutionLog.id.in_(batch)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
