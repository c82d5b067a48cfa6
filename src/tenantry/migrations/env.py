from __future__ import annotations

import asyncio
import os
from typing import Any

from alembic import context
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from tenantry.models import Base
from tenantry.models.base import UTCDateTime

config = context.config
# Several servers may start at once against one PostgreSQL: they take turns migrating.
_MIGRATION_LOCK_ID = 7_418_204_233


def _database_url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("TENANTRY_DATABASE_URL")
    if url:
        return str(url)
    from tenantry.config import get_settings

    return get_settings().resolved_database_url


def _render_item(type_: str, item: Any, autogen_context: Any) -> str | bool:
    # Migrations spell the plain column type, so they never import application code.
    if type_ == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # SQLite's DDL is transactional; alembic assumes otherwise unless told (see _serialize_sqlite).
        transactional_ddl=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
        context.run_migrations()


def _serialize_sqlite(engine: AsyncEngine) -> None:
    """The whole migration in one SQLite transaction that holds the write lock from its first
    statement, so a second process migrating at the same moment waits on the busy timeout and then
    finds the schema current. Without this, pysqlite runs DDL outside any transaction and both
    processes create the same tables. Foreign keys stay off, as SQLite's batch table rebuilds need
    (a rebuild drops the old table, which with them on would cascade into the rows that refer to it).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


async def _run_async() -> None:
    engine = create_async_engine(_database_url(), poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        _serialize_sqlite(engine)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


asyncio.run(_run_async())
