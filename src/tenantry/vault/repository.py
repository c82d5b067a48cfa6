from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.models import ProjectDataKey


class DataKeyRepository:
    """The wrapped data keys.

    Rows are reached by the id of a project the calling domain has already authorized (or, for
    rotation, all of them); no request reaches this table except through such a domain, so the
    project id here is a key to the caller's own project, not a tenant filter to get right.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, project_id: str) -> Row[tuple[bytes, str]] | None:
        statement = select(ProjectDataKey.wrapped_key, ProjectDataKey.master_key_id).where(
            ProjectDataKey.project_id == project_id
        )
        return (await self._session.execute(statement)).one_or_none()

    async def insert_if_absent(self, project_id: str, wrapped_key: bytes, master_key_id: str) -> bool:
        """Inserts the project's data key unless it has one; whether this call inserted it.

        On PostgreSQL a concurrent insert of the same project waits for the other transaction
        and then does nothing; on SQLite writers already take turns.
        """
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(ProjectDataKey)
            .values(project_id=project_id, wrapped_key=wrapped_key, master_key_id=master_key_id)
            .on_conflict_do_nothing(index_elements=[ProjectDataKey.project_id])
            .returning(ProjectDataKey.project_id)
        )
        return (await self._session.execute(statement)).scalar_one_or_none() is not None

    async def delete(self, project_id: str) -> None:
        await self._session.execute(delete(ProjectDataKey).where(ProjectDataKey.project_id == project_id))

    async def not_under(
        self, master_key_id: str, *, after: str, limit: int
    ) -> Sequence[Row[tuple[str, bytes, str]]]:
        """Up to `limit` rows, by project id after `after`, wrapped under another master key.

        They stay locked until the transaction ends, so two rotations never rewrap one row
        at once.
        """
        statement = (
            select(ProjectDataKey.project_id, ProjectDataKey.wrapped_key, ProjectDataKey.master_key_id)
            .where(ProjectDataKey.master_key_id != master_key_id, ProjectDataKey.project_id > after)
            .order_by(ProjectDataKey.project_id)
            .limit(limit)
            .with_for_update()
        )
        return (await self._session.execute(statement)).all()

    async def rewrap(
        self, project_id: str, wrapped_key: bytes, master_key_id: str, moment: datetime
    ) -> None:
        await self._session.execute(
            update(ProjectDataKey)
            .where(ProjectDataKey.project_id == project_id)
            .values(wrapped_key=wrapped_key, master_key_id=master_key_id, rotated_at=moment)
        )

    async def count_by_master_key(self) -> dict[str, int]:
        statement = select(ProjectDataKey.master_key_id, func.count()).group_by(ProjectDataKey.master_key_id)
        return {kid: count for kid, count in (await self._session.execute(statement)).all()}
