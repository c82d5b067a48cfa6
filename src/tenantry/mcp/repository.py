from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.models import McpServer, McpServerInstance


class McpServerRepository:
    """The live MCP servers of the calling project."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._principal = principal

    async def add(self, server: McpServer) -> None:
        self._session.add(server)
        await self._session.flush()

    async def get(self, server_id: str, *, for_update: bool = False) -> McpServer | None:
        statement = tenancy.live_mcp_servers(self._principal).where(McpServer.id == server_id)
        if for_update:
            statement = statement.with_for_update()
        return await self._session.scalar(statement)

    async def all(self, *, name: str | None, newest_by: str, descending: bool) -> Sequence[McpServer]:
        """Every live server, ordered; a project has few, so list filters on JSON columns run in Python."""
        statement = tenancy.live_mcp_servers(self._principal)
        if name:
            statement = statement.where(McpServer.name.ilike(f"%{name.replace('%', '').replace('_', '')}%"))
        column = McpServer.updated_at if newest_by == "updated_at" else McpServer.created_at
        statement = statement.order_by(column.desc() if descending else column.asc(), McpServer.id)
        return (await self._session.scalars(statement)).all()

    async def instance_counts(self, server_ids: Sequence[str]) -> dict[str, int]:
        if not server_ids:
            return {}
        statement = (
            select(McpServerInstance.server_id, func.count())
            .where(McpServerInstance.server_id.in_(server_ids))
            .group_by(McpServerInstance.server_id)
        )
        return {row[0]: int(row[1]) for row in (await self._session.execute(statement)).all()}


class McpEndpointRepository:
    """What the MCP endpoint reads before it knows a project: the server its URL names."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def server(self, server_id: str) -> McpServer | None:
        return await self._session.scalar(tenancy.mcp_server_by_url(server_id))

    async def remember_instance(self, server_id: str, user_id: str) -> None:
        """Records that `user_id` opened a session on the server (once per user)."""
        dialect = self._session.bind.dialect.name if self._session.bind else "sqlite"
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        await self._session.execute(
            insert(McpServerInstance).values(server_id=server_id, user_id=user_id).on_conflict_do_nothing()
        )
