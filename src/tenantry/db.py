"""The engine, sessions, and the one transaction each request runs in.

Services flush and never commit. The request's transaction is committed by `session_dependency`
when the handler returns, and only then do the callbacks registered with `after_commit` run
(cache invalidation now; outbox release later), so a rolled-back request leaves no trace.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import aiosqlite
from fastapi import Depends, Request
from sqlalchemy import Executable, Row, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

try:  # SQLAlchemy 2.1
    from sqlalchemy.util.concurrency import await_
except ImportError:  # pragma: no cover - SQLAlchemy 2.0
    from sqlalchemy.util import await_only as await_

logger = logging.getLogger("tenantry.db")

_AFTER_COMMIT = "tenantry.after_commit"
_READ_ONLY = "tenantry_read_only"
# Requests with these methods only read; their transaction takes no write lock on SQLite.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# How long a writer waits for SQLite's one write slot, as SQLite's busy timeout did before.
SQLITE_WRITER_WAIT_SECONDS = 30.0
# How long one statement may wait inside SQLite (blocking the event loop) for another process's lock.
SQLITE_BLOCKING_WAIT_MS = 5


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, async_creator=_inline_sqlite_connector(url), pool_size=pool_size, max_overflow=pool_size)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class _RunAtOnce:
    """Stands in for the queue to aiosqlite's worker thread: runs each call at once, here.

    A statement on a local SQLite file takes microseconds; handing it to a thread and back cost
    about ten times that on every statement (docs/benchmarks.md §6), because the event loop and
    the thread take turns holding the GIL. Run inline, a statement never yields to the event
    loop, so a connection can never wait on SQLite's busy handler for a writer of this same
    process (that would stop the loop): `_configure_sqlite` queues writers before they BEGIN.
    """

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # noqa: BLE001 - handed to the awaiting caller, as the thread would
            if future is not None:
                future.set_exception(error)
            return
        if future is not None:
            future.set_result(result)


class _InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection, with its calls run on the event loop's thread (see _RunAtOnce)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunAtOnce()  # type: ignore[assignment]

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()  # no worker thread to start


def _inline_sqlite_connector(url: str) -> Callable[[], Any]:
    database = make_url(url).database or ":memory:"

    async def connect() -> aiosqlite.Connection:
        # A cross-process writer (another worker, the CLI) still makes SQLite wait, briefly.
        return await _InlineConnection(lambda: sqlite3.connect(database, timeout=SQLITE_WRITER_WAIT_SECONDS, check_same_thread=False))

    return connect


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL so readers never wait; synchronous=NORMAL (docs/benchmarks.md §6: a commit is durable
    against a crash of the process, and the last commits may be lost if the machine loses power);
    BEGIN IMMEDIATE for writing transactions, read-only ones BEGIN DEFERRED and take no lock.

    SQLite has one writer. Writing transactions of this process take turns on `writer`, awaited
    in the event loop before BEGIN IMMEDIATE and handed on at COMMIT or ROLLBACK, which is the
    span SQLite's own write lock covers: the queue SQLite's busy handler kept (sleeping and
    retrying) is kept here instead, where a waiting writer costs nothing.
    """
    writer = asyncio.Lock()
    holding = "tenantry.holds_writer"

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            # SQLite's own waiting sleeps inside the statement, which runs on the event loop's thread;
            # writers of other processes are waited for in `_begin_immediate` instead, off the loop.
            f"PRAGMA busy_timeout={SQLITE_BLOCKING_WAIT_MS}",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(_READ_ONLY, False):
            connection.exec_driver_sql("BEGIN")
            return
        try:
            await_(asyncio.wait_for(writer.acquire(), SQLITE_WRITER_WAIT_SECONDS))
        except TimeoutError:
            raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")) from None
        connection.info[holding] = True
        try:
            _begin_immediate(connection)
        except BaseException:
            _hand_on(connection.info)
            raise

    def _hand_on(info: dict[str, Any]) -> None:
        if info.pop(holding, False):
            writer.release()

    # Released before the COMMIT runs, but the next writer only runs once this code yields to
    # the loop, which is after the COMMIT (statements run inline).
    event.listen(engine.sync_engine, "commit", lambda connection: _hand_on(connection.info))
    event.listen(engine.sync_engine, "rollback", lambda connection: _hand_on(connection.info))
    # A connection returned to the pool, or closed, without either (an error mid-transaction).
    event.listen(engine.sync_engine.pool, "reset", lambda _dbapi, record, _state: _hand_on(record.info))
    event.listen(engine.sync_engine.pool, "close", lambda _dbapi, record: _hand_on(record.info))


def _begin_immediate(connection: Any) -> None:
    """BEGIN IMMEDIATE, waiting for a writer of another process (a second worker, the CLI) without
    stopping the event loop: each try blocks at most SQLITE_BLOCKING_WAIT_MS, and between tries the
    loop runs everything else (deliveries in flight, other requests) while this transaction waits."""
    deadline = time.monotonic() + SQLITE_WRITER_WAIT_SECONDS
    pause = 0.001
    while True:
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as error:
            if "locked" not in str(error.orig) or time.monotonic() > deadline:
                raise
        await_(asyncio.sleep(pause))
        pause = min(pause * 2, 0.02)


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


async def read_row(sessionmaker: async_sessionmaker[AsyncSession], statement: Executable, parameters: dict[str, Any]) -> Row[Any] | None:
    """The first row of one read-only Core statement, in a transaction of its own, with no ORM session.

    For the data plane's one read per tool call, where a session's bookkeeping costs more than
    the statement itself.
    """
    engine: AsyncEngine = sessionmaker.kw["bind"]
    async with engine.connect() as connection:
        # On PostgreSQL one statement needs no BEGIN and ROLLBACK around it: two round trips fewer.
        # SQLite's reads stay in the read-only transaction its BEGIN handler gives them.
        options = _ONE_STATEMENT if engine.dialect.name == "postgresql" else {_READ_ONLY: True}
        await connection.execution_options(**options)
        return (await connection.execute(statement, parameters)).first()


_ONE_STATEMENT = {"isolation_level": "AUTOCOMMIT"}


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
