"""The execution log queue: batches written in order, no log lost to a full queue, a bad row, or a down database."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import create_engine, create_sessionmaker, unit_of_work
from tenantry.kit.time import utcnow
from tenantry.logs import service as logs
from tenantry.logs.queue import LogQueue
from tenantry.logs.repository import Entry
from tenantry.models import ToolExecutionLog, UsageEvent
from tests.factories import ProjectWithKey
from tests.tools.helpers import execute


def entry(project_id: str, log_id: str | None = None) -> Entry:
    return Entry(
        log_id=log_id or logs.new_log_id(), project_id=project_id, kind="tool", tool_slug="T", toolkit_slug="t",
        connected_account_id=None, auth_config_id=None, user_id="u", session_id=None, request_id=None,
        started_at=utcnow(), duration_ms=1, status="success", message="T succeeded", private_message="T succeeded",
        http_status=200, source="api", payload={"response": {"data": {}}},
    )


def queue(sessionmaker: async_sessionmaker[AsyncSession], **limits: int) -> LogQueue:
    return LogQueue(sessionmaker, interval=60, batch_size=limits.get("batch_size", 500), max_pending=limits.get("max_pending", 10_000))


async def stored(sessionmaker: async_sessionmaker[AsyncSession], log_ids: list[str]) -> tuple[int, int]:
    async with unit_of_work(sessionmaker, read_only=True) as session:
        rows = await session.scalar(select(func.count()).select_from(ToolExecutionLog).where(ToolExecutionLog.id.in_(log_ids)))
        metered = await session.scalar(select(func.count()).select_from(UsageEvent).where(UsageEvent.log_id.in_(log_ids)))
    return rows or 0, metered or 0


async def a_duplicate_of_a_stored_log(sessionmaker: async_sessionmaker[AsyncSession], project_id: str) -> Entry:
    """An entry the database refuses: its log id is already stored."""
    first = entry(project_id)
    async with unit_of_work(sessionmaker) as session:
        await logs.record(session, first)
    return entry(project_id, first.log_id)


class TestBatches:
    async def test_a_flush_writes_every_queued_log_with_its_usage_in_batches(
        self, sessionmaker: async_sessionmaker[AsyncSession], project: ProjectWithKey
    ) -> None:
        logs_queue = queue(sessionmaker, batch_size=7)
        entries = [entry(project.id) for _ in range(30)]
        for queued in entries:
            logs_queue.put(queued)
        assert await stored(sessionmaker, [e.log_id for e in entries]) == (0, 0)
        await logs_queue.flush()
        assert logs_queue.pending == 0
        assert await stored(sessionmaker, [e.log_id for e in entries]) == (30, 30)

    async def test_a_full_queue_is_written_before_the_next_call_goes_out(
        self, sessionmaker: async_sessionmaker[AsyncSession], project: ProjectWithKey
    ) -> None:
        logs_queue = queue(sessionmaker, max_pending=3)
        entries = [entry(project.id) for _ in range(3)]
        for queued in entries:
            await logs_queue.make_room()
            logs_queue.put(queued)
        assert logs_queue.pending == 3
        await logs_queue.make_room()
        assert logs_queue.pending == 0
        assert await stored(sessionmaker, [e.log_id for e in entries]) == (3, 3)

    async def test_a_row_the_database_refuses_does_not_hold_back_the_others(
        self, sessionmaker: async_sessionmaker[AsyncSession], project: ProjectWithKey
    ) -> None:
        logs_queue = queue(sessionmaker)
        duplicate, others = await a_duplicate_of_a_stored_log(sessionmaker, project.id), [entry(project.id) for _ in range(4)]
        for queued in [others[0], duplicate, *others[1:]]:
            logs_queue.put(queued)
        await logs_queue.flush()
        assert logs_queue.pending == 0 and logs_queue.refused == 1
        assert await stored(sessionmaker, [e.log_id for e in others]) == (4, 4)

    async def test_a_refused_log_alone_is_not_retried_for_ever(
        self, sessionmaker: async_sessionmaker[AsyncSession], project: ProjectWithKey
    ) -> None:
        logs_queue = queue(sessionmaker)
        logs_queue.put(await a_duplicate_of_a_stored_log(sessionmaker, project.id))
        await logs_queue.flush()
        assert logs_queue.pending == 0 and logs_queue.refused == 1

    async def test_logs_of_a_purged_project_are_not_written(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        logs_queue = queue(sessionmaker)
        gone = entry("pr_PurgedLongAgo")
        logs_queue.put(gone)
        await logs_queue.flush()
        assert logs_queue.pending == 0 and logs_queue.refused == 0
        assert await stored(sessionmaker, [gone.log_id]) == (0, 0)


class TestDatabaseDown:
    async def test_logs_stay_queued_until_the_database_answers(
        self, sessionmaker: async_sessionmaker[AsyncSession], project: ProjectWithKey
    ) -> None:
        unreachable = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
        try:
            logs_queue = queue(create_sessionmaker(unreachable))
            entries = [entry(project.id) for _ in range(3)]
            for queued in entries:
                logs_queue.put(queued)
            try:
                await logs_queue.flush()
            except Exception:
                pass
            else:
                raise AssertionError("a flush to an unreachable database succeeded")
            assert logs_queue.pending == 3 and logs_queue.refused == 0
        finally:
            await unreachable.dispose()
        # The same logs, handed to a queue whose database answers, are all written.
        recovered = queue(sessionmaker)
        for queued in entries:
            recovered.put(queued)
        await recovered.flush()
        assert await stored(sessionmaker, [e.log_id for e in entries]) == (3, 3)


class TestReadingAfterExecuting:
    async def test_a_call_is_in_the_logs_and_the_usage_as_soon_as_it_returns(
        self, client: httpx.AsyncClient, project: ProjectWithKey
    ) -> None:
        executed = (await execute(client, project, "LOCALNOAUTH_LIST")).json()
        listed = (await client.post("/logs/tool_execution", json={}, headers=project.headers)).json()
        assert [log["id"] for log in listed["logs"]] == [executed["log_id"]]
        summary = (await client.post("/project/usage/summary", json={}, headers=project.headers)).json()
        assert summary["entities"]["tool_calls"]["event_count"] == 1
