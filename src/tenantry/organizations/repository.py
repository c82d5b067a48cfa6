from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.models import Organization


class OrganizationRepository:
    """Organizations themselves: created by operators, not reachable through a tenant's key."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, organization: Organization) -> None:
        self._session.add(organization)
        await self._session.flush()
