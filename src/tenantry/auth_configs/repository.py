from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.kit.pagination import PageRequest
from tenantry.kit.time import utcnow
from tenantry.models import AuthConfig, ConnectedAccount


@dataclass(frozen=True)
class AuthConfigFilters:
    toolkit_slugs: list[str] | None = None
    is_composio_managed: bool | None = None
    show_disabled: bool = False
    search: str | None = None


class AuthConfigRepository:
    """The live auth configs of the calling project."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._principal = principal

    async def add(self, auth_config: AuthConfig) -> None:
        self._session.add(auth_config)
        await self._session.flush()

    async def get(self, auth_config_id: str, *, for_update: bool = False) -> AuthConfig | None:
        return await tenancy.live_auth_config(self._session, self._principal, auth_config_id, for_update=for_update)

    def _filtered(self, filters: AuthConfigFilters) -> Select[tuple[AuthConfig]]:
        statement = tenancy.live_auth_configs(self._principal)
        if filters.toolkit_slugs:
            statement = statement.where(AuthConfig.toolkit_slug.in_(filters.toolkit_slugs))
        if filters.is_composio_managed is not None:
            statement = statement.where(AuthConfig.is_composio_managed.is_(filters.is_composio_managed))
        if not filters.show_disabled:
            statement = statement.where(AuthConfig.is_disabled.is_(False))
        if filters.search:
            pattern = f"%{filters.search.replace('%', '').replace('_', '')}%"
            statement = statement.where(or_(AuthConfig.name.ilike(pattern), AuthConfig.id == filters.search))
        return statement

    async def page(self, filters: AuthConfigFilters, request: PageRequest) -> Sequence[AuthConfig]:
        statement = request.apply(self._filtered(filters), AuthConfig.created_at, AuthConfig.id)
        return (await self._session.scalars(statement)).all()

    async def count(self, filters: AuthConfigFilters) -> int:
        subquery = self._filtered(filters).subquery()
        return int(await self._session.scalar(select(func.count()).select_from(subquery)) or 0)

    async def connection_counts(self, auth_config_ids: Sequence[str]) -> dict[str, int]:
        if not auth_config_ids:
            return {}
        statement = (
            tenancy.live_connected_accounts(self._principal)
            .where(ConnectedAccount.auth_config_id.in_(auth_config_ids))
            .with_only_columns(ConnectedAccount.auth_config_id, func.count())
            .group_by(ConnectedAccount.auth_config_id)
        )
        return {row[0]: int(row[1]) for row in (await self._session.execute(statement)).all()}

    async def delete(self, auth_config: AuthConfig) -> None:
        """Soft-deletes the config and, with it, every connected account made through it."""
        moment = utcnow()
        auth_config.deleted_at = moment
        await self._session.execute(tenancy.delete_connected_accounts_of(auth_config).values(deleted_at=moment))
        await self._session.flush()
