from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from tenantry.db import Session
from tenantry.errors import McpServerNameTaken, McpServerNotFound, Unauthenticated, responses
from tenantry.kit.inputs import NoNul
from tenantry.kit.query import comma_separated
from tenantry.mcp import schemas, service
from tenantry.mcp.auth import McpRead, McpWrite

router = APIRouter(prefix="/mcp", tags=["MCP servers"])

ServerId = Annotated[str, Path(alias="id", description="The MCP server's id (a UUID)."), NoNul]


@router.get("/servers", response_model=schemas.McpServerList, responses=responses(Unauthenticated))
async def list(  # noqa: A001 - the STYLE names router functions after their verb
    principal: McpRead,
    session: Session,
    name: Annotated[str | None, Query(max_length=30, description="Part of the name, any case."), NoNul] = None,
    toolkits: Annotated[str | None, Query(description="Comma-separated toolkit slugs."), NoNul] = None,
    auth_config_ids: Annotated[str | None, Query(description="Comma-separated auth config ids."), NoNul] = None,
    order_by: Literal["created_at", "updated_at"] = "updated_at",
    order_direction: Literal["asc", "desc"] = "desc",
    page_no: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE)] = service.DEFAULT_PAGE_SIZE,
) -> schemas.McpServerList:
    """The project's MCP servers, by page number."""
    return await service.list_page(
        session,
        principal,
        name=name,
        toolkits=comma_separated(toolkits),
        auth_config_ids=comma_separated(auth_config_ids),
        order_by=order_by,
        descending=order_direction == "desc",
        page_no=page_no,
        limit=limit,
    )


@router.post("/servers", status_code=201, response_model=schemas.McpServer, responses=responses(Unauthenticated, McpServerNameTaken))
async def create(payload: schemas.McpServerCreate, principal: McpWrite, session: Session) -> schemas.McpServer:
    """Create an MCP server over some of the project's auth configs."""
    server = await service.create(session, principal, payload)
    return service.to_schema(server, 0)


@router.post(
    "/servers/custom", status_code=201, response_model=schemas.McpCustomCreated, responses=responses(Unauthenticated, McpServerNameTaken)
)
async def create_custom(payload: schemas.McpCustomCreate, principal: McpWrite, session: Session) -> schemas.McpCustomCreated:
    """Create an MCP server from toolkits and/or auth configs (what Composio's SDK calls)."""
    return service.custom_created(await service.create(session, principal, payload))


@router.post("/servers/generate", response_model=schemas.GeneratedUrls, responses=responses(Unauthenticated, McpServerNotFound))
async def generate(payload: schemas.GenerateUrls, principal: McpRead, session: Session) -> schemas.GeneratedUrls:
    """Per-user (or per-account) URLs of an MCP server."""
    return await service.generate(session, principal, payload)


@router.get("/{id}", response_model=schemas.McpServerDetail, responses=responses(Unauthenticated, McpServerNotFound))
async def get(server_id: ServerId, principal: McpRead, session: Session) -> schemas.McpServerDetail:
    """One MCP server."""
    return await service.get(session, principal, server_id)


@router.patch(
    "/{id}", response_model=schemas.McpServerDetail, responses=responses(Unauthenticated, McpServerNotFound, McpServerNameTaken)
)
async def update(server_id: ServerId, changes: schemas.McpServerUpdate, principal: McpWrite, session: Session) -> schemas.McpServerDetail:
    """Change an MCP server; fields left out keep their value."""
    return await service.update(session, principal, server_id, changes)


@router.delete("/{id}", response_model=schemas.McpServerDeleted, responses=responses(Unauthenticated, McpServerNotFound))
async def delete(server_id: ServerId, principal: McpWrite, session: Session) -> schemas.McpServerDeleted:
    """Soft-delete an MCP server; its URL stops working at once."""
    return await service.delete(session, principal, server_id)
