"""Per-process caches for facts read on every request (API keys, project settings).

Correctness rests on one shared counter, the `cache_epoch` row. A change to a cached fact
bumps it in the change's own transaction; after the commit the worker that made the change
drops its caches at once, and every other worker drops them when its poller sees the counter
move (every `cache_poll_interval_seconds`). A value read from the database is only cached when
no drop happened while it was being read, so a read that raced a change cannot outlive it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import after_commit, unit_of_work
from tenantry.models import CacheEpoch

logger = logging.getLogger("tenantry.cache")

T = TypeVar("T")

_SESSION_KEY = "tenantry.process_cache"
# Unknown keys are cached too (so a flood of bad keys cannot reach the database); the bound
# keeps such a flood from growing memory without limit.
MAX_ENTRIES_PER_TABLE = 100_000


class ProcessCache:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], poll_interval: float) -> None:
        self._sessionmaker = sessionmaker
        self._poll_interval = poll_interval
        self._tables: dict[str, dict[Any, Any]] = {}
        self._epoch_seen: int | None = None
        self.generation = 0

    def table(self, name: str) -> dict[Any, Any]:
        return self._tables.setdefault(name, {})

    async def get_or_load(
        self, name: str, key: Any, load: Callable[[AsyncSession], Awaitable[T]]
    ) -> T:
        table = self.table(name)
        try:
            return table[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        generation = self.generation
        async with unit_of_work(self._sessionmaker, read_only=True) as session:
            value = await load(session)
        if generation == self.generation:
            if len(table) >= MAX_ENTRIES_PER_TABLE:
                table.clear()
            table[key] = value
        return value

    def drop_all(self) -> None:
        self.generation += 1
        for table in self._tables.values():
            table.clear()

    def attach(self, session: AsyncSession) -> None:
        """Lets services reached through `session` drop this worker's caches after commit."""
        session.info[_SESSION_KEY] = self

    async def poll_once(self) -> None:
        async with unit_of_work(self._sessionmaker, read_only=True) as session:
            epoch = await session.scalar(select(CacheEpoch.value).where(CacheEpoch.id == 1))
        if epoch != self._epoch_seen:
            if self._epoch_seen is not None:
                self.drop_all()
            self._epoch_seen = epoch

    async def run_poller(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                await self.poll_once()
            except Exception:
                logger.warning("could not read the cache epoch; will retry", exc_info=True)


def attached_to(session: AsyncSession) -> ProcessCache | None:
    """The cache `ProcessCache.attach` gave the session (a request's), or None."""
    return session.info.get(_SESSION_KEY)


async def invalidate(session: AsyncSession) -> None:
    """Marks every worker's cached keys and settings stale once this transaction commits."""
    await session.execute(update(CacheEpoch).where(CacheEpoch.id == 1).values(value=CacheEpoch.value + 1))
    cache = session.info.get(_SESSION_KEY)
    if cache is not None:
        after_commit(session, cache.drop_all)


async def _process_cache(request: Request) -> ProcessCache:
    # async, so FastAPI calls it inline rather than on a worker thread for every request.
    return request.app.state.cache  # type: ignore[no-any-return]


Cache = Annotated[ProcessCache, Depends(_process_cache)]
