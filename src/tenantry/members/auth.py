"""Who acts in an organization: its organization key, or a member's user key with the member's role.

Which routes a user key (`x-user-api-key`) may call:

  GET /org/list, GET /org/project/list            user keys only (reference §3.6–3.7)
  /org/owner/project/… (create, list, get,         organization key, or a user key of an admin or
    regenerate_api_key, api_keys),                  developer of the organization
    GET /org/owner/members
  DELETE /org/owner/project/{id}, …/restore,       organization key, or a user key of an admin
    GET /org/owner/audit_log, /org/owner/api_keys,
    changes to /org/owner/members

A user key acts in the organization it was issued in, or in the one named by an `x-org-id`
header (Composio's scope header) when the member belongs to it; an organization the member does
not belong to is a 404, like one that does not exist. An organization key can do everything in
its organization, so only admins (and organization keys) may issue or revoke them."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import Depends, Header

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal, org_or_user_principal, user_principal
from tenantry.db import Session
from tenantry.errors import OrganizationNotFound, RoleForbidden
from tenantry.kit import ids
from tenantry.kit.inputs import NoNul
from tenantry.kit.keys import KeyKind
from tenantry.members.schemas import Role

OrgIdHeader = Annotated[
    str | None,
    Header(description="With a user key: the organization (`ok_…`) to act in; the key's own by default."),
    NoNul,
]


async def _in_organization(principal: Principal, session: Session, org_id: str | None) -> Principal:
    """The user key's principal, acting in `org_id` (or its own organization) with the member's role there."""
    assert principal.member_id is not None, "user keys always belong to a member"
    target = org_id or principal.org_id
    membership = None
    if ids.looks_like("ok", target):
        membership = await session.scalar(tenancy.membership(principal.member_id, target))
    if membership is None:
        raise OrganizationNotFound()
    return dataclasses.replace(principal, org_id=target, role=membership.role)


async def _org_actor(
    principal: Annotated[Principal, Depends(org_or_user_principal)], session: Session, x_org_id: OrgIdHeader = None
) -> Principal:
    if principal.kind is KeyKind.organization:
        return principal
    return await _in_organization(principal, session, x_org_id)


async def _org_admin(actor: Annotated[Principal, Depends(_org_actor)]) -> Principal:
    if actor.kind is KeyKind.user and actor.role != Role.admin:
        raise RoleForbidden(
            f"This needs the admin role in organization {actor.org_id}; yours is {actor.role}",
            suggested_fix="Ask an admin of the organization, or use its organization key",
        )
    return actor


async def _member(
    principal: Annotated[Principal, Depends(user_principal)], session: Session, x_org_id: OrgIdHeader = None
) -> Principal:
    return await _in_organization(principal, session, x_org_id)


# An organization key, or a member of the organization in any role.
OrgActor = Annotated[Principal, Depends(_org_actor)]
# An organization key, or an admin of the organization.
OrgAdmin = Annotated[Principal, Depends(_org_admin)]
# A member's user key, resolved to one of their organizations.
Member = Annotated[Principal, Depends(_member)]
# A member's user key, across all their organizations.
UserKey = Annotated[Principal, Depends(user_principal)]
