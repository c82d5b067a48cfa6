"""What an attacker holding the database sees: every value of every table, and the SQLite files."""

from __future__ import annotations

import base64
from pathlib import Path

from sqlalchemy import MetaData, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.models import ProjectDataKey


async def stored_bytes(sessionmaker: async_sessionmaker[AsyncSession], database_url: str) -> bytes:
    """Every value in every table the database has (reflected, not only our models), and on
    SQLite the bytes of the database file and its write-ahead log as well."""
    chunks: list[bytes] = []
    async with unit_of_work(sessionmaker) as session:
        connection = await session.connection()
        metadata = MetaData()
        await connection.run_sync(lambda sync: metadata.reflect(sync))
        for table in metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                for value in row:
                    chunks.append(bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode())
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = Path(url.database or "")
        chunks.extend(path.read_bytes() for path in database.parent.glob(database.name + "*"))
    return b"\n".join(chunks)


def encodings(secret: bytes) -> list[bytes]:
    """The forms a leaked secret would most likely take."""
    return [
        secret,
        secret.hex().encode(),
        secret.hex().upper().encode(),
        base64.b64encode(secret).rstrip(b"="),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
    ]


async def stored_data_key(sessionmaker: async_sessionmaker[AsyncSession], project_id: str) -> tuple[bytes, str]:
    """The project's wrapped data key and the id of the master key that wrapped it, as stored."""
    async with unit_of_work(sessionmaker) as session:
        statement = select(ProjectDataKey.wrapped_key, ProjectDataKey.master_key_id).where(
            ProjectDataKey.project_id == project_id
        )
        wrapped, kid = (await session.execute(statement)).one()
    return bytes(wrapped), kid


async def store_data_key(
    sessionmaker: async_sessionmaker[AsyncSession], project_id: str, wrapped: bytes, kid: str
) -> None:
    """Overwrites the project's stored data key, as an attacker or a botched restore would."""
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            update(ProjectDataKey)
            .where(ProjectDataKey.project_id == project_id)
            .values(wrapped_key=wrapped, master_key_id=kid)
        )
