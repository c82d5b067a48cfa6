"""A project's MCP servers: their URLs to copy, create from the project's auth configs, edit, delete.

Every change goes through tenantry.mcp.service with the member's principal narrowed to the
project, as `POST /mcp/servers/custom`, `PATCH /mcp/{id}` and `DELETE /mcp/{id}` do.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.principal import Principal
from tenantry.auth_configs import service as auth_configs
from tenantry.auth_configs.repository import AuthConfigFilters
from tenantry.auth_configs.schemas import AuthConfig
from tenantry.dashboard.auth import DashProject, OrgMember, SignedIn, acting_for
from tenantry.dashboard.pages.params import PAGE_SIZE
from tenantry.dashboard.web import FormProblem, page, page_context, pages, project_url, redirect
from tenantry.db import Session
from tenantry.errors import AppError
from tenantry.kit.inputs import NoNul, Text
from tenantry.mcp import schemas, service
from tenantry.models import Project
from tenantry.settings import service as project_settings
from tenantry.toolkits.catalog import get_catalog

router = pages()

BASE = "/orgs/{org_id}/projects/{project_id}/mcp"
# Auth configs offered as checkboxes: every one of the project, read a page at a time.
_AUTH_CONFIG_PAGE = 100
_SEPARATORS = re.compile(r"[\s,]+")


def _split(text: str) -> list[str]:
    """A comma-, space- or line-separated field as its items."""
    return [item for item in _SEPARATORS.split(text.strip()) if item]


async def _auth_configs(session: AsyncSession, acting: Principal) -> list[AuthConfig]:
    """The project's auth configs, disabled ones too (a server may still name them), oldest first."""
    found: list[AuthConfig] = []
    cursor = None
    while True:
        listed = await auth_configs.list_page(
            session, acting, AuthConfigFilters(show_disabled=True), limit=_AUTH_CONFIG_PAGE, cursor=cursor
        )
        found.extend(listed.items)
        cursor = listed.next_cursor
        if cursor is None:
            return found[::-1]


def _form_of(form: Any) -> dict[str, Any]:
    """The server form as it was sent, to fill it again after a problem."""
    return {
        "name": str(form.get("name", "")).strip(),
        "auth_config_ids": [value for value in form.getlist("auth_config_ids") if isinstance(value, str)],
        "toolkits": str(form.get("toolkits", "")),
        "allowed_tools": str(form.get("allowed_tools", "")),
    }


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values as the API's request body."""
    return {
        "name": values["name"],
        "auth_config_ids": values["auth_config_ids"],
        "toolkits": [slug.lower() for slug in _split(values["toolkits"])],
        "allowed_tools": _split(values["allowed_tools"]),
    }


async def _common(session: AsyncSession, project: Project, acting: Principal) -> dict[str, Any]:
    configs = await _auth_configs(session, acting)
    settings = await project_settings.read_in(session, project.id)
    return {
        "project": project,
        "auth_configs": configs,
        "auth_config_names": {config.id: config.name for config in configs},
        "requires_key": settings.require_mcp_api_key,
        "tab": "mcp",
        "section": "projects",
    }


async def _list_context(
    session: AsyncSession, project: Project, acting: Principal, *, page_no: int, name: str, form: dict[str, Any]
) -> dict[str, Any]:
    listed = await service.list_page(
        session, acting, name=name or None, toolkits=None, auth_config_ids=None,
        order_by="created_at", descending=True, page_no=page_no, limit=PAGE_SIZE,
    )

    def page_url(number: int) -> str:
        return f"?{urlencode({'name': name, 'page': number} if name else {'page': number})}"

    return {
        **await _common(session, project, acting),
        "servers": listed.items,
        "page_no": listed.current_page,
        "pages_count": listed.total_pages,
        "next_url": page_url(page_no + 1) if page_no < listed.total_pages else None,
        "previous_url": page_url(page_no - 1) if page_no > 1 else None,
        "name": name,
        "form": form,
    }


@router.get(BASE)
async def servers_page(
    request: Request,
    principal: OrgMember,
    signed_in: SignedIn,
    project: DashProject,
    session: Session,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    name: Annotated[str, Query(max_length=30), NoNul] = "",
) -> Response:
    context = await _list_context(
        session, project, acting_for(principal, project), page_no=page_no, name=name.strip(),
        form={"name": "", "auth_config_ids": [], "toolkits": "", "allowed_tools": ""},
    )
    return await page(request, session, principal, signed_in, "mcp_servers.html", **context)


@router.post(BASE)
async def create_server(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    acting = acting_for(principal, project)
    form = _form_of(await request.form())
    context = await page_context(
        session, principal, signed_in, **await _list_context(session, project, acting, page_no=1, name="", form=form)
    )
    headline = "The MCP server was not created; nothing was saved."
    try:
        payload = schemas.McpCustomCreate.model_validate(_fields(form))
        server = await service.create(session, acting, payload)
    except (ValidationError, AppError) as error:
        raise FormProblem.of("mcp_servers.html", context, headline, error) from None
    return redirect(project_url(project, f"/mcp/{server.id}?notice=mcp_created"))


def _extra_toolkits(server: schemas.McpServer, configs: list[AuthConfig]) -> list[str]:
    """The server's toolkits that none of its auth configs brings: the ones named on their own."""
    brought = {config.toolkit.slug for config in configs if config.id in server.auth_config_ids}
    return [slug for slug in server.toolkits if slug not in brought]


async def _server_context(
    session: AsyncSession, project: Project, acting: Principal, server_id: str, *, user_id: str = "", form: dict[str, Any] | None = None
) -> dict[str, Any]:
    server = await service.get(session, acting, server_id)
    common = await _common(session, project, acting)
    user_url = None
    if user_id:
        generated = await service.generate(session, acting, schemas.GenerateUrls(mcp_server_id=server.id, user_ids=[user_id]))
        user_url = generated.user_ids_url[0]
    catalog = get_catalog()
    offered = {slug: [tool.slug for tool in toolkit.tools] for slug in server.toolkits if (toolkit := catalog.get(slug))}
    if form is None:
        form = {
            "name": server.name,
            "auth_config_ids": server.auth_config_ids,
            "toolkits": ", ".join(_extra_toolkits(server, common["auth_configs"])),
            "allowed_tools": "\n".join(server.allowed_tools),
        }
    return {**common, "server": server, "user_id": user_id, "user_url": user_url, "offered": offered, "form": form}


@router.get(BASE + "/{server_id}")
async def server_page(
    request: Request,
    principal: OrgMember,
    signed_in: SignedIn,
    project: DashProject,
    session: Session,
    server_id: Text,
    user_id: Annotated[str, Query(max_length=256), NoNul] = "",
) -> Response:
    context = await _server_context(session, project, acting_for(principal, project), server_id, user_id=user_id.strip())
    return await page(request, session, principal, signed_in, "mcp_server.html", **context)


@router.post(BASE + "/{server_id}")
async def update_server(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, server_id: Text
) -> Response:
    acting = acting_for(principal, project)
    form = _form_of(await request.form())
    context = await page_context(session, principal, signed_in, **await _server_context(session, project, acting, server_id, form=form))
    headline = "The MCP server was not changed; nothing was saved."
    try:
        changes = schemas.McpServerUpdate.model_validate(_fields(form))
        await service.update(session, acting, server_id, changes)
    except (ValidationError, AppError) as error:
        raise FormProblem.of("mcp_server.html", context, headline, error) from None
    return redirect(project_url(project, f"/mcp/{server_id}?notice=mcp_saved"))


@router.get(BASE + "/{server_id}/delete")
async def delete_server_form(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, server_id: Text
) -> Response:
    server = await service.get(session, acting_for(principal, project), server_id)
    return await page(
        request, session, principal, signed_in, "mcp_server_delete.html", project=project, server=server, tab="mcp", section="projects"
    )


@router.post(BASE + "/{server_id}/delete")
async def delete_server(principal: OrgMember, project: DashProject, session: Session, server_id: Text) -> Response:
    await service.delete(session, acting_for(principal, project), server_id)
    return redirect(project_url(project, "/mcp?notice=mcp_deleted"))
