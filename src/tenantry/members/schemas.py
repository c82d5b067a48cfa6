from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from tenantry.kit.inputs import Choice, NoNul, RequestBody
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
    NoNul,
    AfterValidator(_lower),
]
MemberName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul]


class MemberCreate(RequestBody):
    model_config = ConfigDict(extra="forbid")

    email: Email
    name: MemberName = Field(description="Kept as it is when the person is already a member of another organization.")
    role: Choice[Role]


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
    has_password: bool = Field(description="Whether the member has chosen a dashboard password (with a link, or the operator's command line).")


class MemberList(BaseModel):
    """A page of members, in the order they joined; pass `next_cursor` back for the next page."""

    items: list[MemberListed]
    next_cursor: str | None
    total_pages: int
    current_page: int
    total_items: int


class MemberRoleUpdate(RequestBody):
    model_config = ConfigDict(extra="forbid")

    role: Choice[Role]


class MemberAdded(MemberListed):
    """A membership just made by an admin, with the member's one-time sign-in link, shown this once."""

    invitation_url: str | None = Field(
        description="Opens a page where the member chooses a dashboard password; works once, until "
        "`invitation_expires_at`. Null when the person also belongs to other organizations: they sign in "
        "with the password they already have."
    )
    invitation_expires_at: Timestamp | None


class Invitation(BaseModel):
    """A fresh one-time sign-in link for a member, shown this once; it replaces their earlier links."""

    invitation_url: str
    expires_at: Timestamp


class MemberRemoved(BaseModel):
    status: Literal["success"] = "success"
    revoked_user_keys: int = Field(description="How many of the member's user keys issued in this organization stopped working.")


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
