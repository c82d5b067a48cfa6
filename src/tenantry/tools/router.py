from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from tenantry.db import unit_of_work
from tenantry.errors import (
    AccountNotActive,
    ConnectedAccountNotFound,
    InvalidRequest,
    NoActiveConnection,
    ToolNotAllowed,
    ToolNotFound,
    Unauthenticated,
    UpstreamFailed,
    request_id_of,
    responses,
)
from tenantry.kit.inputs import CursorParam, NoNul
from tenantry.kit.query import comma_separated
from tenantry.toolkits.auth import CatalogDep
from tenantry.toolkits.service import MAX_PAGE_SIZE
from tenantry.tools import schemas, service
from tenantry.tools.auth import ProxyExecute, Runtime, ToolExecution, ToolsRead

router = APIRouter(prefix="/tools", tags=["Tools"])

# Named before `list` below shadows the builtin in this module.
Slugs = list[str]
ToolSlug = Annotated[str, Path(max_length=128, description="The tool's slug, e.g. `GITHUB_GET_A_REPOSITORY`."), NoNul]


@router.get("", response_model=schemas.ToolList, responses=responses(Unauthenticated))
async def list(  # noqa: A001 - the STYLE names router functions after their verb
    principal: ToolsRead,
    catalog: CatalogDep,
    request: Request,
    toolkit_slug: Annotated[str | None, Query(max_length=500, description="A toolkit's slug (or several, comma-separated)."), NoNul] = None,
    tool_slugs: Annotated[str | None, Query(max_length=5000, description="Comma-separated tool slugs; overrides every other filter."), NoNul] = None,
    query: Annotated[str | None, Query(max_length=200, description="Part of the slug, name or description, any case."), NoNul] = None,
    search: Annotated[str | None, Query(max_length=200, description="Deprecated: use `query`."), NoNul] = None,
    tags: Annotated[Slugs | None, Query(description="Tools with any of these tags."), NoNul] = None,
    scopes: Annotated[Slugs | None, Query(description="Tools needing any of these scopes."), NoNul] = None,
    important: Annotated[str | None, Query(pattern="^(true|false)$", description="`true`: tools tagged important."), NoNul] = None,
    include_deprecated: Annotated[bool, Query(description="Also list deprecated tools.")] = False,
    auth_config_ids: Annotated[str | None, Query(max_length=2000, description="Comma-separated auth config ids: their toolkits' tools."), NoNul] = None,
    toolkit_versions: Annotated[str | None, Query(max_length=200, description="Accepted; every toolkit has one version here."), NoNul] = None,
    limit: Annotated[float | None, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, 1–{MAX_PAGE_SIZE} (default 20).")] = None,
    cursor: CursorParam = None,
) -> schemas.ToolList:
    """The tools of the catalog's toolkits, with their input and output schemas."""
    toolkit_slugs = comma_separated(toolkit_slug)
    if auth_config_ids:
        # Only this filter reads the database, so only it opens a transaction.
        async with unit_of_work(request.app.state.sessionmaker, read_only=True) as session:
            configured = await service.toolkits_of_auth_configs(session, principal, comma_separated(auth_config_ids) or [])
        toolkit_slugs = [slug for slug in toolkit_slugs if slug in configured] if toolkit_slugs else configured
    tool_filter = service.ToolFilter(
        toolkit_slugs=toolkit_slugs,
        tool_slugs=comma_separated(tool_slugs),
        search=query or search,
        tags=tags,
        scopes=scopes,
        important=important == "true",
        include_deprecated=include_deprecated,
    )
    return service.list_page(catalog, tool_filter, limit=int(limit) if limit else None, cursor=cursor)


@router.get("/enum", response_model=Slugs, responses=responses(Unauthenticated))
async def list_slugs(principal: ToolsRead, catalog: CatalogDep) -> Slugs:
    """Every tool slug of the catalog."""
    return [tool.slug for _, tool in catalog.tools()]


@router.post(
    "/execute/proxy",
    response_model=schemas.ProxyResponse,
    responses=responses(Unauthenticated, ConnectedAccountNotFound, AccountNotActive, UpstreamFailed),
)
async def proxy(
    payload: schemas.ProxyRequest, principal: ProxyExecute, runtime: Runtime, request: Request
) -> schemas.ProxyResponse:
    """Call any endpoint of the account's toolkit API; the server adds the credential, the caller never sees it."""
    return await service.proxy(runtime, principal, payload, request_id=request_id_of(request))


@router.post(
    "/execute/{tool_slug}",
    response_model=schemas.ToolExecution,
    responses=responses(Unauthenticated, ToolNotFound, ConnectedAccountNotFound, NoActiveConnection, ToolNotAllowed),
)
async def execute(
    tool_slug: ToolSlug, payload: schemas.ToolExecute, principal: ToolExecution, runtime: Runtime, request: Request
) -> schemas.ToolExecution:
    """Run a tool with a connected account (or the user's most recent ACTIVE one); logged and metered."""
    if payload.text is not None:
        raise InvalidRequest.field("text", "natural-language execution is not supported; send arguments")
    if payload.custom_auth_params is not None or payload.custom_connection_data is not None:
        field = "custom_auth_params" if payload.custom_auth_params is not None else "custom_connection_data"
        raise InvalidRequest.field(field, "is not supported; connect an account and pass connected_account_id or user_id")
    return await service.execute(
        runtime,
        principal,
        tool_slug,
        payload.arguments,
        connected_account_id=payload.connected_account_id,
        user_id=payload.user_id or payload.entity_id,
        version=payload.version,
        request_id=request_id_of(request),
    )


@router.get("/{tool_slug}", response_model=schemas.Tool, responses=responses(Unauthenticated, ToolNotFound))
async def get(
    tool_slug: ToolSlug,
    principal: ToolsRead,
    catalog: CatalogDep,
    version: Annotated[str | None, Query(max_length=40, description="`latest` or the toolkit's version."), NoNul] = None,
    toolkit_versions: Annotated[str | None, Query(max_length=200), NoNul] = None,
) -> schemas.Tool:
    """One tool, with its input and output schemas."""
    return service.get(catalog, tool_slug, version)

