"""The transactional outbox: work written in the request's transaction, done after it commits.

A service that wants something done outside its transaction (a webhook delivery, ...) calls
`enqueue` with the session it is already using. The job is a row in that transaction: a rollback
drops it with everything else, a commit makes it durable before any worker can see it, and so
nothing is ever done for a change that did not happen, nor lost for one that did. After the commit
the workers of this process are woken at once; on PostgreSQL the transaction also notifies every
other process's workers (LISTEN/NOTIFY), and on SQLite they find the job on their next poll.

Workers claim due jobs in a short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so any
number of workers claim disjoint jobs without waiting on each other; on SQLite `BEGIN IMMEDIATE`
serializes the claim instead). A claim moves the job's `due_at` to the end of a lease and stamps
it with a token, then the handler runs with no transaction open. Its outcome (with whatever the
handler records) is written afterwards, together with the outcomes of the other jobs that finished
meanwhile, in a transaction that only touches a job while its token is still the one it was
claimed with. A worker renews the leases of the jobs it holds while they run, so leases can be
short: a worker that dies mid-job leaves the job due again within one lease (seconds), and the
next claim tells the handler that the job was abandoned (`Job.reclaimed`), so it can record that
its earlier run left no trace. Jobs run at least once, and handlers must tolerate running twice.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import after_commit, unit_of_work
from tenantry.kit import ids
from tenantry.kit.time import utcnow
from tenantry.models import OutboxJob

logger = logging.getLogger("tenantry.outbox")

# A handler that raises is retried with exponential backoff up to this many times, then dropped.
MAX_UNEXPECTED_FAILURES = 25
MAX_BACKOFF_SECONDS = 3600.0
ERROR_LENGTH = 500
# How long an idle worker waits after being woken before it claims.
WAKE_COALESCE_SECONDS = 0.01
# On shutdown, jobs in flight get this long to finish before they are cut short (and so run again
# once their lease ends).
SHUTDOWN_GRACE_SECONDS = 10.0

# Job rows are never loaded into the session that settles them: an UPDATE or DELETE need not look
# for them there (the ORM's default evaluates its WHERE against every object the session holds).
_UNSYNCHRONIZED = {"synchronize_session": False}

# On PostgreSQL a transaction that enqueues notifies this channel, and every worker listens on it,
# so a job written by one process is picked up at once by the workers of all the others.
NOTIFY_CHANNEL = "tenantry_outbox"
_ENQUEUED = "tenantry.outbox.enqueued"
_NOTIFY = select(func.pg_notify(NOTIFY_CHANNEL, ""))
# How long a worker whose listening connection broke waits before listening again (it polls meanwhile).
RELISTEN_SECONDS = 5.0

# The wake-up events of the workers running in this process.
_local_workers: set[asyncio.Event] = set()


@dataclass(frozen=True)
class Job:
    """A claimed job, as its handler sees it. `attempts` counts this claim."""

    id: str
    kind: str
    key: str | None
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    claim_token: str
    # Claimed before by a worker that never recorded an outcome (it died, or lost the database):
    # the handler may have run, in part or whole, without a trace.
    reclaimed: bool = False


@dataclass(frozen=True)
class Outcome:
    """What became of a job: finished (`retry_at` None) or to run again at `retry_at`.

    What the handler learned is written in the same transaction that finishes or reschedules the
    job, so the two are committed together: `record` runs there, or, for a handler with a
    `record_all` method (a `RecordingHandler`), `note` is handed to it with the notes of every
    other job of its kind settled in that transaction, so that it writes them all in a few statements.
    """

    retry_at: datetime | None = None
    error: str | None = None
    record: Callable[[AsyncSession], Awaitable[None]] | None = field(default=None, compare=False)
    note: Any = field(default=None, compare=False)

    @classmethod
    def done(cls, record: Callable[[AsyncSession], Awaitable[None]] | None = None, *, note: Any = None) -> Outcome:
        return cls(record=record, note=note)

    @classmethod
    def retry(
        cls,
        at: datetime,
        error: str | None = None,
        record: Callable[[AsyncSession], Awaitable[None]] | None = None,
        *,
        note: Any = None,
    ) -> Outcome:
        return cls(retry_at=at, error=error, record=record, note=note)


Handler = Callable[[Job], Awaitable[Outcome]]


@runtime_checkable
class RecordingHandler(Protocol):
    """A handler that writes its jobs' notes together (see Outcome)."""

    async def __call__(self, job: Job) -> Outcome: ...

    async def record_all(self, session: AsyncSession, notes: list[Any]) -> None: ...


def wake() -> None:
    """Tells this process's workers there may be new work."""
    for event in _local_workers:
        event.set()


def _insert_statement(dialect: str, keyed: bool) -> Any:
    """The INSERT of a job, built once per dialect and kind of job (values are bound per call)."""
    statement = _INSERTS.get((dialect, keyed))
    if statement is None:
        table = OutboxJob.__table__
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        statement = insert
        if keyed:
            statement = insert.on_conflict_do_update(
                index_elements=[table.c.kind, table.c.key],
                set_={"due_at": insert.excluded.due_at},
                where=table.c.claim_token.is_(None) & (table.c.due_at > insert.excluded.due_at),
            )
        _INSERTS[(dialect, keyed)] = statement
    return statement


_INSERTS: dict[tuple[str, bool], Any] = {}


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: Mapping[str, Any],
    *,
    key: str | None = None,
    due_at: datetime | None = None,
) -> None:
    """Adds a job to the caller's transaction, due at `due_at` (now when omitted).

    When `key` names a job of this kind that is still waiting, no second job is made: the waiting
    one becomes due at the earlier of the two moments. A job that a worker is running is left alone.
    """
    now = utcnow()
    dialect = session.get_bind().dialect.name
    values = {"id": ids.ulid(), "kind": kind, "key": key, "payload": dict(payload), "due_at": due_at or now, "attempts": 0, "created_at": now}
    # Core statements on the session's connection (its transaction), without the ORM's per-statement work.
    connection = await session.connection()
    await connection.execute(_insert_statement(dialect, key is not None), values)
    if not session.info.get(_ENQUEUED):
        # Once per transaction, however many jobs it adds: the wake-ups after its commit.
        session.info[_ENQUEUED] = True
        if dialect == "postgresql":
            # Delivered to every listening worker when this transaction commits, never if it rolls back.
            await connection.execute(_NOTIFY)
        after_commit(session, lambda: session.info.pop(_ENQUEUED, None))
        after_commit(session, wake)


async def cancel(session: AsyncSession, kind: str, keys: Collection[str] | Select[Any]) -> int:
    """Drops the jobs of `kind` whose key is among `keys` (a collection or a one-column select)."""
    result = await session.execute(delete(OutboxJob).where(OutboxJob.kind == kind, OutboxJob.key.in_(keys)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _kind_of_job(session: AsyncSession) -> Any:
    """The job's kind, as a claim filters on it.

    On SQLite, `kind IN (...)` makes the planner read every due job of those kinds through the
    (kind, key) unique index and sort them all, on every claim: with a backlog, a claim's cost
    grows with the backlog. `kind || ''` keeps that term off any index (SQLite's documented way
    of steering its planner), so the claim walks ix_outbox_jobs_due_at in order and stops after
    `limit` rows. PostgreSQL's planner, which has statistics, takes that path by itself.
    """
    kind = OutboxJob.__table__.c.kind
    return kind.op("||")("") if session.get_bind().dialect.name == "sqlite" else kind


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2.0**attempts, MAX_BACKOFF_SECONDS))


class Worker:
    """Claims due jobs of the kinds it has handlers for and runs up to `concurrency` at once.

    While a backlog lasts, slots are refilled in batches (a quarter of them at a time) rather than
    one claim per finished job, and finished jobs are settled together, one transaction for all
    that finished meanwhile: the transactions per job stay few however busy the worker is.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: Mapping[str, Handler],
        *,
        concurrency: int = 32,
        lease_seconds: float = 60.0,
        poll_interval: float = 1.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._handlers = dict(handlers)
        self._concurrency = concurrency
        self._refill = max(1, concurrency // 4)
        self._lease = timedelta(seconds=lease_seconds)
        self._poll_interval = poll_interval
        self._running: set[asyncio.Task[None]] = set()
        self._finished: list[tuple[Job, Outcome]] = []
        # Jobs claimed and not yet settled (id -> claim token), whose leases _renew_forever extends.
        self._claimed: dict[str, str] = {}
        self._wake = asyncio.Event()
        self._settle_wanted = asyncio.Event()
        self._stopping = False

    async def run(self) -> None:
        """Works until cancelled. Jobs cut short by cancellation run again when their lease ends."""
        _local_workers.add(self._wake)
        settler = asyncio.create_task(self._settle_forever())
        renewer = asyncio.create_task(self._renew_forever())
        listener = asyncio.create_task(self._listen_forever())
        # Whether the last claim took all it asked for, so more work is probably due.
        backlog = False
        try:
            while True:
                self._wake.clear()
                free = self._concurrency - len(self._running)
                if free > 0 and (free >= self._refill or not backlog):
                    try:
                        jobs = await self._claim(free, peek=not backlog)
                    except Exception:
                        logger.warning("could not claim outbox jobs; will retry", exc_info=True)
                        jobs = []
                    backlog = len(jobs) == free
                    for job in jobs:
                        task = asyncio.create_task(self._run(job))
                        self._running.add(task)
                        task.add_done_callback(self._running.discard)
                        task.add_done_callback(lambda _task: self._wake.set())
                if backlog and self._running:
                    await self._wake.wait()
                    continue
                try:
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)
                except TimeoutError:
                    continue
                # Woken by a commit: let the request that committed finish answering first, and
                # let the jobs of commits right behind it join the same claim.
                await asyncio.sleep(WAKE_COALESCE_SECONDS)
        finally:
            _local_workers.discard(self._wake)
            # What is in flight may finish, and what finished is written, rather than run again
            # after its lease by another process.
            if self._running:
                await asyncio.wait(self._running, timeout=SHUTDOWN_GRACE_SECONDS)
            for task in self._running:
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)
            self._stopping = True
            self._settle_wanted.set()
            await asyncio.gather(settler, return_exceptions=True)
            await self._settle_finished()
            renewer.cancel()
            listener.cancel()
            await asyncio.gather(renewer, listener, return_exceptions=True)

    async def _listen_forever(self) -> None:
        """On PostgreSQL, wakes this worker whenever any process commits a job (LISTEN/NOTIFY).

        The connection is held for the worker's life; when it breaks, the worker polls every
        `poll_interval` until it listens again. Other databases rely on polling and on the wake
        of commits made in this process.
        """
        engine = self._sessionmaker.kw["bind"]
        if engine.dialect.name != "postgresql":
            return
        while True:
            try:
                async with engine.connect() as connection:
                    raw = (await connection.get_raw_connection()).driver_connection
                    broken = asyncio.Event()

                    def woken(*_: Any) -> None:
                        self._wake.set()

                    def lost(_connection: Any) -> None:
                        broken.set()

                    await raw.add_listener(NOTIFY_CHANNEL, woken)
                    raw.add_termination_listener(lost)
                    try:
                        # Jobs committed while nobody listened are due now.
                        self._wake.set()
                        await broken.wait()
                    finally:
                        # The connection goes back to the pool: it must not keep listening for us.
                        raw.remove_termination_listener(lost)
                        if not raw.is_closed():
                            await asyncio.shield(raw.remove_listener(NOTIFY_CHANNEL, woken))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("could not listen for outbox notifications; polling until it can", exc_info=True)
            await asyncio.sleep(RELISTEN_SECONDS)

    async def _has_due(self, now: datetime) -> bool:
        async with unit_of_work(self._sessionmaker, read_only=True) as session:
            statement = select(OutboxJob.id).where(_kind_of_job(session).in_(self._handlers), OutboxJob.due_at <= now).limit(1)
            return await session.scalar(statement) is not None

    async def _claim(self, limit: int, *, peek: bool) -> list[Job]:
        now = utcnow()
        # An idle worker looks in a read-only transaction first, so polling never takes SQLite's
        # write lock away from requests.
        if peek and not await self._has_due(now):
            return []
        token = secrets.token_hex(16)
        lease_ends = now + self._lease
        table = OutboxJob.__table__
        async with unit_of_work(self._sessionmaker) as session:
            # Two statements however many jobs are claimed, and no ORM objects to track.
            rows = (
                await session.execute(
                    select(table.c.id, table.c.kind, table.c.key, table.c.payload, table.c.attempts, table.c.created_at, table.c.claim_token)
                    .where(_kind_of_job(session).in_(self._handlers), table.c.due_at <= now)
                    .order_by(table.c.due_at)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return []
            await session.execute(
                update(table)
                .where(table.c.id.in_([row.id for row in rows]))
                .values(attempts=table.c.attempts + 1, claim_token=token, due_at=lease_ends)
            )
        jobs = []
        for row in rows:
            # Outcomes clear the token (or delete the row), so a token here is an abandoned claim.
            reclaimed = row.claim_token is not None
            jobs.append(Job(row.id, row.kind, row.key, dict(row.payload), row.attempts + 1, row.created_at, token, reclaimed))
            self._claimed[row.id] = token
        return jobs

    async def _renew_forever(self) -> None:
        """Extends the lease of every job this worker holds, a third of a lease apart.

        Leases stay short, so the jobs of a worker that died are due again within one lease,
        while a job that runs long (a slow receiver) is not taken by another worker meanwhile.
        """
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            claimed = dict(self._claimed)
            if not claimed:
                continue
            try:
                async with unit_of_work(self._sessionmaker) as session:
                    await session.execute(
                        update(OutboxJob)
                        .where(OutboxJob.id.in_(claimed), OutboxJob.claim_token.in_(set(claimed.values())))
                        .values(due_at=utcnow() + self._lease)
                    )
            except Exception:
                logger.warning("could not renew the leases of %d outbox jobs; will retry", len(claimed), exc_info=True)

    async def _run(self, job: Job) -> None:
        try:
            outcome = await self._handlers[job.kind](job)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("outbox job %s (%s) failed; will retry", job.id, job.kind, exc_info=True)
            if job.attempts >= MAX_UNEXPECTED_FAILURES:
                logger.error("outbox job %s (%s) failed %d times; dropping it", job.id, job.kind, job.attempts)
                outcome = Outcome.done()
            else:
                outcome = Outcome.retry(utcnow() + _backoff(job.attempts), f"{type(exc).__name__}: {exc}")
        self._finished.append((job, outcome))
        self._settle_wanted.set()

    async def _settle_forever(self) -> None:
        while not self._stopping:
            await self._settle_wanted.wait()
            self._settle_wanted.clear()
            await self._settle_finished()

    async def _settle_finished(self) -> None:
        finished, self._finished = self._finished, []
        if not finished:
            return
        # Settled or not, these leases are no longer renewed: a job whose outcome could not be
        # written runs again once its lease lapses.
        for job, _ in finished:
            self._claimed.pop(job.id, None)
        try:
            async with unit_of_work(self._sessionmaker) as session:
                await self._settle(session, finished)
            return
        except Exception:
            if len(finished) == 1:
                logger.warning("could not record the outcome of outbox job %s; it runs again after its lease", finished[0][0].id, exc_info=True)
                return
        # One outcome that cannot be written must not hold back the others.
        for one in finished:
            try:
                async with unit_of_work(self._sessionmaker) as session:
                    await self._settle(session, [one])
            except Exception:
                logger.warning("could not record the outcome of outbox job %s; it runs again after its lease", one[0].id, exc_info=True)

    async def _settle(self, session: AsyncSession, finished: list[tuple[Job, Outcome]]) -> None:
        """Writes what the handlers learned and each job's fate; a job is only touched while its
        claim token is still the one it was claimed with."""
        notes: dict[str, list[Any]] = {}
        for job, outcome in finished:
            if outcome.record is not None:
                await outcome.record(session)
            if outcome.note is not None:
                notes.setdefault(job.kind, []).append(outcome.note)
        for kind, kind_notes in notes.items():
            handler = self._handlers[kind]
            assert isinstance(handler, RecordingHandler), f"a {kind} job gave a note, but its handler has no record_all"
            await handler.record_all(session, kind_notes)
        # One DELETE per claim the finished jobs came from (usually one or two), each a primary-key lookup.
        done: dict[str, list[str]] = {}
        for job, outcome in finished:
            if outcome.retry_at is None:
                done.setdefault(job.claim_token, []).append(job.id)
        for token, job_ids in done.items():
            await session.execute(
                delete(OutboxJob).where(OutboxJob.id.in_(job_ids), OutboxJob.claim_token == token), execution_options=_UNSYNCHRONIZED
            )
        for job, outcome in finished:
            if outcome.retry_at is not None:
                error = outcome.error[:ERROR_LENGTH] if outcome.error else None
                await session.execute(
                    update(OutboxJob)
                    .where(OutboxJob.id == job.id, OutboxJob.claim_token == job.claim_token)
                    .values(due_at=outcome.retry_at, claim_token=None, last_error=error),
                    execution_options=_UNSYNCHRONIZED,
                )
