from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.kit.time import utcnow
from tenantry.models import ApiKey, Organization


class OrganizationRepository:
    """Organizations themselves: created by operators, not reachable through a tenant's key."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, organization: Organization) -> None:
        self._session.add(organization)
        await self._session.flush()


class OrgKeyRepository:
    """The organization keys of the organization the principal acts in."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._principal = principal

    async def lock_organization(self) -> Organization | None:
        """Holds the organization row until commit, so concurrent creates check names and the bound one at a time."""
        return await self._session.scalar(tenancy.own_organization(self._principal).with_for_update())

    async def live(self) -> Sequence[ApiKey]:
        statement = tenancy.live_org_keys(self._principal, utcnow()).order_by(ApiKey.created_at, ApiKey.id)
        return (await self._session.scalars(statement)).all()

    async def get_live(self, key_id: str) -> ApiKey | None:
        return await self._session.scalar(tenancy.live_org_keys(self._principal, utcnow()).where(ApiKey.id == key_id))

    async def count_live(self) -> int:
        subquery = tenancy.live_org_keys(self._principal, utcnow()).subquery()
        return int(await self._session.scalar(select(func.count()).select_from(subquery)) or 0)

    async def name_taken(self, name: str) -> bool:
        return await self._session.scalar(tenancy.org_keys_named(self._principal, name, utcnow())) is not None
