"""Who may read the toolkit catalog: any project key, as on Composio."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tenantry.auth.principal import Principal, project_principal
from tenantry.toolkits.catalog import Catalog, get_catalog

ProjectKey = Annotated[Principal, Depends(project_principal)]


async def _catalog() -> Catalog:
    # async, so FastAPI calls it inline rather than on a worker thread for every request.
    return get_catalog()


CatalogDep = Annotated[Catalog, Depends(_catalog)]
