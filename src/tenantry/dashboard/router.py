"""The dashboard: its pages (tenantry.dashboard.pages, one module per area) and its static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tenantry.dashboard.pages import (
    audit,
    auth_configs,
    connected_accounts,
    invitations,
    logs,
    mcp,
    members,
    org_keys,
    project_keys,
    project_settings,
    projects,
    sign_in,
    usage,
    webhooks,
)
from tenantry.dashboard.web import PREFIX

# `projects` comes before the per-project pages: its `/projects/new` and `/projects/deleted` must
# win over `/projects/{project_id}`.
PAGES = (
    sign_in, invitations, members, org_keys, audit,
    projects, project_keys, project_settings, auth_configs, connected_accounts, webhooks, mcp, logs, usage,
)


def install(app: FastAPI) -> None:
    """Mounts the pages and their static files (served by the package: no CDN)."""
    for module in PAGES:
        app.include_router(module.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=Path(__file__).parent / "static"), name="dashboard-static")
