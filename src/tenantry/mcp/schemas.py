"""MCP server configuration on the wire (reference §7.1)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tenantry.kit.inputs import NoNul, RequestBody, Text
from tenantry.kit.time import Timestamp

ServerName = Annotated[str, Field(min_length=4, max_length=30, pattern=r"^[a-zA-Z0-9- ]+$"), NoNul]
Ids = Annotated[list[Annotated[str, Field(min_length=1, max_length=64), NoNul]], Field(max_length=100)]
ToolSlugs = Annotated[list[Annotated[str, Field(min_length=1, max_length=200), NoNul]], Field(max_length=1000)]
Slugs = Annotated[list[Text], Field(max_length=100)]


class McpServerCreate(RequestBody):
    model_config = ConfigDict(extra="forbid")

    name: ServerName
    auth_config_ids: Ids
    allowed_tools: ToolSlugs = []
    no_auth_apps: Slugs = []
    managed_auth_via_composio: bool = False


class McpCustomCreate(RequestBody):
    """What Composio's Python SDK sends for `composio.mcp.create()`."""

    model_config = ConfigDict(extra="forbid")

    name: ServerName
    auth_config_ids: Ids = []
    toolkits: Slugs = []
    allowed_tools: ToolSlugs = []
    custom_tools: ToolSlugs = Field(default=[], description="Deprecated: use allowed_tools.")
    managed_auth_via_composio: bool = False


class McpServerUpdate(RequestBody):
    model_config = ConfigDict(extra="forbid")

    name: ServerName | None = None
    toolkits: Slugs | None = None
    allowed_tools: ToolSlugs | None = None
    managed_auth_via_composio: bool | None = None
    auth_config_ids: Ids | None = None


class Commands(BaseModel):
    cursor: str
    claude: str
    windsurf: str


class McpServer(BaseModel):
    id: str
    name: str
    auth_config_ids: list[str]
    allowed_tools: list[str]
    mcp_url: str
    toolkits: list[str]
    toolkit_icons: dict[str, str]
    commands: Commands
    updated_at: Timestamp
    created_at: Timestamp
    server_instance_count: int
    managed_auth_via_composio: bool


class McpServerDetail(McpServer):
    deleted: bool = False


class McpServerList(BaseModel):
    items: list[McpServer]
    total_pages: int
    current_page: int


class McpCustomCreated(BaseModel):
    id: str
    name: str
    auth_config_ids: list[str]
    allowed_tools: list[str]
    mcp_url: str
    commands: Commands


class McpServerDeleted(BaseModel):
    id: str
    deleted: Literal[True] = True


class GenerateUrls(RequestBody):
    model_config = ConfigDict(extra="forbid")

    mcp_server_id: Annotated[str, Field(min_length=1, max_length=64), NoNul]
    user_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=256), NoNul]], Field(max_length=1000)] = []
    connected_account_ids: Ids = []
    managed_auth_by_composio: bool = False


class GeneratedUrls(BaseModel):
    mcp_url: str
    user_ids_url: list[str]
    connected_account_urls: list[str]
