"""The route table: every domain router, mounted by main.create_app once per API version prefix."""

from __future__ import annotations

from fastapi import APIRouter

from tenantry.api_keys.router import router as api_keys
from tenantry.audit_log.router import router as audit_log
from tenantry.auth_configs.router import router as auth_configs
from tenantry.connected_accounts.router import router as connected_accounts
from tenantry.logs.router import router as logs
from tenantry.mcp.router import router as mcp
from tenantry.members.router import router as members
from tenantry.organizations.router import router as org_api_keys
from tenantry.projects.router import router as projects
from tenantry.ratelimits.router import router as rate_limits
from tenantry.settings.router import router as settings
from tenantry.toolkits.router import router as toolkits
from tenantry.tools.router import router as tools
from tenantry.usage.router import router as usage
from tenantry.webhooks.router import router as webhooks

# Composio serves the same routes under both prefixes; v3.1 is current.
CURRENT_PREFIX = "/api/v3.1"
PREVIOUS_PREFIX = "/api/v3"


# Most-requested first: FastAPI tries routers in order on every request, and settings reads
# are the authenticated hot path (bench/hot_path.py).
ROUTERS: tuple[APIRouter, ...] = (
    settings,
    tools,
    connected_accounts,
    auth_configs,
    toolkits,
    mcp,
    logs,
    usage,
    webhooks,
    projects,
    api_keys,
    audit_log,
    org_api_keys,
    members,
    rate_limits,
)
