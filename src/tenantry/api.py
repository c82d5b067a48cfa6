"""The route table: every domain router, mounted once per API version prefix."""

from __future__ import annotations

from fastapi import APIRouter

from tenantry.auth_configs.router import router as auth_configs
from tenantry.connected_accounts.router import router as connected_accounts
from tenantry.projects.router import router as projects
from tenantry.settings.router import router as settings
from tenantry.toolkits.router import router as toolkits

# Composio serves the same routes under both prefixes; v3.1 is current.
CURRENT_PREFIX = "/api/v3.1"
PREVIOUS_PREFIX = "/api/v3"


def routes() -> APIRouter:
    api = APIRouter()
    api.include_router(projects)
    api.include_router(settings)
    api.include_router(auth_configs)
    api.include_router(connected_accounts)
    api.include_router(toolkits)
    return api
