from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.kit.pagination import PageRequest
from tenantry.models import ConnectedAccount


@dataclass(frozen=True)
class ConnectedAccountFilters:
    toolkit_slugs: list[str] | None = None
    statuses: list[str] | None = None
    user_ids: list[str] | None = None
    auth_config_ids: list[str] | None = None
    connected_account_ids: list[str] | None = None
    account_types: tuple[str, ...] = ("PRIVATE",)
    order_by: str = "created_at"
    descending: bool = True


class ConnectedAccountRepository:
    """The live connected accounts of the calling project."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._principal = principal

    async def add(self, account: ConnectedAccount) -> None:
        self._session.add(account)
        await self._session.flush()

    async def get(self, account_id: str, *, for_update: bool = False) -> ConnectedAccount | None:
        return await tenancy.live_connected_account(self._session, self._principal, account_id, for_update=for_update)

    async def of_auth_config(self, auth_config_id: str) -> Sequence[ConnectedAccount]:
        statement = tenancy.live_connected_accounts(self._principal).where(ConnectedAccount.auth_config_id == auth_config_id)
        return (await self._session.scalars(statement.order_by(ConnectedAccount.created_at))).all()

    def _filtered(self, filters: ConnectedAccountFilters) -> Select[tuple[ConnectedAccount]]:
        statement = tenancy.live_connected_accounts(self._principal).where(
            ConnectedAccount.account_type.in_(filters.account_types)
        )
        for column, values in (
            (ConnectedAccount.toolkit_slug, filters.toolkit_slugs),
            (ConnectedAccount.status, filters.statuses),
            (ConnectedAccount.user_id, filters.user_ids),
            (ConnectedAccount.auth_config_id, filters.auth_config_ids),
            (ConnectedAccount.id, filters.connected_account_ids),
        ):
            if values:
                statement = statement.where(column.in_(values))
        return statement

    async def page(self, filters: ConnectedAccountFilters, request: PageRequest) -> Sequence[ConnectedAccount]:
        sort = ConnectedAccount.updated_at if filters.order_by == "updated_at" else ConnectedAccount.created_at
        statement = request.apply(self._filtered(filters), sort, ConnectedAccount.id, descending=filters.descending)
        return (await self._session.scalars(statement)).all()

    async def count(self, filters: ConnectedAccountFilters) -> int:
        subquery = self._filtered(filters).subquery()
        return int(await self._session.scalar(select(func.count()).select_from(subquery)) or 0)


class BrowserFlowRepository:
    """Accounts reached from an end user's browser by the digest of a one-time capability.

    These routes carry no API key: the OAuth `state` or the link token *is* the authorization, and
    it names exactly one account (tenancy.account_by_capability).
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def by_oauth_state(self, digest: str) -> ConnectedAccount | None:
        statement = tenancy.account_by_capability(ConnectedAccount.oauth_state_digest, digest)
        return await self._session.scalar(statement.with_for_update())

    async def by_link_token(self, digest: str) -> ConnectedAccount | None:
        statement = tenancy.account_by_capability(ConnectedAccount.link_token_digest, digest)
        return await self._session.scalar(statement.with_for_update())

    async def fail_stale_initiations(self, now: datetime, reason: str) -> int:
        """Every project's initiations past their deadline become FAILED (a sweep, not a tenant read)."""
        result = await self._session.execute(
            tenancy.stale_initiations(now).values(
                status="FAILED", status_reason=reason, oauth_state_digest=None, link_token_digest=None
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
