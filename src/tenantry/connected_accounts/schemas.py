"""Connected accounts on the wire (reference §3 and §4)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tenantry.auth_configs.schemas import AuthScheme
from tenantry.kit.time import Timestamp


class Status(StrEnum):
    INITIALIZING = "INITIALIZING"
    INITIATED = "INITIATED"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    INACTIVE = "INACTIVE"
    REVOKED = "REVOKED"


UserId = Annotated[str, Field(min_length=1, max_length=256)]
Alias = Annotated[str, Field(max_length=256)]


class StateIn(BaseModel):
    """`{"authScheme": …, "val": {…credential fields}}`; `val.status` is accepted and ignored."""

    model_config = ConfigDict(extra="forbid")

    authScheme: AuthScheme
    val: dict[str, Any] = {}


class AclConfigForShared(BaseModel):
    allow_all_users: bool = False
    allowed_user_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=256)]], Field(max_length=1000)] = []
    not_allowed_user_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=256)]], Field(max_length=1000)] = []


class Experimental(BaseModel):
    account_type: Literal["PRIVATE", "SHARED"] = "PRIVATE"
    acl_config_for_shared: AclConfigForShared | None = None


class Connection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: StateIn | None = None
    user_id: UserId = "default"
    alias: Alias | None = None
    callback_url: Annotated[str, Field(max_length=2048)] | None = None
    redirect_uri: Annotated[str, Field(max_length=2048)] | None = Field(default=None, description="Deprecated: use callback_url.")
    data: dict[str, Any] | None = Field(default=None, description="Deprecated: use state.")
    deprecated_is_v1_rerouted: bool = False
    experimental: Experimental | None = None


class AuthConfigRef(BaseModel):
    id: Annotated[str, Field(min_length=1, max_length=64)]


class ConnectedAccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auth_config: AuthConfigRef
    connection: Connection = Connection()
    validate_credentials: bool | None = None


class ConnectionState(BaseModel):
    authScheme: str
    val: dict[str, Any]


class ConnectedAccountCreated(BaseModel):
    id: str
    connectionData: ConnectionState
    status: Status
    redirect_url: str | None
    redirect_uri: str | None
    deprecated: dict[str, str]


class ToolkitRef(BaseModel):
    slug: str


class AuthConfigSummary(BaseModel):
    id: str
    auth_scheme: str
    is_composio_managed: bool
    is_disabled: bool


class ConnectedAccountListItem(BaseModel):
    toolkit: ToolkitRef
    auth_config: AuthConfigSummary
    id: str
    word_id: str
    alias: str | None
    user_id: str
    status: Status
    status_reason: str | None
    is_disabled: bool
    created_at: Timestamp
    updated_at: Timestamp
    state: ConnectionState
    data: dict[str, Any]
    requested_scopes: list[str]
    requested_user_scopes: list[str] = []
    deprecated: dict[str, Any]
    experimental: Experimental | None = None


class ConnectedAccount(ConnectedAccountListItem):
    params: dict[str, Any]


class ConnectedAccountList(BaseModel):
    items: list[ConnectedAccountListItem]
    next_cursor: str | None
    total_pages: int
    current_page: int
    total_items: int


class StateUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    authScheme: AuthScheme
    val: dict[str, str | None]


class ConnectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: StateUpdate


class ConnectedAccountUpdate(BaseModel):
    """`alias` (`""` clears it) and credential fields (`null` deletes one); omitted fields keep their value."""

    model_config = ConfigDict(extra="forbid")

    alias: Alias | None = None
    connection: ConnectionUpdate | None = None
    experimental: Experimental | None = None


class ConnectedAccountUpdated(BaseModel):
    success: Literal[True] = True
    id: str
    status: str


class StatusUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


class Success(BaseModel):
    success: Literal[True] = True


class RefreshRequest(BaseModel):
    redirect_url: Annotated[str, Field(max_length=2048)] | None = None
    validate_credentials: bool | None = None


class Refreshed(BaseModel):
    id: str
    status: Status
    redirect_url: str | None


class LinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auth_config_id: Annotated[str, Field(min_length=1, max_length=64)]
    user_id: UserId
    alias: Alias | None = None
    callback_url: Annotated[str, Field(max_length=2048)] | None = None
    connection_data: dict[str, Any] | None = None
    experimental: Experimental | None = None


class LinkCreated(BaseModel):
    link_token: str
    redirect_url: str
    expires_at: Timestamp
    connected_account_id: str
