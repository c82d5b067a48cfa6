"""MCP server configuration (reference §7.1): which auth configs, toolkits and tools a server exposes."""

from __future__ import annotations

import math
import uuid
from urllib.parse import urlencode

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.principal import Principal
from tenantry.auth_configs.repository import AuthConfigRepository
from tenantry.config import get_settings
from tenantry.errors import InvalidRequest, McpServerNameTaken, McpServerNotFound
from tenantry.kit.time import utcnow
from tenantry.mcp import schemas
from tenantry.mcp.repository import McpServerRepository
from tenantry.models import McpServer
from tenantry.toolkits.catalog import get_catalog

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


def mcp_url(server_id: str) -> str:
    """The URL agents connect to, shaped like Composio's current `/v3/mcp/{id}`."""
    return f"{get_settings().public_url.rstrip('/')}/v3/mcp/{server_id}"


def _commands(url: str) -> schemas.Commands:
    return schemas.Commands(
        **{client: f'npx @composio/mcp@latest setup "{url}" --client {client}' for client in ("cursor", "claude", "windsurf")}
    )


async def _resolve(
    session: AsyncSession,
    principal: Principal,
    auth_config_ids: list[str],
    toolkits: list[str],
    allowed_tools: list[str],
) -> tuple[list[str], list[str], list[str]]:
    """Checks the ids, slugs and tools against the project and the catalog; returns them normalised."""
    repository = AuthConfigRepository(session, principal)
    slugs: list[str] = []
    for index, auth_config_id in enumerate(auth_config_ids):
        auth_config = await repository.get(auth_config_id)
        if auth_config is None:
            raise InvalidRequest.field(f"auth_config_ids[{index}]", f"no auth config {auth_config_id!r} in this project")
        slugs.append(auth_config.toolkit_slug)
    catalog = get_catalog()
    for index, slug in enumerate(toolkits):
        toolkit = catalog.get(slug)
        if toolkit is None:
            raise InvalidRequest.field(f"toolkits[{index}]", f"no toolkit {slug!r} in this server's catalog")
        slugs.append(toolkit.slug)
    slugs = list(dict.fromkeys(slugs))
    if not slugs:
        raise InvalidRequest.field("auth_config_ids", "a server needs at least one auth config or toolkit")
    offered = {tool.slug: toolkit.slug for toolkit in map(catalog.require, slugs) for tool in toolkit.tools}
    for index, tool in enumerate(allowed_tools):
        if tool not in offered:
            raise InvalidRequest.field(f"allowed_tools[{index}]", f"{tool!r} is not a tool of {', '.join(slugs)}")
    return list(dict.fromkeys(auth_config_ids)), slugs, list(dict.fromkeys(allowed_tools))


async def _insert(session: AsyncSession, principal: Principal, server: McpServer) -> None:
    try:
        await McpServerRepository(session, principal).add(server)
    except IntegrityError:
        raise McpServerNameTaken(errors=["name: already used by another MCP server of this project"]) from None


async def create(
    session: AsyncSession, principal: Principal, payload: schemas.McpServerCreate | schemas.McpCustomCreate
) -> McpServer:
    assert principal.project_id is not None
    toolkits = payload.toolkits if isinstance(payload, schemas.McpCustomCreate) else []
    allowed = list(payload.allowed_tools)
    if isinstance(payload, schemas.McpCustomCreate):
        allowed += payload.custom_tools
    auth_config_ids, slugs, allowed = await _resolve(session, principal, payload.auth_config_ids, toolkits, allowed)
    moment = utcnow()
    server = McpServer(
        id=str(uuid.uuid4()),
        project_id=principal.project_id,
        name=payload.name,
        auth_config_ids=auth_config_ids,
        toolkits=slugs,
        allowed_tools=allowed,
        managed_auth_via_composio=payload.managed_auth_via_composio,
        created_at=moment,
        updated_at=moment,
    )
    await _insert(session, principal, server)
    return server


def to_schema(server: McpServer, instances: int, cls: type[schemas.McpServer] = schemas.McpServer) -> schemas.McpServer:
    catalog = get_catalog()
    url = mcp_url(server.id)
    return cls(
        id=server.id,
        name=server.name,
        auth_config_ids=server.auth_config_ids,
        allowed_tools=server.allowed_tools,
        mcp_url=url,
        toolkits=server.toolkits,
        toolkit_icons={slug: toolkit.logo for slug in server.toolkits if (toolkit := catalog.get(slug))},
        commands=_commands(url),
        updated_at=server.updated_at,
        created_at=server.created_at,
        server_instance_count=instances,
        managed_auth_via_composio=server.managed_auth_via_composio,
    )


def custom_created(server: McpServer) -> schemas.McpCustomCreated:
    url = mcp_url(server.id)
    return schemas.McpCustomCreated(
        id=server.id,
        name=server.name,
        auth_config_ids=server.auth_config_ids,
        allowed_tools=server.allowed_tools,
        mcp_url=url,
        commands=_commands(url),
    )


async def require(session: AsyncSession, principal: Principal, server_id: str, *, for_update: bool = False) -> McpServer:
    server = await McpServerRepository(session, principal).get(server_id, for_update=for_update)
    if server is None:
        raise McpServerNotFound()
    return server


async def get(session: AsyncSession, principal: Principal, server_id: str) -> schemas.McpServerDetail:
    server = await require(session, principal, server_id)
    counts = await McpServerRepository(session, principal).instance_counts([server.id])
    detail = to_schema(server, counts.get(server.id, 0), schemas.McpServerDetail)
    assert isinstance(detail, schemas.McpServerDetail)
    return detail


async def list_page(
    session: AsyncSession,
    principal: Principal,
    *,
    name: str | None,
    toolkits: list[str] | None,
    auth_config_ids: list[str] | None,
    order_by: str,
    descending: bool,
    page_no: int,
    limit: int,
) -> schemas.McpServerList:
    repository = McpServerRepository(session, principal)
    servers = [
        server
        for server in await repository.all(name=name, newest_by=order_by, descending=descending)
        if (not toolkits or set(toolkits) & set(server.toolkits))
        and (not auth_config_ids or set(auth_config_ids) & set(server.auth_config_ids))
    ]
    page = servers[(page_no - 1) * limit : page_no * limit]
    counts = await repository.instance_counts([server.id for server in page])
    return schemas.McpServerList(
        items=[to_schema(server, counts.get(server.id, 0)) for server in page],
        total_pages=max(1, math.ceil(len(servers) / limit)),
        current_page=page_no,
    )


async def update(session: AsyncSession, principal: Principal, server_id: str, changes: schemas.McpServerUpdate) -> schemas.McpServerDetail:
    server = await require(session, principal, server_id, for_update=True)
    sent = changes.model_fields_set
    auth_config_ids = changes.auth_config_ids if changes.auth_config_ids is not None else server.auth_config_ids
    if changes.toolkits is not None:
        toolkits = changes.toolkits
    else:
        # Toolkits that came from the old auth configs go with them; explicitly named ones stay.
        old = {config.toolkit_slug for config in [await AuthConfigRepository(session, principal).get(i) for i in server.auth_config_ids] if config}
        toolkits = [slug for slug in server.toolkits if slug not in old]
    allowed = changes.allowed_tools if changes.allowed_tools is not None else server.allowed_tools
    server.auth_config_ids, server.toolkits, server.allowed_tools = await _resolve(
        session, principal, auth_config_ids, toolkits, allowed
    )
    if "name" in sent and changes.name is not None:
        server.name = changes.name
    if changes.managed_auth_via_composio is not None:
        server.managed_auth_via_composio = changes.managed_auth_via_composio
    server.updated_at = utcnow()
    try:
        await session.flush()
    except IntegrityError:
        raise McpServerNameTaken(errors=["name: already used by another MCP server of this project"]) from None
    return await get(session, principal, server_id)


async def delete(session: AsyncSession, principal: Principal, server_id: str) -> schemas.McpServerDeleted:
    server = await require(session, principal, server_id, for_update=True)
    server.deleted_at = utcnow()
    await session.flush()
    return schemas.McpServerDeleted(id=server.id)


async def generate(session: AsyncSession, principal: Principal, payload: schemas.GenerateUrls) -> schemas.GeneratedUrls:
    server = await require(session, principal, payload.mcp_server_id)
    url = mcp_url(server.id)
    return schemas.GeneratedUrls(
        mcp_url=url,
        user_ids_url=[f"{url}?{urlencode({'user_id': user_id})}" for user_id in payload.user_ids],
        connected_account_urls=[
            f"{url}?{urlencode({'connected_account_ids': account_id})}" for account_id in payload.connected_account_ids
        ],
    )
