from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Insert, Integer, bindparam, delete, exists, insert, literal, null, or_, select
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
    """What one execution leaves behind: a log row and its usage event."""

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


def _param(name: str, column: Any) -> Any:
    return bindparam(name, type_=column.type)


def _log_rows() -> Insert:
    """The INSERT of log rows, one per parameter set, each only while its project exists.

    The project's setting is read again by the INSERT itself, so a change made on another
    worker a moment ago wins over this worker's cached copy: a private project's payload is
    never stored, however stale the cache or however long the log waited in the queue.
    """
    project_id = _param("project_id", ToolExecutionLog.project_id)
    private = exists().where(ProjectSettings.project_id == project_id, ProjectSettings.log_visibility_setting == "dont_store_data")
    row = {
        "id": _param("log_id", ToolExecutionLog.id),
        "project_id": Project.id,
        "created_at": _param("started_at", ToolExecutionLog.created_at),
        "message": case((private, _param("private_message", ToolExecutionLog.message)), else_=_param("message", ToolExecutionLog.message)),
        "payload": case((private, null()), else_=bindparam("payload", type_=JSON(none_as_null=True))),
    }
    for name in _COPIED:
        row[name] = _param(name, ToolExecutionLog.__table__.c[name])
    # A project purged while its logs waited has no row left to own them: they are not written.
    return insert(ToolExecutionLog).from_select(list(row), select(*row.values()).where(Project.id == project_id))


def _usage_rows() -> Insert:
    """The INSERT of one `tool_calls` event per log, its organization read from the project."""
    event = {
        "entity_type": literal("tool_calls"),
        "occurred_at_ms": _param("occurred_at_ms", UsageEvent.occurred_at_ms),
        "quantity": literal(1, Integer),
        "tool_slug": _param("tool_slug", UsageEvent.tool_slug),
        "toolkit_slug": _param("toolkit_slug", UsageEvent.toolkit_slug),
        "connected_account_id": _param("connected_account_id", UsageEvent.connected_account_id),
        "user_id": _param("user_id", UsageEvent.user_id),
        "session_id": _param("session_id", UsageEvent.session_id),
        "log_id": _param("log_id", UsageEvent.log_id),
    }
    source = select(Project.org_id, Project.id, *event.values()).where(Project.id == _param("project_id", UsageEvent.project_id))
    return insert(UsageEvent).from_select(["org_id", "project_id", *event], source)


# The log's columns that are the entry's fields of the same name.
_COPIED = (
    "duration_ms", "kind", "tool_slug", "toolkit_slug", "connected_account_id", "auth_config_id",
    "user_id", "session_id", "request_id", "status", "http_status", "source",
)
# Built once: each batch only binds its values.
_LOG_ROWS = _log_rows()
_USAGE_ROWS = _usage_rows()


class LogWriter:
    """Writes execution logs with their usage events; never reads a tenant's rows."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_many(self, entries: Sequence[Entry]) -> None:
        """Inserts the log rows and the `tool_calls` events that meter them: two statements per batch."""
        rows = [
            {
                "log_id": entry.log_id,
                "project_id": entry.project_id,
                "started_at": entry.started_at,
                "occurred_at_ms": int(entry.started_at.timestamp() * 1000),
                "message": entry.message,
                "private_message": entry.private_message,
                "payload": entry.payload,
                **{name: getattr(entry, name) for name in _COPIED},
            }
            for entry in entries
        ]
        # Core executemany: one round trip per statement on PostgreSQL, whatever the batch's size.
        connection = await self._session.connection()
        await connection.execute(_LOG_ROWS, rows)
        await connection.execute(_USAGE_ROWS, rows)


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
