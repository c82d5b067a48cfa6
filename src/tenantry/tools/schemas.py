"""Tools on the wire, in the shapes composio-client 1.43.0 parses (`tool_*_response.py`, `tool_*_params.py`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tenantry.kit.inputs import JsonObject, JsonValue, NoNul, RequestBody, Text


class ToolkitRef(BaseModel):
    slug: str
    name: str
    logo: str


class DeprecatedToolkit(BaseModel):
    logo: str


class ToolDeprecated(BaseModel):
    available_versions: list[str]
    display_name: str = Field(serialization_alias="displayName")
    is_deprecated: bool
    toolkit: DeprecatedToolkit
    version: str


class Tool(BaseModel):
    """A tool: what it takes and returns, and the toolkit it belongs to."""

    slug: str
    name: str
    description: str
    human_description: str | None = None
    input_parameters: dict[str, Any]
    output_parameters: dict[str, Any]
    no_auth: bool
    scopes: list[str]
    scope_requirements: None = None
    tags: list[str]
    toolkit: ToolkitRef
    version: str
    available_versions: list[str]
    is_deprecated: bool
    deprecated: ToolDeprecated


class ToolList(BaseModel):
    items: list[Tool]
    next_cursor: str | None
    total_pages: int
    current_page: int
    total_items: int


UserId = Annotated[str, Field(min_length=1, max_length=256), NoNul]
AccountId = Annotated[str, Field(max_length=64), NoNul]
ContentType = Annotated[str, Field(max_length=200), NoNul]


class ToolExecute(RequestBody):
    """`POST /tools/execute/{tool_slug}`: the arguments, and whose account to run them with."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    arguments: JsonObject = Field(default_factory=dict)
    connected_account_id: AccountId | None = None
    user_id: UserId | None = None
    # Deprecated by Composio in favour of user_id; taken as user_id when that is not given.
    entity_id: UserId | None = None
    version: Annotated[str, Field(max_length=40), NoNul] | None = None
    allow_tracing: bool | None = None
    # Accepted so Composio's clients can send them; `text`, custom auth and connection data are refused.
    text: Text | None = None
    custom_auth_params: JsonObject | None = None
    custom_connection_data: JsonObject | None = None
    x_llm_gateway_headers: Text | None = Field(default=None, alias="x-llm-gateway-headers")


class ToolExecution(BaseModel):
    """What an execution answered. A failed call to the toolkit's API is `successful: false`, not an HTTP error."""

    data: dict[str, Any]
    error: str | None
    successful: bool
    log_id: str | None
    session_info: None = None


class ProxyParameter(RequestBody):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200), NoNul]
    type: Literal["header", "query"]
    value: Annotated[str, Field(max_length=8000), NoNul]


class BinaryBodyBase64(RequestBody):
    model_config = ConfigDict(extra="forbid")

    base64: Text
    content_type: ContentType | None = None


class BinaryBodyUrl(RequestBody):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Field(max_length=2048), NoNul]
    content_type: ContentType | None = None


class ProxyRequest(RequestBody):
    """`POST /tools/execute/proxy`: any request to the account's toolkit API, credential added by the server."""

    model_config = ConfigDict(extra="forbid")

    endpoint: Annotated[str, Field(min_length=1, max_length=4000), NoNul] = Field(
        description="A path below the toolkit's base URL, or an absolute URL on its host."
    )
    method: Literal["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]
    connected_account_id: AccountId | None = None
    body: JsonValue = None
    binary_body: BinaryBodyBase64 | BinaryBodyUrl | None = None
    parameters: list[ProxyParameter] = Field(default_factory=list, max_length=100)
    custom_connection_data: JsonObject | None = None


class BinaryData(BaseModel):
    content_type: str
    size: int
    # A data: URL holding the bytes; no file is kept on the server.
    url: str
    expires_at: str | None = None


class ProxyResponse(BaseModel):
    status: int
    data: Any = None
    headers: dict[str, str] = Field(default_factory=dict)
    binary_data: BinaryData | None = None
