from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.kit.pagination import PageRequest
from tenantry.models import Member, Membership, Organization, Project


class MemberRepository:
    """Members as the operator manages them, from the command line: not reachable through a tenant's key."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def by_email(self, email: str) -> Member | None:
        return await self._session.scalar(select(Member).where(Member.email == email))

    async def add(self, member: Member) -> None:
        self._session.add(member)
        await self._session.flush()

    async def membership(self, member_id: str, org_id: str) -> Membership | None:
        return await self._session.scalar(tenancy.membership(member_id, org_id))

    async def join(self, membership: Membership) -> None:
        self._session.add(membership)
        await self._session.flush()

    async def of_organization(self, org_id: str) -> Sequence[tuple[Member, str]]:
        statement = tenancy.members_of(org_id).order_by(Member.email)
        return [(member, role) for member, role in (await self._session.execute(statement)).all()]


class MemberReachRepository:
    """What the member behind a user key can see: their organizations and those organizations' projects."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._principal = principal

    async def organizations(self, request: PageRequest) -> Sequence[Organization]:
        statement = request.apply(tenancy.member_organizations(self._principal), Organization.created_at, Organization.id)
        return (await self._session.scalars(statement)).all()

    async def organization_count(self) -> int:
        subquery = tenancy.member_organizations(self._principal).subquery()
        return int(await self._session.scalar(select(func.count()).select_from(subquery)) or 0)

    async def projects(self, request: PageRequest) -> Sequence[Project]:
        statement = request.apply(tenancy.live_projects_of_member(self._principal), Project.created_at, Project.id)
        return (await self._session.scalars(statement)).all()

    async def project_count(self) -> int:
        """Live projects across the member's organizations: one row per organization, however many projects."""
        statement = tenancy.member_organizations(self._principal).with_only_columns(
            func.coalesce(func.sum(Organization.live_project_count), 0)
        )
        return int(await self._session.scalar(statement) or 0)
