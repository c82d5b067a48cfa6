"""The route table: every domain router, mounted once per API version prefix."""

from __future__ import annotations

from fastapi import APIRouter

from tenantry.projects.router import router as projects
from tenantry.settings.router import router as settings

# Composio serves the same routes under both prefixes; v3.1 is current.
CURRENT_PREFIX = "/api/v3.1"
PREVIOUS_PREFIX = "/api/v3"


def routes() -> APIRouter:
    api = APIRouter()
    api.include_router(projects)
    api.include_router(settings)
    return api
