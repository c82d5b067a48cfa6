"""The engine, sessions, and the one transaction each request runs in.

Services flush and never commit. The request's transaction is committed by `session_dependency`
when the handler returns, and only then do the callbacks registered with `after_commit` run
(cache invalidation now; outbox release later), so a rolled-back request leaves no trace.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

logger = logging.getLogger("tenantry.db")

_AFTER_COMMIT = "tenantry.after_commit"
_READ_ONLY = "tenantry_read_only"
# Requests with these methods only read; their transaction takes no write lock on SQLite.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL so readers never wait, and BEGIN IMMEDIATE for writing transactions so that two
    writers queue on the busy timeout instead of one failing at once when its read lock cannot
    be upgraded. Read-only transactions begin DEFERRED and never take the write lock."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=30000",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Runs `callback` once the current transaction has committed; never if it rolls back."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession], *, read_only: bool = False
) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends normally, rolled back when it raises."""
    async with sessionmaker() as session:
        try:
            if read_only:
                await session.connection(execution_options={_READ_ONLY: True})
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        for callback in session.info.pop(_AFTER_COMMIT, []):
            callback()


async def _request_session(request: Request, *, read_only: bool) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(request.app.state.sessionmaker, read_only=read_only) as session:
        request.app.state.cache.attach(session)
        # The dashboard answers some errors with a page, not an exception; it rolls back through this.
        request.state.db_session = session
        yield session


async def session_dependency(request: Request) -> AsyncIterator[AsyncSession]:
    async for session in _request_session(request, read_only=request.method in READ_METHODS):
        yield session


async def write_session_dependency(request: Request) -> AsyncIterator[AsyncSession]:
    async for session in _request_session(request, read_only=False):
        yield session


async def read_session_dependency(request: Request) -> AsyncIterator[AsyncSession]:
    async for session in _request_session(request, read_only=True):
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit is
# answered as an error rather than after a 200 already went out.
Session = Annotated[AsyncSession, Depends(session_dependency, scope="function")]
# For the few GET routes that write (an end user's browser finishing a connection).
WriteSession = Annotated[AsyncSession, Depends(write_session_dependency, scope="function")]
# For the POST routes that only read (searches with a body), so SQLite takes no write lock.
ReadSession = Annotated[AsyncSession, Depends(read_session_dependency, scope="function")]
