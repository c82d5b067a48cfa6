"""What a scoped project key may do: Composio's permission areas and levels (reference §7).

A scoped key holds a level per area, fixed when the key is created: `none`, `read`, `write` or
`read_write` (some areas offer fewer). Each route of the project API needs one permission, an
area and `read` or `write` by the route's meaning (a POST that only looks things up is a read).
`ROUTES` below is the one place that says which; tests/auth/test_scopes.py walks the
application's route table and fails for any project route missing from it, so a new route cannot
slip past the check. A full-access key (no scopes) skips all of this.

The check is made in `tenantry.auth.principal.project_principal`, from the route the request
matched, against the permissions cached with the key: a dict lookup and a set membership, no
database.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field, create_model, model_validator

from tenantry.errors import MissingPermission
from tenantry.kit.inputs import RequestBody


class Area(StrEnum):
    auth_configs = "auth_configs"
    connected_accounts = "connected_accounts"
    tools = "tools"
    tool_execution = "tool_execution"
    proxy_execute = "proxy_execute"
    toolkits = "toolkits"
    triggers = "triggers"
    webhooks = "webhooks"
    observability = "observability"
    # Tool-router sessions and MCP servers (Composio lets `sessions` grant its legacy MCP routes too).
    sessions = "sessions"
    # Ours: Composio puts `/org/project/config` under no area, so only full keys may call it there.
    project_config = "project_config"


class Level(StrEnum):
    none = "none"
    read = "read"
    write = "write"
    read_write = "read_write"


Access = Literal["read", "write"]

_ALL_LEVELS = (Level.none, Level.read, Level.write, Level.read_write)
# The levels each area offers, as Composio's dashboard offers them.
LEVELS: dict[Area, tuple[Level, ...]] = {
    Area.auth_configs: _ALL_LEVELS,
    Area.connected_accounts: _ALL_LEVELS,
    Area.tools: (Level.none, Level.read),
    Area.tool_execution: (Level.none, Level.write),
    Area.proxy_execute: (Level.none, Level.write),
    Area.toolkits: _ALL_LEVELS,
    Area.triggers: _ALL_LEVELS,
    Area.webhooks: _ALL_LEVELS,
    Area.observability: (Level.none, Level.read),
    Area.sessions: _ALL_LEVELS,
    Area.project_config: _ALL_LEVELS,
}
# What the dashboard's scoped-key form calls each area.
LABELS = {
    Area.auth_configs: "Auth configs",
    Area.connected_accounts: "Connected accounts",
    Area.tools: "Tools",
    Area.tool_execution: "Tool execution",
    Area.proxy_execute: "Proxy execute",
    Area.toolkits: "Toolkits",
    Area.triggers: "Triggers",
    Area.webhooks: "Webhooks",
    Area.observability: "Observability (logs, usage)",
    Area.sessions: "Sessions and MCP servers",
    Area.project_config: "Project settings",
}
DESCRIPTIONS = {
    Area.auth_configs: "Auth configs: read lists and gets them; write creates, changes, enables, disables and deletes them.",
    Area.connected_accounts: "Connected accounts: read lists and gets them; write creates, links, changes, refreshes and deletes them.",
    Area.tools: "Tools: read lists tools and their schemas.",
    Area.tool_execution: "Tool execution: write executes tools and uploads files for them.",
    Area.proxy_execute: "Proxy execute: write sends requests to a toolkit's API with an account's credentials.",
    Area.toolkits: "Toolkits: read lists the catalog.",
    Area.triggers: "Triggers: read lists trigger types and instances; write manages instances.",
    Area.webhooks: "Webhooks: read shows subscriptions; write creates, changes, rotates and deletes them.",
    Area.observability: "Observability: read searches logs and usage.",
    Area.sessions: "Sessions and MCP servers: read lists and gets them; write creates, changes and deletes them.",
    Area.project_config: "Project settings (`/org/project/config`): read gets them; write changes them.",
}


def permission(area: Area, access: Access) -> str:
    """The name of one permission, as error messages and the cached key state spell it."""
    return f"{area.value}:{access}"


# (method, path below /api/v3.1 and /api/v3) -> the one permission the route needs. Every route
# that takes a project key is here; tests/auth/test_scopes.py fails when one is missing.
ROUTES: dict[tuple[str, str], tuple[Area, Access]] = {
    ("GET", "/org/project/config"): (Area.project_config, "read"),
    ("PATCH", "/org/project/config"): (Area.project_config, "write"),
    ("GET", "/auth_configs"): (Area.auth_configs, "read"),
    ("GET", "/auth_configs/{nanoid}"): (Area.auth_configs, "read"),
    ("POST", "/auth_configs"): (Area.auth_configs, "write"),
    ("PATCH", "/auth_configs/{nanoid}"): (Area.auth_configs, "write"),
    ("DELETE", "/auth_configs/{nanoid}"): (Area.auth_configs, "write"),
    ("PATCH", "/auth_configs/{nanoid}/{status}"): (Area.auth_configs, "write"),
    ("GET", "/connected_accounts"): (Area.connected_accounts, "read"),
    ("GET", "/connected_accounts/{nanoid}"): (Area.connected_accounts, "read"),
    ("POST", "/connected_accounts"): (Area.connected_accounts, "write"),
    ("POST", "/connected_accounts/link"): (Area.connected_accounts, "write"),
    ("PATCH", "/connected_accounts/{nanoid}"): (Area.connected_accounts, "write"),
    ("DELETE", "/connected_accounts/{nanoid}"): (Area.connected_accounts, "write"),
    ("PATCH", "/connected_accounts/{nanoid}/status"): (Area.connected_accounts, "write"),
    ("POST", "/connected_accounts/{nanoid}/refresh"): (Area.connected_accounts, "write"),
    ("GET", "/toolkits"): (Area.toolkits, "read"),
    ("GET", "/toolkits/categories"): (Area.toolkits, "read"),
    ("GET", "/toolkits/{slug}"): (Area.toolkits, "read"),
    ("GET", "/tools"): (Area.tools, "read"),
    ("GET", "/tools/enum"): (Area.tools, "read"),
    ("GET", "/tools/{tool_slug}"): (Area.tools, "read"),
    ("POST", "/tools/execute/{tool_slug}"): (Area.tool_execution, "write"),
    ("POST", "/tools/execute/proxy"): (Area.proxy_execute, "write"),
    # Searches with a body: reads, though they are POSTs.
    ("POST", "/logs/tool_execution"): (Area.observability, "read"),
    ("GET", "/logs/tool_execution/{id}"): (Area.observability, "read"),
    ("POST", "/project/usage/summary"): (Area.observability, "read"),
    ("POST", "/project/usage/{entity_type}"): (Area.observability, "read"),
    ("GET", "/mcp/servers"): (Area.sessions, "read"),
    ("POST", "/mcp/servers"): (Area.sessions, "write"),
    ("POST", "/mcp/servers/custom"): (Area.sessions, "write"),
    # Builds URLs for existing servers and changes nothing: a read, though it is a POST.
    ("POST", "/mcp/servers/generate"): (Area.sessions, "read"),
    ("GET", "/mcp/{id}"): (Area.sessions, "read"),
    ("PATCH", "/mcp/{id}"): (Area.sessions, "write"),
    ("DELETE", "/mcp/{id}"): (Area.sessions, "write"),
    ("GET", "/webhook_subscriptions"): (Area.webhooks, "read"),
    ("GET", "/webhook_subscriptions/event_types"): (Area.webhooks, "read"),
    ("GET", "/webhook_subscriptions/{id}"): (Area.webhooks, "read"),
    ("GET", "/webhook_subscriptions/{id}/messages"): (Area.webhooks, "read"),
    ("GET", "/webhook_subscriptions/{id}/messages/{message_id}"): (Area.webhooks, "read"),
    ("POST", "/webhook_subscriptions"): (Area.webhooks, "write"),
    ("PATCH", "/webhook_subscriptions/{id}"): (Area.webhooks, "write"),
    ("DELETE", "/webhook_subscriptions/{id}"): (Area.webhooks, "write"),
    ("POST", "/webhook_subscriptions/{id}/rotate_secret"): (Area.webhooks, "write"),
    ("POST", "/webhook_subscriptions/{id}/messages/{message_id}/resend"): (Area.webhooks, "write"),
    ("POST", "/webhook_subscriptions/{id}/recover"): (Area.webhooks, "write"),
}

# The one entry point that takes a project key outside the route table: the MCP endpoint mounted
# at /v3/mcp, which lists and calls tools for an agent (Composio grants its MCP URLs through Sessions).
MCP_ENDPOINT: tuple[Area, Access] = (Area.sessions, "write")

# Also keyed by the route's path template, but answering the permission's name directly; HEAD
# is served by a GET route and needs what the GET needs.
_NEEDED: dict[tuple[str, str], str] = {
    (method, path): permission(area, access) for (method, path), (area, access) in ROUTES.items()
}
_NEEDED.update({("HEAD", path): needed for (method, path), needed in list(_NEEDED.items()) if method == "GET"})


def granted(levels: Mapping[str, str]) -> frozenset[str]:
    """The permissions a key with these levels holds (areas it does not name are `none`)."""
    permissions: set[str] = set()
    for name, level in levels.items():
        area = Area(name)
        if level in (Level.read, Level.read_write):
            permissions.add(permission(area, "read"))
        if level in (Level.write, Level.read_write):
            permissions.add(permission(area, "write"))
    return frozenset(permissions)


# The API's version prefixes (tenantry.api), which the table above leaves out.
_VERSION_PREFIXES = ("/api/v3.1/", "/api/v3/")


def _below_version_prefix(path: str | None) -> str | None:
    for prefix in _VERSION_PREFIXES:
        if path is not None and path.startswith(prefix):
            return path[len(prefix) - 1 :]
    return path


def require(permissions: frozenset[str], method: str, route: Any) -> None:
    """Raises MissingPermission unless a key holding `permissions` may call `route` with `method`.

    A route missing from the table is closed to scoped keys: failing shut is the safe mistake.
    """
    path = _below_version_prefix(getattr(route, "path_format", None))
    needed = _NEEDED.get((method, path)) if path is not None else None
    if needed is None:
        raise MissingPermission(
            f"Scoped API keys cannot call {method} {path or 'this route'}",
            suggested_fix="Use a full-access project key for this route",
        )
    if needed not in permissions:
        _missing(needed)


def require_permission(permissions: frozenset[str], area: Area, access: Access) -> None:
    """Raises MissingPermission unless `permissions` hold `area:access` (for entry points that are not routes)."""
    needed = permission(area, access)
    if needed not in permissions:
        _missing(needed)


def _missing(needed: str) -> None:
    area, _, access = needed.partition(":")
    raise MissingPermission(
        f"This API key lacks the {needed} permission ({access} access to {area})",
        errors=[f"x-api-key: missing permission {needed}"],
        suggested_fix=f"Use a key whose scopes give {area} the {access} level (or read_write)",
    )


# --- the wire form of a key's scopes -------------------------------------------------------------


def _level_field(area: Area) -> Any:
    offered = tuple(level.value for level in LEVELS[area])
    return (Literal[offered], Field(default="none", description=DESCRIPTIONS[area] + f" One of {', '.join(offered)}."))  # type: ignore[valid-type]


class _ScopesBase(RequestBody):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _grants_something(self) -> _ScopesBase:
        if all(value == Level.none for value in self.model_dump().values()):
            raise ValueError("a scoped key must give at least one area a level other than none")
        return self

    def levels(self) -> dict[str, str]:
        """The areas given a level other than `none`: what is stored with the key."""
        return {area: level for area, level in self.model_dump().items() if level != Level.none}


# One field per area, typed with exactly the levels the area offers, so a wrong level or an
# unknown area is a 400 naming `scopes.<area>`.
Scopes: type[_ScopesBase] = create_model(  # type: ignore[call-overload]
    "Scopes",
    __base__=_ScopesBase,
    __doc__="Levels per permission area; areas left out are `none`. Omit `scopes` altogether for a full-access key.",
    **{area.value: _level_field(area) for area in Area},
)


def shown(levels: Mapping[str, str] | None) -> dict[str, str] | None:
    """A key's scopes as the API shows them: every area with its level, or None for full access."""
    if levels is None:
        return None
    return {area.value: levels.get(area.value, Level.none.value) for area in Area}
