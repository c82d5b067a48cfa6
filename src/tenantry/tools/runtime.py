"""What tool executions and proxy calls need from the process they run in."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.cache import ProcessCache
from tenantry.db import unit_of_work
from tenantry.logs.queue import LogQueue
from tenantry.tools.outbound import Outbound


@dataclass(frozen=True)
class ToolRuntime:
    """The process's sessions, its caches, its HTTP client for toolkit APIs and its log queue."""

    sessionmaker: async_sessionmaker[AsyncSession]
    cache: ProcessCache
    outbound: Outbound
    logs: LogQueue

    @contextlib.asynccontextmanager
    async def transaction(self, *, read_only: bool) -> AsyncIterator[AsyncSession]:
        """A transaction whose changes reach this worker's caches; on SQLite a read-only one takes
        no write lock, and a writing one waits its turn in tenantry.db's writer queue."""
        async with unit_of_work(self.sessionmaker, read_only=read_only) as session:
            self.cache.attach(session)
            yield session
