"""The outbox on its own, in-process against the test database: claims, leases, retries, dedupe.

Each test uses a job kind of its own, which the running test servers have no handler for and so
never claim.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry import outbox
from tenantry.db import unit_of_work
from tenantry.kit.time import utcnow
from tenantry.models import OutboxJob
from tests.webhooks.receiver import eventually


@pytest.fixture
def kind() -> str:
    return f"test.outbox.{secrets.token_hex(4)}"


@asynccontextmanager
async def running(worker: outbox.Worker) -> AsyncIterator[None]:
    task = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def jobs_of(sessionmaker: async_sessionmaker[AsyncSession], kind: str) -> list[OutboxJob]:
    async with unit_of_work(sessionmaker, read_only=True) as session:
        return list((await session.scalars(select(OutboxJob).where(OutboxJob.kind == kind))).all())


def recorder(runs: list[str], delay: float = 0.0) -> outbox.Handler:
    async def handle(job: outbox.Job) -> outbox.Outcome:
        runs.append(job.payload["n"])
        await asyncio.sleep(delay)
        return outbox.Outcome.done()

    return handle


class TestClaims:
    async def test_two_workers_share_the_jobs_without_running_one_twice(
        self, sessionmaker: async_sessionmaker[AsyncSession], kind: str
    ) -> None:
        async with unit_of_work(sessionmaker) as session:
            for number in range(60):
                await outbox.enqueue(session, kind, {"n": str(number)})
        runs: list[str] = []
        first = outbox.Worker(sessionmaker, {kind: recorder(runs, 0.02)}, concurrency=4, poll_interval=0.05)
        second = outbox.Worker(sessionmaker, {kind: recorder(runs, 0.02)}, concurrency=4, poll_interval=0.05)
        async with running(first), running(second):
            await eventually(lambda: len(runs) >= 60, what="every job run")
            await asyncio.sleep(0.3)
        assert Counter(runs) == Counter(str(number) for number in range(60))
        assert await jobs_of(sessionmaker, kind) == []

    async def test_a_rolled_back_enqueue_leaves_no_job(self, sessionmaker: async_sessionmaker[AsyncSession], kind: str) -> None:
        with pytest.raises(RuntimeError):
            async with unit_of_work(sessionmaker) as session:
                await outbox.enqueue(session, kind, {"n": "0"})
                raise RuntimeError("the change fails")
        assert await jobs_of(sessionmaker, kind) == []

    async def test_a_key_names_one_waiting_job(self, sessionmaker: async_sessionmaker[AsyncSession], kind: str) -> None:
        later = utcnow() + timedelta(hours=1)
        async with unit_of_work(sessionmaker) as session:
            await outbox.enqueue(session, kind, {"n": "0"}, key="the-one", due_at=later)
        async with unit_of_work(sessionmaker) as session:
            await outbox.enqueue(session, kind, {"n": "0"}, key="the-one", due_at=later + timedelta(hours=1))
        (job,) = await jobs_of(sessionmaker, kind)
        assert job.due_at == later
        async with unit_of_work(sessionmaker) as session:
            await outbox.enqueue(session, kind, {"n": "0"}, key="the-one")
        (job,) = await jobs_of(sessionmaker, kind)
        assert job.due_at <= utcnow()
        async with unit_of_work(sessionmaker) as session:
            assert await outbox.cancel(session, kind, ["the-one"]) == 1
        assert await jobs_of(sessionmaker, kind) == []


class TestFailures:
    async def test_a_job_whose_worker_died_runs_again_after_its_lease(
        self, sessionmaker: async_sessionmaker[AsyncSession], kind: str
    ) -> None:
        async with unit_of_work(sessionmaker) as session:
            await outbox.enqueue(session, kind, {"n": "0"})
        # What a process killed mid-job leaves behind: the job claimed, its lease running.
        async with unit_of_work(sessionmaker) as session:
            await session.execute(
                update(OutboxJob)
                .where(OutboxJob.kind == kind)
                .values(claim_token="a-dead-process", attempts=1, due_at=utcnow() + timedelta(seconds=1))
            )
        runs: list[str] = []
        async with running(outbox.Worker(sessionmaker, {kind: recorder(runs)}, poll_interval=0.05)):
            await asyncio.sleep(0.5)
            assert runs == []  # not while the lease lasts
            await eventually(lambda: runs == ["0"], timeout=10, what="the job taken over")
            await asyncio.sleep(0.2)
        assert await jobs_of(sessionmaker, kind) == []

    async def test_a_handler_that_raises_is_retried_with_backoff(
        self, sessionmaker: async_sessionmaker[AsyncSession], kind: str
    ) -> None:
        async with unit_of_work(sessionmaker) as session:
            await outbox.enqueue(session, kind, {"n": "0"})
        calls: list[int] = []

        async def flaky(job: outbox.Job) -> outbox.Outcome:
            calls.append(job.attempts)
            if job.attempts == 1:
                raise ConnectionError("the first try fails")
            return outbox.Outcome.done()

        async with running(outbox.Worker(sessionmaker, {kind: flaky}, poll_interval=0.05)):
            await eventually(lambda: len(calls) == 1)
            await asyncio.sleep(0.3)
            (waiting,) = await jobs_of(sessionmaker, kind)
            assert waiting.claim_token is None and waiting.last_error == "ConnectionError: the first try fails"
            assert waiting.due_at > utcnow()
            await eventually(lambda: calls == [1, 2], timeout=10, what="the retry")
            await asyncio.sleep(0.2)
        assert await jobs_of(sessionmaker, kind) == []

    async def test_a_job_is_not_finished_without_its_record(
        self, sessionmaker: async_sessionmaker[AsyncSession], kind: str
    ) -> None:
        async with unit_of_work(sessionmaker) as session:
            await outbox.enqueue(session, kind, {"n": "0"})
        calls: list[int] = []

        async def record(session: AsyncSession) -> None:
            raise RuntimeError("the record cannot be written")

        async def handle(job: outbox.Job) -> outbox.Outcome:
            calls.append(job.attempts)
            return outbox.Outcome.done(record)

        async with running(outbox.Worker(sessionmaker, {kind: handle}, lease_seconds=60, poll_interval=0.05)):
            await eventually(lambda: calls == [1])
            await asyncio.sleep(0.3)
        # Still claimed: it runs again when its lease ends, rather than being lost without its record.
        (job,) = await jobs_of(sessionmaker, kind)
        assert job.claim_token is not None and job.due_at > utcnow() + timedelta(seconds=30)
        async with unit_of_work(sessionmaker) as session:
            await session.execute(delete(OutboxJob).where(OutboxJob.kind == kind))


class TestNotes:
    async def test_the_notes_of_jobs_settled_together_are_written_together(
        self, sessionmaker: async_sessionmaker[AsyncSession], kind: str
    ) -> None:
        async with unit_of_work(sessionmaker) as session:
            for n in range(40):
                await outbox.enqueue(session, kind, {"n": str(n)})
        written: list[list[str]] = []

        class Noting:
            async def __call__(self, job: outbox.Job) -> outbox.Outcome:
                await asyncio.sleep(0.01)
                return outbox.Outcome.done(note=job.payload["n"])

            async def record_all(self, session: AsyncSession, notes: list[str]) -> None:
                # In the transaction that finishes the jobs: their rows are still there to see.
                left = await session.scalars(select(OutboxJob.payload).where(OutboxJob.kind == kind))
                assert set(notes) <= {payload["n"] for payload in left}
                written.append(notes)

        async with running(outbox.Worker(sessionmaker, {kind: Noting()}, concurrency=16, poll_interval=0.05)):
            await eventually(lambda: sum(len(notes) for notes in written) == 40)
            await asyncio.sleep(0.2)
        assert sorted(note for notes in written for note in notes) == sorted(str(n) for n in range(40))
        # Fewer writes than jobs: each settle hands over every note that finished meanwhile.
        assert len(written) < 40
        assert await jobs_of(sessionmaker, kind) == []

    async def test_a_note_whose_write_fails_leaves_its_job_claimed(
        self, sessionmaker: async_sessionmaker[AsyncSession], kind: str
    ) -> None:
        async with unit_of_work(sessionmaker) as session:
            await outbox.enqueue(session, kind, {"n": "0"})

        tried: list[list[str]] = []

        class Failing:
            async def __call__(self, job: outbox.Job) -> outbox.Outcome:
                return outbox.Outcome.done(note="x")

            async def record_all(self, session: AsyncSession, notes: list[str]) -> None:
                tried.append(notes)
                raise RuntimeError("the notes cannot be written")

        async with running(outbox.Worker(sessionmaker, {kind: Failing()}, lease_seconds=60, poll_interval=0.05)):
            await eventually(lambda: tried == [["x"]])
            await asyncio.sleep(0.3)
        (job,) = await jobs_of(sessionmaker, kind)
        assert job.claim_token is not None and job.due_at > utcnow() + timedelta(seconds=30)
        async with unit_of_work(sessionmaker) as session:
            await session.execute(delete(OutboxJob).where(OutboxJob.kind == kind))


class TestWakeUps:
    async def test_a_job_committed_elsewhere_wakes_a_postgresql_worker_at_once(
        self, sessionmaker: async_sessionmaker[AsyncSession], kind: str, database_url: str
    ) -> None:
        if not database_url.startswith("postgresql"):
            pytest.skip("SQLite has no notifications: a job another process commits waits for the next poll")
        runs: list[str] = []
        # It would take a minute to poll: only the notification can wake it in time.
        async with running(outbox.Worker(sessionmaker, {kind: recorder(runs)}, poll_interval=60)):
            await asyncio.sleep(0.5)  # listening, and idle
            for n in range(2):
                # Committed without unit_of_work, so no wake-up of this process's workers: as another process would.
                async with sessionmaker() as session:
                    await outbox.enqueue(session, kind, {"n": str(n)})
                    await session.commit()
                await eventually(lambda: len(runs) == n + 1, timeout=3, what=f"job {n} to run")
        assert runs == ["0", "1"]
