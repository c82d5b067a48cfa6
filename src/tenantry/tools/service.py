"""Tools: the catalog's tools listed in Composio's shapes, and executed against their toolkit's API.

An execution runs in three steps, so that no database transaction is open while the toolkit's
API is called (on SQLite that would hold the write lock; on PostgreSQL, the account's row):

1. the connected account and its credential are resolved (tenantry.tools.connections): one read
   of the account's row when this worker already unsealed its credential, else a short
   transaction that unseals it, refreshing an OAuth2 token when due; it commits, so an account
   that turned EXPIRED stays EXPIRED;
2. the HTTP call, outside any transaction, with the credential added and scrubbed from the answer;
3. the log, which meters the call, is queued and written in a batch after the answer
   (tenantry.logs.queue); a call waits before step 1 when the queue is full.

`execute` and `proxy` are what other domains (MCP) call; they take the process's ToolRuntime.
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.principal import Principal
from tenantry.auth_configs.repository import AuthConfigRepository
from tenantry.errors import AccountNotActive, InvalidRequest, ToolNotFound, UpstreamFailed
from tenantry.kit.time import utcnow
from tenantry.logs import service as logs
from tenantry.settings import service as settings
from tenantry.toolkits.catalog import Catalog, Toolkit, get_catalog
from tenantry.toolkits.service import DEFAULT_PAGE_SIZE, LATEST, OffsetCursor
from tenantry.toolkits.spec import Tool
from tenantry.tools import schemas
from tenantry.tools.calls import proxy_call, tool_call
from tenantry.tools.connections import resolve
from tenantry.tools.credentials import NO_CREDENTIAL, Credential
from tenantry.tools.outbound import Answer, HostPolicy, OutboundError
from tenantry.tools.runtime import ToolRuntime

# The tool slug proxy calls are logged and metered under.
PROXY_TOOL_SLUG = "PROXY_EXECUTE"
# Composio's default tool version, meaning "the current one".
BASE_VERSION = "00000000_00"
# Response headers that describe the connection or the original encoding, not the content.
_HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "set-cookie", "upgrade"})
MAX_ERROR_DETAIL = 300


# --- the catalog -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolFilter:
    toolkit_slugs: list[str] | None = None
    tool_slugs: list[str] | None = None
    search: str | None = None
    tags: list[str] | None = None
    scopes: list[str] | None = None
    important: bool = False
    include_deprecated: bool = False

    def apply(self, catalog: Catalog) -> list[tuple[Toolkit, Tool]]:
        if self.tool_slugs:
            # Named tools override every other filter, and come in the order named.
            found = (catalog.tool(slug) for slug in dict.fromkeys(self.tool_slugs))
            return [pair for pair in found if pair is not None]
        # None: any toolkit; an empty list: none (auth_config_ids that name no config of the project).
        wanted_toolkits = None if self.toolkit_slugs is None else {slug.lower() for slug in self.toolkit_slugs}
        text = (self.search or "").casefold()
        tags = {tag.casefold() for tag in self.tags or ()}
        if self.important:
            tags.add("important")
        scopes = set(self.scopes or ())
        chosen = []
        for toolkit, tool in catalog.tools():
            if wanted_toolkits is not None and toolkit.slug not in wanted_toolkits:
                continue
            if not self.include_deprecated and (tool.deprecated or toolkit.deprecated):
                continue
            if text and not any(text in value.casefold() for value in (tool.slug, tool.name, tool.description)):
                continue
            if tags and not tags & {tag.casefold() for tag in tool.tags}:
                continue
            if scopes and not scopes & set(tool.scopes):
                continue
            chosen.append((toolkit, tool))
        return chosen


def to_schema(toolkit: Toolkit, tool: Tool) -> schemas.Tool:
    deprecated = tool.deprecated or toolkit.deprecated
    return schemas.Tool(
        slug=tool.slug,
        name=tool.name,
        description=tool.description,
        input_parameters=tool.input_parameters or {"type": "object", "properties": {}},
        output_parameters=tool.output_parameters,
        no_auth=toolkit.no_auth,
        scopes=list(tool.scopes),
        tags=list(tool.tags),
        toolkit=schemas.ToolkitRef(slug=toolkit.slug, name=toolkit.name, logo=toolkit.logo),
        version=toolkit.version,
        available_versions=[toolkit.version],
        is_deprecated=deprecated,
        deprecated=schemas.ToolDeprecated(
            available_versions=[toolkit.version],
            display_name=tool.name,
            is_deprecated=deprecated,
            toolkit=schemas.DeprecatedToolkit(logo=toolkit.logo),
            version=toolkit.version,
        ),
    )


def list_page(catalog: Catalog, tool_filter: ToolFilter, *, limit: int | None, cursor: str | None) -> schemas.ToolList:
    position = OffsetCursor.decode(cursor) if cursor else None
    page_size = limit or (position.limit if position else DEFAULT_PAGE_SIZE)
    offset = position.offset if position else 0
    page = position.page if position else 1
    tools = tool_filter.apply(catalog)
    shown = tools[offset : offset + page_size]
    following = offset + len(shown)
    return schemas.ToolList(
        items=[to_schema(toolkit, tool) for toolkit, tool in shown],
        next_cursor=OffsetCursor(page + 1, page_size, following).encode() if following < len(tools) else None,
        total_pages=max(1, math.ceil(len(tools) / page_size)),
        current_page=page,
        total_items=len(tools),
    )


def require_tool(catalog: Catalog, slug: str, version: str | None = None) -> tuple[Toolkit, Tool]:
    found = catalog.tool(slug)
    if found is None:
        raise ToolNotFound(
            f"Tool '{slug}' not found", suggested_fix="GET /api/v3.1/tools lists the tools this server offers"
        )
    toolkit, tool = found
    if version not in (None, "", LATEST, BASE_VERSION, toolkit.version):
        raise ToolNotFound(f"Tool '{tool.slug}' has no version '{version}'", suggested_fix=f"Use '{LATEST}' or {toolkit.version}")
    return found


def get(catalog: Catalog, slug: str, version: str | None = None) -> schemas.Tool:
    return to_schema(*require_tool(catalog, slug, version))


async def toolkits_of_auth_configs(session: AsyncSession, principal: Principal, auth_config_ids: Iterable[str]) -> list[str]:
    repository = AuthConfigRepository(session, principal)
    slugs = []
    for auth_config_id in auth_config_ids:
        auth_config = await repository.get(auth_config_id)
        if auth_config is not None:
            slugs.append(auth_config.toolkit_slug)
    return slugs


# --- what the API answered ------------------------------------------------------------------------


def _decode(answer: Answer, credential: Credential) -> tuple[str, Any]:
    """("json" | "text" | "binary" | "empty", the body), secrets scrubbed."""
    if not answer.content:
        return "empty", None
    content_type = answer.content_type.lower()
    if "json" in content_type or answer.content[:1] in (b"{", b"["):
        try:
            return "json", credential.scrub(json.loads(answer.content))
        except ValueError:
            pass
    if content_type.startswith("text/") or "xml" in content_type or "json" in content_type or not content_type:
        try:
            return "text", credential.scrub(answer.content.decode())
        except UnicodeDecodeError:
            pass
    return "binary", credential.scrub(answer.content)


def _error_detail(body: Any) -> str | None:
    """A provider's own error message, when its JSON body has one where providers put them."""
    if isinstance(body, dict):
        for key in ("message", "error_description", "error", "detail", "title"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:MAX_ERROR_DETAIL]
            if isinstance(value, dict):
                nested = _error_detail(value)
                if nested:
                    return nested
    return None


def _tool_data(kind: str, body: Any, answer: Answer) -> dict[str, Any]:
    if kind == "json" and isinstance(body, dict):
        return body
    if kind == "binary":
        return {"content_type": answer.content_type, "content_base64": base64.b64encode(body).decode()}
    return {} if kind == "empty" else {"response_data": body}


def _duration_ms(started: float) -> int:
    return max(0, round((time.perf_counter() - started) * 1000))


# --- executing a tool ----------------------------------------------------------------------------


async def execute(
    runtime: ToolRuntime,
    principal: Principal,
    tool_slug: str,
    arguments: dict[str, Any],
    *,
    connected_account_id: str | None = None,
    user_id: str | None = None,
    version: str | None = None,
    source: str = "api",
    session_id: str | None = None,
    request_id: str | None = None,
) -> schemas.ToolExecution:
    """Runs a tool for the principal's project; its log, which meters the call, is queued before it returns.

    Request errors (an unknown tool, invalid arguments, another project's account) raise; an
    account that cannot be used, or an API that fails, answers `successful: false` with a log.
    """
    assert principal.project_id is not None
    toolkit, tool = require_tool(get_catalog(), tool_slug, version)
    if tool.request is None:
        raise InvalidRequest.field("tool_slug", f"{tool.slug} is listed but has no request to make, so it cannot be executed")
    problems = tool.argument_problems(arguments)
    if problems:
        raise InvalidRequest(f"Invalid arguments for {tool.slug}: " + "; ".join(problems), errors=problems)
    # Refused now rather than after the account is touched (the URL does not matter here).
    tool_call(tool, tool.request, "http://placeholder.invalid", arguments, NO_CREDENTIAL)
    config = await settings.read(runtime.cache, principal.project_id)
    store_data = config.log_visibility_setting == "show_all"
    await runtime.logs.make_room()

    started_at, started = utcnow(), time.perf_counter()
    _, connection = await resolve(
        runtime, principal, toolkit, account_id=connected_account_id, user_id=user_id, tool_slug=tool.slug
    )
    data: dict[str, Any] = {}
    error = audit_error = connection.failure
    http_status = None
    if error is None and connection.base_url is None:
        error = audit_error = f"Toolkit {toolkit.slug} has no base URL to send {tool.slug} to"
    if error is None:
        assert connection.base_url is not None
        call = tool_call(tool, tool.request, connection.base_url, arguments, connection.credential)
        policy = HostPolicy.of(connection.base_url_template or connection.base_url, toolkit.allowed_hosts)
        try:
            answer = await runtime.outbound.send(call, policy)
        except OutboundError as failure:
            error = audit_error = f"The call to {toolkit.name} failed: {failure}"
        else:
            http_status = answer.status
            kind, body = _decode(answer, connection.credential)
            data = _tool_data(kind, body, answer)
            if answer.refused_redirect_to:
                audit_error = "The API redirected to another host, which was not followed"
                error = f"The API redirected to {answer.refused_redirect_to}, which {toolkit.slug} may not call; not followed"
            elif not 200 <= answer.status < 300:
                audit_error = f"The API answered HTTP {answer.status}"
                detail = _error_detail(body)
                error = f"{audit_error}: {detail}" if detail else audit_error
    duration = _duration_ms(started)

    log_id = logs.new_log_id()
    outcome = "succeeded" if error is None else "failed"
    payload = None
    if store_data:
        payload = {
            "request": {"arguments": arguments, "connected_account_id": connection.account_id, "user_id": connection.user_id},
            "response": {"successful": error is None, "status": http_status, "data": data, "error": error},
        }
    runtime.logs.put(
        logs.Entry(
            log_id=log_id,
            project_id=principal.project_id,
            kind="tool",
            tool_slug=tool.slug,
            toolkit_slug=toolkit.slug,
            connected_account_id=connection.account_id,
            auth_config_id=connection.auth_config_id,
            user_id=connection.user_id or user_id,
            session_id=session_id,
            request_id=request_id,
            started_at=started_at,
            duration_ms=duration,
            status="success" if error is None else "failed",
            message=_message(tool.slug, outcome, error if store_data else audit_error),
            private_message=_message(tool.slug, outcome, audit_error),
            http_status=http_status,
            source=source,
            payload=payload,
        ),
    )
    return schemas.ToolExecution(data=data, error=error, successful=error is None, log_id=log_id)


def _message(slug: str, outcome: str, error: str | None) -> str:
    return (f"{slug} {outcome}" + (f": {error}" if error else ""))[:500]


# --- proxy calls -----------------------------------------------------------------------------------


async def proxy(
    runtime: ToolRuntime,
    principal: Principal,
    request: schemas.ProxyRequest,
    *,
    source: str = "api",
    request_id: str | None = None,
) -> schemas.ProxyResponse:
    """Sends the caller's request to the account's toolkit API with the account's credential in it."""
    assert principal.project_id is not None
    if request.custom_connection_data is not None:
        raise InvalidRequest.field("custom_connection_data", "is not supported; connect an account and pass connected_account_id")
    if request.connected_account_id is None:
        raise InvalidRequest.field("connected_account_id", "is required: the call is made with that account's credential")
    config = await settings.read(runtime.cache, principal.project_id)
    store_data = config.log_visibility_setting == "show_all"
    await runtime.logs.make_room()

    started_at, started = utcnow(), time.perf_counter()
    toolkit, connection = await resolve(
        runtime, principal, None, account_id=request.connected_account_id, user_id=None, tool_slug=None
    )
    if connection.failure is None and connection.base_url is None:
        connection.failure = f"Toolkit {toolkit.slug} has no base URL to send requests to"
    if connection.failure is not None:
        # Raised after the commit above: an account that just turned EXPIRED stays so.
        raise AccountNotActive(connection.failure, errors=[f"connected_account_id: {connection.failure}"])
    assert connection.base_url is not None
    call = proxy_call(request, connection.base_url, connection.credential)
    policy = HostPolicy.of(connection.base_url_template or connection.base_url, toolkit.allowed_hosts)
    target = httpx.URL(call.url)
    if not policy.permits(target):
        raise InvalidRequest.field("endpoint", f"{target.host} is not a host toolkit {toolkit.slug} may call")

    failure: str | None = None
    response = schemas.ProxyResponse(status=0)
    try:
        answer = await runtime.outbound.send(call, policy)
    except OutboundError as error:
        failure = f"The call to {toolkit.name} failed: {error}"
    else:
        response = _proxy_response(answer, connection.credential)
    duration = _duration_ms(started)
    succeeded = failure is None and 200 <= response.status < 400
    audit = failure or f"HTTP {response.status}"
    payload = None
    if store_data:
        payload = {
            "request": {
                "method": request.method,
                "endpoint": request.endpoint,
                "parameters": [parameter.model_dump() for parameter in request.parameters],
                "body": request.body,
            },
            "response": {"status": response.status, "data": response.data, "error": failure},
        }
    log_id = logs.new_log_id()
    runtime.logs.put(
        logs.Entry(
            log_id=log_id,
            project_id=principal.project_id,
            kind="proxy",
            tool_slug=PROXY_TOOL_SLUG,
            toolkit_slug=toolkit.slug,
            connected_account_id=connection.account_id,
            auth_config_id=connection.auth_config_id,
            user_id=connection.user_id,
            session_id=None,
            request_id=request_id,
            started_at=started_at,
            duration_ms=duration,
            status="success" if succeeded else "failed",
            message=f"{request.method} proxy call {'succeeded' if succeeded else 'failed'}: {audit}"[:500],
            private_message=f"{request.method} proxy call {'succeeded' if succeeded else 'failed'}: {audit}"[:500],
            http_status=response.status or None,
            source=source,
            payload=payload,
        ),
    )
    if failure is not None:
        raise UpstreamFailed(failure)
    return response


def _proxy_response(answer: Answer, credential: Credential) -> schemas.ProxyResponse:
    headers: dict[str, str] = {}
    for name, value in answer.headers:
        if name.lower() not in _HOP_HEADERS:
            headers[name.lower()] = credential.scrub(value)
    kind, body = _decode(answer, credential)
    if answer.refused_redirect_to:
        headers["location"] = credential.scrub(headers.get("location", ""))
    if kind == "binary":
        content_type = answer.content_type or "application/octet-stream"
        return schemas.ProxyResponse(
            status=answer.status,
            headers=headers,
            binary_data=schemas.BinaryData(
                content_type=content_type,
                size=len(body),
                url=f"data:{content_type.split(';')[0]};base64,{base64.b64encode(body).decode()}",
            ),
        )
    return schemas.ProxyResponse(status=answer.status, data=body, headers=headers)
