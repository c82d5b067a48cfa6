"""Connected accounts on the wire (reference §3 and §4)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tenantry.auth_configs.schemas import AuthScheme
from tenantry.kit.inputs import Choice, JsonObject, NoNul, RequestBody
from tenantry.kit.time import Timestamp


class Status(StrEnum):
    INITIALIZING = "INITIALIZING"
    INITIATED = "INITIATED"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    INACTIVE = "INACTIVE"
    REVOKED = "REVOKED"


UserId = Annotated[str, Field(min_length=1, max_length=256), NoNul]
UserIds = Annotated[list[UserId], Field(max_length=1000)]
Alias = Annotated[str, Field(max_length=256), NoNul]
Url = Annotated[str, Field(max_length=2048), NoNul]
AuthConfigId = Annotated[str, Field(min_length=1, max_length=64), NoNul]


class StateIn(RequestBody):
    """`{"authScheme": …, "val": {…credential fields}}`; `val.status` is accepted and ignored."""

    model_config = ConfigDict(extra="forbid")

    authScheme: Choice[AuthScheme]
    val: JsonObject = {}


class AclConfigForShared(RequestBody):
    allow_all_users: bool = False
    allowed_user_ids: UserIds = []
    not_allowed_user_ids: UserIds = []


class Experimental(RequestBody):
    account_type: Literal["PRIVATE", "SHARED"] = "PRIVATE"
    acl_config_for_shared: AclConfigForShared | None = None


class Connection(RequestBody):
    model_config = ConfigDict(extra="forbid")

    state: StateIn | None = None
    user_id: UserId = "default"
    alias: Alias | None = None
    callback_url: Url | None = None
    redirect_uri: Url | None = Field(default=None, description="Deprecated: use callback_url.")
    data: JsonObject | None = Field(default=None, description="Deprecated: use state.")
    deprecated_is_v1_rerouted: bool = False
    experimental: Experimental | None = None


class AuthConfigRef(RequestBody):
    id: AuthConfigId


class ConnectedAccountCreate(RequestBody):
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


class StateUpdate(RequestBody):
    model_config = ConfigDict(extra="forbid")

    authScheme: Choice[AuthScheme]
    val: Annotated[dict[str, str | None], NoNul]


class ConnectionUpdate(RequestBody):
    model_config = ConfigDict(extra="forbid")

    state: StateUpdate


class ConnectedAccountUpdate(RequestBody):
    """`alias` (`""` clears it) and credential fields (`null` deletes one); omitted fields keep their value."""

    model_config = ConfigDict(extra="forbid")

    alias: Alias | None = None
    connection: ConnectionUpdate | None = None
    experimental: Experimental | None = None


class ConnectedAccountUpdated(BaseModel):
    success: Literal[True] = True
    id: str
    status: str


class StatusUpdate(RequestBody):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


class Success(BaseModel):
    success: Literal[True] = True


class RefreshRequest(RequestBody):
    redirect_url: Url | None = None
    validate_credentials: bool | None = None


class Refreshed(BaseModel):
    id: str
    status: Status
    redirect_url: str | None


class LinkCreate(RequestBody):
    model_config = ConfigDict(extra="forbid")

    auth_config_id: AuthConfigId
    user_id: UserId
    alias: Alias | None = None
    callback_url: Url | None = None
    connection_data: JsonObject | None = None
    experimental: Experimental | None = None


class LinkCreated(BaseModel):
    link_token: str
    redirect_url: str
    expires_at: Timestamp
    connected_account_id: str
