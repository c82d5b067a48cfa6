from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, StringConstraints

from tenantry.kit.time import Timestamp


class Role(StrEnum):
    """What a member may do in an organization (tenantry.members.auth says where each is checked).

    admin      everything an organization key may do.
    developer  everything but deleting and restoring projects and reading the audit log.
    """

    admin = "admin"
    developer = "developer"


def _lower(value: str) -> str:
    return value.lower()


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"),
    AfterValidator(_lower),
]
MemberName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class MemberCreate(BaseModel):
    email: Email
    name: MemberName
    role: Role


class MemberCreated(BaseModel):
    """A membership just made, with a user API key for the member, shown this once."""

    id: str
    email: str
    name: str
    org_id: str
    role: Role
    api_key: str


class MemberListed(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    created_at: Timestamp


class Organization(BaseModel):
    id: str
    name: str
    created_at: Timestamp
    updated_at: Timestamp


class OrganizationList(BaseModel):
    organizations: list[Organization]
    next_cursor: str | None
    total_pages: int
    current_page: int
    total_items: int
