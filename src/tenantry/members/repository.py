from __future__ import annotations

from collections.abc import Sequence

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.kit.pagination import PageRequest
from tenantry.models import ApiKey, Member, MemberInvitation, Membership, Organization, Project


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


class OrgMemberRepository:
    """The members of the principal's organization, as its admins manage them."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._principal = principal
        self.org_id = principal.org_id

    async def lock_organization(self) -> Organization | None:
        """Holds the organization row until commit, so membership changes in it run one at a time and
        two admins demoting each other cannot leave it with none."""
        return await self._session.scalar(tenancy.own_organization(self._principal).with_for_update())

    async def get(self, member_id: str) -> tuple[Member, Membership] | None:
        membership = await self._session.scalar(tenancy.membership(member_id, self.org_id))
        if membership is None:
            return None
        member = await self._session.get(Member, member_id)
        return None if member is None else (member, membership)

    async def page(self, request: PageRequest) -> Sequence[tuple[Member, str, datetime]]:
        """A page of the members with their role and when they joined, in the order they joined."""
        statement = request.apply(
            tenancy.members_of(self.org_id).add_columns(Membership.created_at), Membership.created_at, Member.id, descending=False
        )
        return [(member, role, joined) for member, role, joined in (await self._session.execute(statement)).all()]

    async def count(self) -> int:
        subquery = tenancy.members_of(self.org_id).subquery()
        return int(await self._session.scalar(select(func.count()).select_from(subquery)) or 0)

    async def admin_count(self) -> int:
        return int(await self._session.scalar(tenancy.admins_of(self.org_id)) or 0)

    async def in_other_organizations(self, member_id: str) -> bool:
        return await self._session.scalar(tenancy.other_memberships(member_id, self.org_id).limit(1)) is not None

    async def live_user_keys(self, member_id: str) -> Sequence[ApiKey]:
        return (await self._session.scalars(tenancy.live_user_keys(member_id, self.org_id))).all()

    async def leave(self, membership: Membership) -> None:
        await self._session.delete(membership)
        await self._session.flush()

    async def drop_invitations(self, member_id: str) -> None:
        await self._session.execute(tenancy.member_invitations(member_id, self.org_id))

    async def add_invitation(self, invitation: MemberInvitation) -> None:
        self._session.add(invitation)
        await self._session.flush()


class InvitationRepository:
    """Sign-in links, found by the digest of the token a browser presents: the token is the authorization."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def by_digest(self, digest: str, *, for_update: bool = False) -> MemberInvitation | None:
        statement = tenancy.invitation_by_token(digest)
        if for_update:
            statement = statement.with_for_update()
        return await self._session.scalar(statement)

    async def membership(self, invitation: MemberInvitation) -> tuple[Member, Organization] | None:
        """The invited member and the link's organization, while the member still belongs to it."""
        if await self._session.scalar(tenancy.membership(invitation.member_id, invitation.org_id)) is None:
            return None
        member = await self._session.get(Member, invitation.member_id)
        organization = await self._session.get(Organization, invitation.org_id)
        return None if member is None or organization is None else (member, organization)

    async def in_other_organizations(self, invitation: MemberInvitation) -> bool:
        statement = tenancy.other_memberships(invitation.member_id, invitation.org_id).limit(1)
        return await self._session.scalar(statement) is not None

    async def mark_used(self, invitation: MemberInvitation, moment: datetime) -> None:
        invitation.used_at = moment
        await self._session.flush()


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
