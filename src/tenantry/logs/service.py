"""Tool-execution logs: written by every execution with its usage event, searched, and expired.

With the project's `log_visibility_setting` at `dont_store_data` a log keeps only its audit
fields (tool, time, status, ids, duration): the arguments and the response are never written,
and the message says nothing the response said. Switching back does not bring them back.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.auth.principal import Principal
from tenantry.config import get_settings
from tenantry.db import unit_of_work
from tenantry.errors import InvalidRequest, LogNotFound
from tenantry.kit import ids
from tenantry.kit.pagination import PageRequest
from tenantry.kit.time import utcnow
from tenantry.logs import schemas
from tenantry.logs.repository import Entry, LogFilter, LogRepository, LogWriter, RetentionRepository
from tenantry.models import ToolExecutionLog

__all__ = ["Entry", "delete_expired", "get", "new_log_id", "record", "search"]

logger = logging.getLogger("tenantry.logs")

# Logs deleted per transaction by the retention sweep, so no sweep holds a lock for long.
RETENTION_BATCH = 5000
STATUSES = ("success", "failed")


def new_log_id() -> str:
    return ids.nano_id("log")


async def record(session: AsyncSession, entry: Entry) -> None:
    """Writes the log of one execution and meters it as one `tool_calls` event, in this transaction.

    Executions do not call this: they queue their logs (tenantry.logs.queue)."""
    await LogWriter(session).add_many([entry])


def _moment(milliseconds: float) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def search(session: AsyncSession, principal: Principal, query: schemas.LogSearch) -> schemas.LogList:
    since = until = None
    if query.time_range is not None:
        if query.time_range.from_ >= query.time_range.to:
            raise InvalidRequest.field("time_range.from", "must be before time_range.to")
        since, until = _moment(query.time_range.from_), _moment(query.time_range.to)
    filters = []
    for index, item in enumerate(query.filters):
        if item.field == schemas.FilterField.status and item.operator in ("==", "!=") and item.value not in STATUSES:
            raise InvalidRequest.field(f"filters[{index}].value", "a status is success or failed")
        filters.append(LogFilter(item.field.value, item.operator.value, item.value))
    request = PageRequest.parse(query.limit, query.cursor, query.limit)
    rows = await LogRepository(session, principal).page(filters, since, until, request)
    shown, next_cursor = request.slice(rows, lambda row: (row.created_at, row.id))
    return schemas.LogList(logs=[_item(row) for row in shown], next_cursor=next_cursor)


async def get(session: AsyncSession, principal: Principal, log_id: str) -> schemas.LogDetail:
    log = await LogRepository(session, principal).get(log_id) if ids.looks_like("log", log_id) else None
    if log is None:
        raise LogNotFound()
    start = _millis(log.created_at)
    return schemas.LogDetail(
        **_item(log).model_dump(),
        timings=schemas.Timings(start_time=start, end_time=start + log.duration_ms),
        context=schemas.Context(session_id=log.session_id, trace_id=None, request_id=log.request_id),
        source=schemas.Source(host=log.source),
        data=log.payload or {},
    )


def _item(log: ToolExecutionLog) -> schemas.LogItem:
    failed = log.status == "failed"
    return schemas.LogItem(
        id=log.id,
        timestamp=log.created_at,
        type="proxy.execution" if log.kind == "proxy" else "tool.execution",
        status="failed" if failed else "success",
        level="error" if failed else "info",
        message=log.message,
        metadata={
            "tool_slug": log.tool_slug,
            "toolkit_slug": log.toolkit_slug,
            "connected_account_id": log.connected_account_id,
            "auth_config_id": log.auth_config_id,
            "user_id": log.user_id,
            "session_id": log.session_id,
            "request_id": log.request_id,
            "http_status": log.http_status,
            "source": log.source,
            "data_stored": log.payload is not None,
        },
        metrics={"duration_ms": log.duration_ms},
        parent=None,
    )


async def delete_expired(sessionmaker: async_sessionmaker[AsyncSession], retention_days: float | None = None) -> int:
    """Deletes every log older than the retention period, a batch per transaction; returns how many."""
    days = retention_days if retention_days is not None else get_settings().log_retention_days
    before = utcnow() - timedelta(days=days)
    deleted = 0
    while True:
        async with unit_of_work(sessionmaker) as session:
            count = await RetentionRepository(session).delete_batch(before, RETENTION_BATCH)
        deleted += count
        if count < RETENTION_BATCH:
            break
    if deleted:
        logger.info("deleted %d tool execution logs older than %s days", deleted, days)
    return deleted
