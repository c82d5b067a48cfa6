"""Members of organizations: added by the operator's command line or by an organization's admins,
reaching the API with user keys and the dashboard with a password.

Admins add members, change their roles and remove them (`add`, `change_role`, `remove`); an
organization always keeps at least one admin. A member chooses their dashboard password through
a one-time link (`issue_invitation`, `accept_invitation`) of which only an HMAC is stored, as
for dashboard sessions (tenantry.dashboard.accounts). A link can only set the password of a
member who belongs to no other organization: otherwise an admin of one organization could take
over the person's access to another.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import audit, cache
from tenantry.api_keys import service as api_keys
from tenantry.auth.principal import Principal
from tenantry.config import get_settings, key_pepper
from tenantry.dashboard import accounts
from tenantry.errors import (
    InvitationUnusable,
    LastAdmin,
    MemberAlreadyExists,
    MemberInOtherOrganizations,
    OrganizationNotFound,
    OrgMemberNotFound,
    RoleForbidden,
)
from tenantry.kit import ids, keys
from tenantry.kit.keys import KeyKind
from tenantry.kit.pagination import PageRequest, total_pages
from tenantry.kit.time import as_utc, iso, utcnow
from tenantry.members import schemas
from tenantry.members.repository import InvitationRepository, MemberReachRepository, MemberRepository, OrgMemberRepository
from tenantry.models import Member, MemberInvitation, Membership, Organization
from tenantry.projects import schemas as project_schemas
from tenantry.projects import service as projects

DEFAULT_PAGE_SIZE = 20
MEMBERS_PAGE_SIZE = 50
INVITATION_VALIDITY = timedelta(days=7)
INVITATION_TOKEN_BYTES = 32
INVITATION_PATH = "/dashboard/invitations/"


async def create(session: AsyncSession, org_id: str, payload: schemas.MemberCreate) -> schemas.MemberCreated:
    """Makes `payload.email` a member of the organization (creating the person if new) and issues
    them a user key in it. A person already in the organization is a conflict."""
    if await session.get(Organization, org_id) is None:
        raise OrganizationNotFound(f"No organization {org_id!r}")
    repository = MemberRepository(session)
    member = await repository.by_email(payload.email)
    if member is None:
        moment = utcnow()
        member = Member(id=ids.nano_id("mb"), email=payload.email, name=payload.name, created_at=moment, updated_at=moment)
        await repository.add(member)
    elif await repository.membership(member.id, org_id) is not None:
        raise MemberAlreadyExists(f"{payload.email} is already a member of {org_id}")
    await repository.join(Membership(org_id=org_id, member_id=member.id, role=payload.role.value))
    _, plaintext = await api_keys.mint(session, kind=KeyKind.user, org_id=org_id, member_id=member.id)
    await audit.record(
        session, None, "member.created", member, org_id=org_id, details={"email": member.email, "role": payload.role.value}
    )
    return schemas.MemberCreated(
        id=member.id, email=member.email, name=member.name, org_id=org_id, role=payload.role, api_key=plaintext
    )


def _listed(member: Member, role: str) -> schemas.MemberListed:
    return schemas.MemberListed(
        id=member.id,
        email=member.email,
        name=member.name,
        role=schemas.Role(role),
        created_at=member.created_at,
        has_password=member.password_hash is not None,
    )


async def list_members(session: AsyncSession, org_id: str) -> list[schemas.MemberListed]:
    """For the operator's command line, which names the organization itself."""
    return [_listed(member, role) for member, role in await MemberRepository(session).of_organization(org_id)]


async def list_of_organization(
    session: AsyncSession, principal: Principal, *, limit: int | None = None, cursor: str | None = None
) -> schemas.MemberList:
    """A page of the members of the principal's organization with their roles, in the order they joined."""
    request = PageRequest.parse(limit, cursor, MEMBERS_PAGE_SIZE)
    repository = OrgMemberRepository(session, principal)
    rows, next_cursor = request.slice(await repository.page(request), lambda row: (row[2], row[0].id))
    total = await repository.count()
    return schemas.MemberList(
        items=[_listed(member, role) for member, role, _ in rows],
        next_cursor=next_cursor,
        total_pages=total_pages(total, request.limit),
        current_page=request.page,
        total_items=total,
    )


def _require_admin(principal: Principal) -> None:
    """Routes and pages check the role first; this keeps a caller that forgot from changing members."""
    if principal.kind is KeyKind.user and principal.role != schemas.Role.admin:
        raise RoleForbidden(
            f"Managing members needs the admin role in organization {principal.org_id}; yours is {principal.role}",
            suggested_fix="Ask an admin of the organization, or use its organization key",
        )


async def get_member(session: AsyncSession, principal: Principal, member_id: str) -> schemas.MemberListed:
    """One member of the principal's organization; another organization's member is a 404."""
    member, membership = await _member_of(OrgMemberRepository(session, principal), member_id)
    return _listed(member, membership.role)


async def _locked(repository: OrgMemberRepository) -> None:
    if await repository.lock_organization() is None:
        raise OrganizationNotFound()


async def _member_of(repository: OrgMemberRepository, member_id: str) -> tuple[Member, Membership]:
    """The organization's member `member_id`; another organization's member is a 404 like a missing one."""
    found = await repository.get(member_id) if ids.looks_like("mb", member_id) else None
    if found is None:
        raise OrgMemberNotFound()
    return found


def invitation_url(token: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}{INVITATION_PATH}{token}"


async def _invite(repository: OrgMemberRepository, member: Member) -> tuple[str, datetime]:
    """A new one-time link for the member, replacing their earlier ones in this organization."""
    await repository.drop_invitations(member.id)
    token = secrets.token_urlsafe(INVITATION_TOKEN_BYTES)
    now = utcnow()
    invitation = MemberInvitation(
        id=ids.nano_id("mi"),
        org_id=repository.org_id,
        member_id=member.id,
        token_hash=keys.digest(key_pepper(), token),
        created_at=now,
        expires_at=now + INVITATION_VALIDITY,
    )
    await repository.add_invitation(invitation)
    return invitation_url(token), invitation.expires_at


def _last_admin(member: Member) -> LastAdmin:
    return LastAdmin(
        f"{member.email} is the organization's only admin, and an organization must keep at least one",
        suggested_fix="Make another member an admin first",
    )


async def add(session: AsyncSession, principal: Principal, payload: schemas.MemberCreate) -> schemas.MemberAdded:
    """Makes `payload.email` a member of the principal's organization (creating the person if new),
    with a one-time link to choose a dashboard password unless they already belong elsewhere."""
    _require_admin(principal)
    repository = OrgMemberRepository(session, principal)
    await _locked(repository)
    people = MemberRepository(session)
    member = await people.by_email(payload.email)
    if member is None:
        moment = utcnow()
        member = Member(id=ids.nano_id("mb"), email=payload.email, name=payload.name, created_at=moment, updated_at=moment)
        await people.add(member)
    elif await people.membership(member.id, principal.org_id) is not None:
        raise MemberAlreadyExists(
            f"{payload.email} is already a member of {principal.org_id}", suggested_fix="Change their role instead"
        )
    await people.join(Membership(org_id=principal.org_id, member_id=member.id, role=payload.role.value))
    url, expires_at = None, None
    if not await repository.in_other_organizations(member.id):
        url, expires_at = await _invite(repository, member)
    await audit.record(
        session, principal, "member.created", member,
        details={"email": member.email, "role": payload.role.value, "invited": url is not None},
    )
    return schemas.MemberAdded(
        **_listed(member, payload.role.value).model_dump(), invitation_url=url, invitation_expires_at=expires_at
    )


async def change_role(
    session: AsyncSession, principal: Principal, member_id: str, payload: schemas.MemberRoleUpdate
) -> schemas.MemberListed:
    """Gives the member another role in the organization; the last admin keeps theirs."""
    _require_admin(principal)
    repository = OrgMemberRepository(session, principal)
    await _locked(repository)
    member, membership = await _member_of(repository, member_id)
    old, new = membership.role, payload.role.value
    if old == new:
        return _listed(member, old)
    if old == schemas.Role.admin and await repository.admin_count() <= 1:
        raise _last_admin(member)
    membership.role = new
    await session.flush()
    await audit.record(
        session, principal, "member.role_changed", member,
        details={"email": member.email, **audit.changed({"role": old}, {"role": new})},
    )
    return _listed(member, new)


async def remove(session: AsyncSession, principal: Principal, member_id: str) -> schemas.MemberRemoved:
    """Takes the member out of the organization: the user keys issued to them in it stop working at
    once, their sign-in links from it end, and every page and route of it answers them 404."""
    _require_admin(principal)
    repository = OrgMemberRepository(session, principal)
    await _locked(repository)
    member, membership = await _member_of(repository, member_id)
    if membership.role == schemas.Role.admin and await repository.admin_count() <= 1:
        raise _last_admin(member)
    revoked = await repository.live_user_keys(member.id)
    now = utcnow()
    for key in revoked:
        key.revoked_at = now
    await session.flush()
    if revoked:
        await cache.invalidate(session)
    await repository.drop_invitations(member.id)
    # Their dashboard sessions stay: every page checks the membership, and the person may belong elsewhere.
    await repository.leave(membership)
    await audit.record(
        session, principal, "member.removed", member,
        details={"email": member.email, "role": membership.role, "revoked_user_key_ids": [key.id for key in revoked]},
    )
    return schemas.MemberRemoved(revoked_user_keys=len(revoked))


async def issue_invitation(session: AsyncSession, principal: Principal, member_id: str) -> schemas.Invitation:
    """A fresh one-time link with which the member chooses a new dashboard password (their earlier
    links stop working). Refused for a member who also belongs to other organizations."""
    _require_admin(principal)
    repository = OrgMemberRepository(session, principal)
    await _locked(repository)
    member, _ = await _member_of(repository, member_id)
    if await repository.in_other_organizations(member.id):
        raise MemberInOtherOrganizations(
            f"{member.email} also belongs to other organizations, so a link from this one cannot set their password",
            suggested_fix="They can sign in with the password they have; the operator can reset it with `tenantry member set-password`",
        )
    url, expires_at = await _invite(repository, member)
    await audit.record(
        session, principal, "member.invitation_created", member, details={"email": member.email, "expires_at": iso(expires_at)}
    )
    return schemas.Invitation(invitation_url=url, expires_at=expires_at)


NOT_VALID = "This link is not valid. It may have been replaced by a newer one: ask an admin of your organization for a new link."
USED = "This link has already been used. Sign in with the password you chose, or ask an admin of your organization for a new link."
EXPIRED = "This link has expired. Ask an admin of your organization for a new one."
ELSEWHERE = (
    "This link can no longer set your password, because you now belong to other organizations too. "
    "Sign in with the password you have, or ask the operator to reset it."
)


def _unusable(message: str, status: int) -> InvitationUnusable:
    error = InvitationUnusable(message)
    error.status = status
    return error


@dataclass(frozen=True)
class OpenInvitation:
    """A usable link: whose password it sets, for which organization, until when."""

    invitation: MemberInvitation
    member: Member
    organization: Organization


async def open_invitation(session: AsyncSession, token: str, *, for_update: bool = False) -> OpenInvitation:
    """The link `token` names while it can still be used; InvitationUnusable says why not otherwise."""
    if not 0 < len(token) <= 128:
        raise _unusable(NOT_VALID, 404)
    repository = InvitationRepository(session)
    digest = keys.digest(key_pepper(), token)
    invitation = await repository.by_digest(digest, for_update=for_update)
    if invitation is None or not hmac.compare_digest(invitation.token_hash, digest):
        raise _unusable(NOT_VALID, 404)
    if invitation.used_at is not None:
        raise _unusable(USED, 410)
    if as_utc(invitation.expires_at) <= utcnow():
        raise _unusable(EXPIRED, 410)
    found = await repository.membership(invitation)
    if found is None:
        raise _unusable(NOT_VALID, 404)
    if await repository.in_other_organizations(invitation):
        raise _unusable(ELSEWHERE, 409)
    return OpenInvitation(invitation, *found)


async def accept_invitation(session: AsyncSession, token: str, password: str) -> OpenInvitation:
    """Sets the member's dashboard password from the link (which is then used up) and ends their
    other dashboard sessions. The caller signs them in."""
    opened = await open_invitation(session, token, for_update=True)
    await accounts.set_password(session, opened.member.email, password)
    await InvitationRepository(session).mark_used(opened.invitation, utcnow())
    await audit.record(
        session, None, "member.invitation_accepted", opened.member,
        org_id=opened.invitation.org_id, details={"email": opened.member.email},
    )
    return opened


async def list_organizations(
    session: AsyncSession, principal: Principal, *, limit: int | None, cursor: str | None
) -> schemas.OrganizationList:
    request = PageRequest.parse(limit, cursor, DEFAULT_PAGE_SIZE)
    repository = MemberReachRepository(session, principal)
    rows, next_cursor = request.slice(await repository.organizations(request), lambda org: (org.created_at, org.id))
    total = await repository.organization_count()
    return schemas.OrganizationList(
        organizations=[
            schemas.Organization(id=org.id, name=org.name, created_at=org.created_at, updated_at=org.updated_at)
            for org in rows
        ],
        next_cursor=next_cursor,
        total_pages=total_pages(total, request.limit),
        current_page=request.page,
        total_items=total,
    )


async def list_projects(
    session: AsyncSession, principal: Principal, *, all_organizations: bool, limit: int | None, cursor: str | None
) -> project_schemas.ProjectList:
    """The live projects of the organization the key acts in, or of every organization of the member."""
    if not all_organizations:
        return await projects.list_page(session, principal, limit=limit, cursor=cursor)
    request = PageRequest.parse(limit, cursor, DEFAULT_PAGE_SIZE)
    repository = MemberReachRepository(session, principal)
    rows, next_cursor = request.slice(await repository.projects(request), lambda project: (project.created_at, project.id))
    total = await repository.project_count()
    return project_schemas.ProjectList(
        data=[projects.to_schema(project) for project in rows],
        next_cursor=next_cursor,
        total_pages=total_pages(total, request.limit),
        current_page=request.page,
        total_items=total,
    )
