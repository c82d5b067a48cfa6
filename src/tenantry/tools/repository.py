from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.models import ConnectedAccount


class UserAccounts:
    """The calling project's connected accounts of one user for one toolkit."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._principal = principal

    async def latest_active(self, user_id: str, toolkit_slug: str) -> ConnectedAccount | None:
        return await tenancy.latest_active_account(self._session, self._principal, user_id, toolkit_slug)

    async def statuses(self, user_id: str, toolkit_slug: str) -> dict[str, int]:
        """How many of the user's accounts for the toolkit are in each status."""
        statement = (
            tenancy.live_connected_accounts(self._principal)
            .where(ConnectedAccount.user_id == user_id, ConnectedAccount.toolkit_slug == toolkit_slug)
            .with_only_columns(ConnectedAccount.status, func.count())
            .group_by(ConnectedAccount.status)
        )
        return {status: int(count) for status, count in (await self._session.execute(statement)).all()}
