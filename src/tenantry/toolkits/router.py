from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from tenantry.errors import ToolkitNotFound, Unauthenticated, responses
from tenantry.kit.inputs import CursorParam, NoNul
from tenantry.toolkits import schemas, service
from tenantry.toolkits.auth import CatalogDep, ProjectKey

router = APIRouter(prefix="/toolkits", tags=["Toolkits"])


@router.get("", response_model=schemas.ToolkitList, responses=responses(Unauthenticated))
async def list(  # noqa: A001 - the STYLE names router functions after their verb
    principal: ProjectKey,
    catalog: CatalogDep,
    category: Annotated[str | None, Query(max_length=100, description="A category's id (slug) or name."), NoNul] = None,
    search: Annotated[
        str | None, Query(max_length=200, description="Part of the slug, name or description, any case."), NoNul
    ] = None,
    sort_by: Annotated[
        schemas.SortBy, Query(description="`usage` (the catalog's order, the default) or `alphabetically`.")
    ] = schemas.SortBy.usage,
    managed_by: Annotated[
        schemas.ManagedBy, Query(description="`composio` (this server's catalog), `project` or `all`.")
    ] = schemas.ManagedBy.all,
    type: Annotated[  # noqa: A002 - Composio's parameter name
        schemas.Provenance, Query(description="`native`, `custom` or `all`; an alias over managed_by.")
    ] = schemas.Provenance.all,
    include_deprecated: Annotated[
        bool | None, Query(description="Also list toolkits the operator marked deprecated.")
    ] = None,
    limit: Annotated[
        int | None,
        Query(ge=1, le=service.MAX_PAGE_SIZE, description=f"Page size, 1–{service.MAX_PAGE_SIZE} (default {service.DEFAULT_PAGE_SIZE})."),
    ] = None,
    cursor: CursorParam = None,
) -> schemas.ToolkitList:
    """The toolkits this server offers, with their auth schemes."""
    toolkit_filter = service.ToolkitFilter(
        category=category,
        search=search,
        sort_by=sort_by,
        managed_by=managed_by,
        type=type,
        include_deprecated=bool(include_deprecated),
    )
    return service.list_page(catalog, toolkit_filter, limit=limit, cursor=cursor)


@router.get("/categories", response_model=schemas.CategoryList, responses=responses(Unauthenticated))
async def list_categories(principal: ProjectKey, catalog: CatalogDep) -> schemas.CategoryList:
    """The categories the catalog's toolkits belong to; their ids filter the list."""
    return service.categories(catalog)


@router.get(
    "/{slug}",
    response_model=schemas.ToolkitDetail,
    responses=responses(Unauthenticated, ToolkitNotFound),
)
async def get(
    principal: ProjectKey,
    catalog: CatalogDep,
    slug: Annotated[str, Path(max_length=64, description="The toolkit's slug, e.g. `github`."), NoNul],
    version: Annotated[str | None, Query(max_length=40, description="`latest` or the toolkit's version."), NoNul] = None,
) -> schemas.ToolkitDetail:
    """One toolkit, with the fields an auth config and a connected account need for each scheme."""
    return service.get(catalog, slug, version)
