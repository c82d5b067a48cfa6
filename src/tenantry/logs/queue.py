"""Execution logs written off the request path: queued in the worker, written in batches.

An execution appends its log (and so its `tool_calls` usage event) here and returns; a
background task writes what is queued every `log_flush_interval_seconds`, or as soon as a
batch is full, in one transaction per batch. Nothing is dropped to make room: a call checks
for room before it reaches the toolkit's API, and when `log_queue_max` logs wait it writes
them itself first (backpressure: the caller waits rather than lose a call that is billed).
Readers of logs and usage on this worker write the queue first, so a client that executes
and then reads sees its call; other workers' calls show within one flush interval. Shutdown
writes what is left.

A batch the database refuses is written again one log at a time, so one bad row cannot hold
back the others; a log refused on its own is reported in the server's log with its id and
counted in `refused`, never dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
from fastapi import Depends, Request
from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.logs.repository import Entry, LogWriter

logger = logging.getLogger("tenantry.logs")


class LogQueue:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, interval: float, batch_size: int, max_pending: int
    ) -> None:
        self._sessionmaker = sessionmaker
        self._interval = interval
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._pending: list[Entry] = []
        # One writer at a time, so batches are written in the order their calls ended.
        self._writing = asyncio.Lock()
        self._batch_full = asyncio.Event()
        # Logs ever queued, and ever written (or refused): a flush waits for those queued before it.
        self._queued = 0
        self._done = 0
        self.refused = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def make_room(self) -> None:
        """Called before a call is made: when the queue is full, writes it (raises if it cannot)."""
        if len(self._pending) >= self._max_pending:
            await self.flush()

    def put(self, entry: Entry) -> None:
        self._pending.append(entry)
        self._queued += 1
        if len(self._pending) >= self._batch_size:
            self._batch_full.set()

    async def flush(self) -> None:
        """Writes every log queued before this call (not those queued while it runs, so that a
        reader under load is not kept waiting); on a database error they stay queued."""
        goal = self._queued
        async with self._writing:
            while self._done < goal and self._pending:
                batch = self._pending[: self._batch_size]
                del self._pending[: len(batch)]
                await self._write(batch)

    async def _write(self, batch: list[Entry]) -> None:
        try:
            await self._insert(batch)
            self._done += len(batch)
            return
        except Exception:
            if not await self._database_answers():
                self._pending[:0] = batch
                raise
        # The database answers, so a row refused the batch: write them one at a time.
        for index, entry in enumerate(batch):
            try:
                await self._insert([entry])
            except Exception:
                if not await self._database_answers():
                    self._pending[:0] = batch[index:]
                    raise
                self.refused += 1
                logger.error("the database refused execution log %s; it is not stored", entry.log_id, exc_info=True)
            self._done += 1

    async def _insert(self, entries: list[Entry]) -> None:
        async with unit_of_work(self._sessionmaker) as session:
            await LogWriter(session).add_many(entries)

    async def _database_answers(self) -> bool:
        """Whether a failure was the row's (the database answers) or the database's own."""
        try:
            async with unit_of_work(self._sessionmaker, read_only=True) as session:
                await session.execute(select(literal(1)))
            return True
        except Exception:
            return False

    async def close(self) -> None:
        """At shutdown: writes what is queued, or says in the server's log how many logs are lost."""
        try:
            await self.flush()
        except Exception:
            logger.error("shutting down with %d execution logs unwritten", len(self._pending), exc_info=True)

    async def run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._batch_full.wait(), self._interval)
            except TimeoutError:
                pass
            self._batch_full.clear()
            try:
                await self.flush()
            except Exception:
                logger.warning("could not write %d execution logs; will retry", len(self._pending), exc_info=True)
                await asyncio.sleep(self._interval)


async def _logs_written(request: Request) -> None:
    await request.app.state.logs.flush()


# A route dependency: this worker's queued logs are in the database before the route reads.
LogsWritten = Depends(_logs_written)
