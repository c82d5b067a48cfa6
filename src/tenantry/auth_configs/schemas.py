"""Auth configs on the wire, as reference §1 describes them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tenantry.kit.inputs import Choice, JsonObject, NoNul, RequestBody, Text
from tenantry.kit.time import Timestamp
from tenantry.settings.schemas import HttpsUrl


class AuthScheme(StrEnum):
    OAUTH2 = "OAUTH2"
    OAUTH1 = "OAUTH1"
    API_KEY = "API_KEY"
    BASIC = "BASIC"
    BILLCOM_AUTH = "BILLCOM_AUTH"
    BEARER_TOKEN = "BEARER_TOKEN"
    GOOGLE_SERVICE_ACCOUNT = "GOOGLE_SERVICE_ACCOUNT"
    NO_AUTH = "NO_AUTH"
    BASIC_WITH_JWT = "BASIC_WITH_JWT"
    CALCOM_AUTH = "CALCOM_AUTH"
    SERVICE_ACCOUNT = "SERVICE_ACCOUNT"
    SAML = "SAML"
    DCR_OAUTH = "DCR_OAUTH"
    CIMD_OAUTH = "CIMD_OAUTH"
    S2S_OAUTH2 = "S2S_OAUTH2"


# The schemes Tenantry can run end to end; the others are accepted names but refused on create.
SUPPORTED_SCHEMES = frozenset(
    {AuthScheme.OAUTH2, AuthScheme.API_KEY, AuthScheme.BEARER_TOKEN, AuthScheme.BASIC, AuthScheme.NO_AUTH}
)

Name = Annotated[str, Field(min_length=1, max_length=255), NoNul]
Scopes = Text | list[Text]
ToolSlugs = Annotated[list[Annotated[str, Field(min_length=1, max_length=200), NoNul]], Field(max_length=1000)]


class ToolkitRef(RequestBody):
    slug: Annotated[str, Field(min_length=1, max_length=100), NoNul]


class ToolAccessConfig(RequestBody):
    model_config = ConfigDict(extra="forbid")

    tools_for_connected_account_creation: ToolSlugs = []
    tools_available_for_execution: ToolSlugs = []


class ProxyConfig(RequestBody):
    model_config = ConfigDict(extra="forbid")

    proxy_url: HttpsUrl
    proxy_auth_key: Text | None = None


class Credentials(RequestBody):
    """The developer's app credentials: `scopes` plus whatever fields the toolkit's scheme asks for."""

    model_config = ConfigDict(extra="allow")

    scopes: Scopes | None = None
    user_scopes: Scopes | None = None


class _AuthConfigSpec(RequestBody):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Name | None = None
    credentials: Credentials = Credentials()
    tool_access_config: ToolAccessConfig | None = None
    restrict_to_following_tools: ToolSlugs = []
    shared_credentials: JsonObject | None = None
    is_enabled_for_tool_router: bool = False


class ManagedAuthConfigCreate(_AuthConfigSpec):
    """Use the operator's app for the toolkit (Composio's `use_composio_managed_auth`)."""

    type: Literal["use_composio_managed_auth"]


class CustomAuthConfigCreate(_AuthConfigSpec):
    """Bring your own app credentials."""

    type: Literal["use_custom_auth"]
    auth_scheme: Choice[AuthScheme] = Field(alias="authScheme")
    proxy_config: ProxyConfig | None = None


class AuthConfigCreate(RequestBody):
    model_config = ConfigDict(extra="forbid")

    toolkit: ToolkitRef
    auth_config: Annotated[
        ManagedAuthConfigCreate | CustomAuthConfigCreate, Field(discriminator="type")
    ] = ManagedAuthConfigCreate(type="use_composio_managed_auth")


class CustomAuthConfigUpdate(RequestBody):
    """Omitted fields keep their value; `credentials` merge key by key (a `null` value removes a key)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["custom"]
    name: Name | None = None
    credentials: JsonObject | None = None
    proxy_config: ProxyConfig | None = None
    tool_access_config: ToolAccessConfig | None = None
    restrict_to_following_tools: ToolSlugs | None = None
    shared_credentials: JsonObject | None = None
    is_enabled_for_tool_router: bool | None = None


class DefaultAuthConfigUpdate(RequestBody):
    """For managed configs: scopes can change (`""` clears them); the app credentials cannot."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["default"]
    name: Name | None = None
    scopes: Scopes | None = None
    user_scopes: Scopes | None = None
    tool_access_config: ToolAccessConfig | None = None
    restrict_to_following_tools: ToolSlugs | None = None
    shared_credentials: JsonObject | None = None
    is_enabled_for_tool_router: bool | None = None


AuthConfigUpdate = Annotated[CustomAuthConfigUpdate | DefaultAuthConfigUpdate, Field(discriminator="type")]


class CreatedAuthConfig(BaseModel):
    id: str
    auth_scheme: str
    is_composio_managed: bool
    restrict_to_following_tools: list[str]


class AuthConfigCreated(BaseModel):
    toolkit: ToolkitRef
    auth_config: CreatedAuthConfig


class ToolkitSummary(BaseModel):
    slug: str
    logo: str
    auth_guide_url: str | None = None
    auth_hint_url: str | None = None


class ExpectedInputField(BaseModel):
    name: str
    displayName: str
    default: str | None
    type: str
    description: str
    required: bool
    is_secret: bool
    legacy_template_name: str | None = None
    user_visible: bool = True
    is_available_as_shared_credentials: bool = False


class ProxyConfigOut(BaseModel):
    proxy_url: str
    proxy_auth_key: str | None


class AuthConfig(BaseModel):
    """An auth config as read. Credentials are obfuscated: only `client_id` and `consumer_key` pass."""

    id: str
    uuid: str
    type: Literal["default", "custom"]
    toolkit: ToolkitSummary
    name: str
    auth_scheme: str
    is_composio_managed: bool
    credentials: dict[str, Any]
    proxy_config: ProxyConfigOut | None
    status: Literal["ENABLED", "DISABLED"]
    created_by: str | None
    created_at: Timestamp
    last_updated_at: Timestamp
    no_of_connections: int
    expected_input_fields: list[ExpectedInputField]
    restrict_to_following_tools: list[str]
    tool_access_config: ToolAccessConfig
    shared_credentials: dict[str, Any]
    is_enabled_for_tool_router: bool


class AuthConfigList(BaseModel):
    items: list[AuthConfig]
    next_cursor: str | None
    total_pages: int
    current_page: int
    total_items: int


class Success(BaseModel):
    success: Literal[True] = True
    message: str
