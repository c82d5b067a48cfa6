"""The MCP endpoint agents connect to: `/v3/mcp/{server_id}?user_id=…`, Streamable HTTP.

A thin ASGI gate runs before the official `mcp` SDK sees the request: it finds the server the URL
names, applies the project's `require_mcp_api_key` (a live key of the same project, or 401 in
the error envelope before anything else runs), and hands the SDK's handlers an `McpContext`.
The SDK runs stateless, so any worker can answer any request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from tenantry import __version__
from tenantry.auth import scopes
from tenantry.auth.principal import Principal, authenticate, capability_principal
from tenantry.db import unit_of_work
from tenantry.connected_accounts.repository import ConnectedAccountRepository
from tenantry.errors import AppError, McpServerNotFound, PayloadTooLarge, Unauthenticated, render, request_id_of
from tenantry.kit.inputs import checked_text
from tenantry.kit.keys import KeyKind
from tenantry.mcp.repository import McpEndpointRepository
from tenantry.models import McpServer
from tenantry.settings import service as settings_service
from tenantry.toolkits.catalog import get_catalog
from tenantry.toolkits.spec import Tool
from tenantry.tools import service as tools_service
from tenantry.usage import service as usage

PATH = re.compile(r"^/v3/mcp/(?P<server_id>[0-9A-Za-z-]{1,64})(?:/mcp)?/?$")
MAX_BODY_BYTES = 4 * 1024 * 1024
_STATE_KEY = "tenantry_mcp"


@dataclass(frozen=True)
class McpContext:
    """Who an MCP request acts for: the server's project, a user, maybe pinned accounts."""

    server_id: str
    project_id: str
    principal: Principal
    toolkits: tuple[str, ...]
    allowed_tools: frozenset[str]
    user_id: str
    connected_account_ids: tuple[str, ...]

    def tools(self) -> list[Tool]:
        catalog = get_catalog()
        offered = [tool for slug in self.toolkits if (toolkit := catalog.get(slug)) for tool in toolkit.tools]
        return [tool for tool in offered if not self.allowed_tools or tool.slug in self.allowed_tools]


def context_of(ctx: Any) -> McpContext:
    request = ctx.request
    assert request is not None, "the MCP SDK hands every HTTP request to its handlers"
    context: McpContext = request.scope["state"][_STATE_KEY]
    return context


async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    context = context_of(ctx)
    return types.ListToolsResult(
        tools=[
            types.Tool(
                name=tool.slug,
                title=tool.name,
                description=tool.description or tool.name,
                input_schema=tool.input_parameters or {"type": "object", "properties": {}},
            )
            for tool in context.tools()
        ]
    )


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    """Runs the tool through the same path as `POST /tools/execute`: same checks, log and metering."""
    context = context_of(ctx)
    tools = {tool.slug: tool for tool in context.tools()}
    if params.name not in tools:
        return _tool_error(f"{params.name} is not a tool of this MCP server; call tools/list to see which are.")
    runtime = ctx.request.app.state.tools
    account_id = await _pinned_account(runtime, context, params.name)
    try:
        result = await tools_service.execute(
            runtime,
            context.principal,
            params.name,
            dict(params.arguments or {}),
            connected_account_id=account_id,
            user_id=None if account_id else context.user_id,
            source="mcp",
            request_id=request_id_of(ctx.request),
        )
    except AppError as error:
        return _tool_error(_for_the_agent(context, " ".join(filter(None, [error.message, error.suggested_fix]))))
    if not result.successful:
        return _tool_error(_for_the_agent(context, result.error or "The tool call failed"))
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=json.dumps(result.data, default=str))],
        structured_content={"data": result.data, "log_id": result.log_id},
        is_error=False,
    )


async def _pinned_account(runtime: Any, context: McpContext, tool_slug: str) -> str | None:
    """Of the accounts the URL pins, the one for this tool's toolkit (None: pick by user)."""
    if not context.connected_account_ids:
        return None
    toolkit = next(kit.slug for kit in map(get_catalog().require, context.toolkits) if any(t.slug == tool_slug for t in kit.tools))
    async with unit_of_work(runtime.sessionmaker, read_only=True) as session:
        repository = ConnectedAccountRepository(session, context.principal)
        for account_id in context.connected_account_ids:
            account = await repository.get(account_id)
            if account is not None and account.toolkit_slug == toolkit:
                return account_id
    return None


def _for_the_agent(context: McpContext, problem: str) -> str:
    """The error, plus what to do about it when the user's account is the problem."""
    if "account" not in problem.lower():
        return problem
    return (
        f"{problem}. The user {context.user_id!r} needs a connected, ACTIVE account for this toolkit: "
        "ask them to connect it (the developer can send them a link from POST /api/v3.1/connected_accounts/link), "
        "then call the tool again."
    )


def _tool_error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


def build_server(call_tool: Callable[[Any, types.CallToolRequestParams], Awaitable[types.CallToolResult]]) -> Server[Any]:
    return Server("tenantry", version=__version__, on_list_tools=list_tools, on_call_tool=call_tool)


class McpEndpoint:
    """The ASGI app mounted at /v3/mcp."""

    def __init__(self, server: Server[Any]) -> None:
        self.sessions = StreamableHTTPSessionManager(app=server, stateless=True, json_response=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            context = await self._admit(request)
        except AppError as error:
            await render(request, error)(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except AppError as error:
            await render(request, error)(scope, receive, send)
            return
        opens_session = _is_initialize(body)
        scope.setdefault("state", {})[_STATE_KEY] = context
        status: list[int] = []

        async def replay() -> Message:
            nonlocal body
            chunk, body = body, b""
            return {"type": "http.request", "body": chunk, "more_body": False}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.sessions.handle_request(scope, replay, watch)
        if opens_session and status and status[0] < 400:
            await _session_opened(request, context)

    async def _admit(self, request: Request) -> McpContext:
        match = PATH.match(request.url.path)
        if match is None or request.scope["type"] != "http":
            raise McpServerNotFound()
        state = request.app.state
        async with unit_of_work(state.sessionmaker, read_only=True) as session:
            server = await McpEndpointRepository(session).server(match["server_id"])
        if server is None:
            raise McpServerNotFound()
        settings = await settings_service.read(state.cache, server.project_id)
        principal = capability_principal(server.project_id)
        if settings.require_mcp_api_key:
            principal = await authenticate(request, request.headers.get("x-api-key"), KeyKind.project)
            if principal.project_id != server.project_id:
                # Same words as an unknown key: a key reveals nothing about other projects.
                raise Unauthenticated("The x-api-key is not valid, or has been revoked")
            if principal.permissions is not None:
                scopes.require_permission(principal.permissions, *scopes.MCP_ENDPOINT)
        return _context(server, principal, request)


async def _session_opened(request: Request, context: McpContext) -> None:
    """An `initialize` succeeded: one metered session, and the user counts as an instance of the server."""
    async with unit_of_work(request.app.state.sessionmaker) as session:
        await McpEndpointRepository(session).remember_instance(context.server_id, context.user_id)
        await usage.meter_session(session, context.project_id, user_id=context.user_id)


def _context(server: McpServer, principal: Principal, request: Request) -> McpContext:
    query = parse_qs(request.url.query)
    pinned = [item for value in query.get("connected_account_ids", []) for item in value.split(",") if item]
    return McpContext(
        server_id=server.id,
        project_id=server.project_id,
        principal=principal,
        toolkits=tuple(server.toolkits),
        allowed_tools=frozenset(server.allowed_tools),
        user_id=checked_text("user_id", (query.get("user_id") or ["default"])[0][:256] or "default"),
        connected_account_ids=tuple(checked_text("connected_account_ids", item) for item in pinned),
    )


async def _read_body(receive: Receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"MCP request bodies are limited to {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _is_initialize(body: bytes) -> bool:
    try:
        message = json.loads(body or b"null")
    except ValueError:
        return False
    messages = message if isinstance(message, list) else [message]
    return any(isinstance(item, dict) and item.get("method") == "initialize" for item in messages)
