"""The organization's projects: list and search, create, delete with a typed confirmation, restore."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from pydantic import ValidationError

from tenantry.auth import tenancy
from tenantry.config import get_settings
from tenantry.dashboard.auth import DashProject, OrgMember, SignedIn, require_admin
from tenantry.dashboard.pages.params import PAGE_SIZE, Cursor
from tenantry.dashboard.repository import ProjectSearch
from tenantry.dashboard.web import (
    PREFIX,
    FormProblem,
    form_values,
    page,
    page_context,
    pages,
    problems_of,
    project_url,
    redirect,
)
from tenantry.db import Session
from tenantry.errors import AppError
from tenantry.kit.inputs import NoNul, Text
from tenantry.kit.pagination import PageRequest, total_pages
from tenantry.projects import lifecycle
from tenantry.projects import service as projects
from tenantry.projects.schemas import ProjectCreate

router = pages()


@router.get("/orgs/{org_id}/projects")
async def projects_page(
    request: Request,
    principal: OrgMember,
    signed_in: SignedIn,
    session: Session,
    q: Annotated[str, Query(max_length=75), NoNul] = "",
    cursor: Cursor = None,
) -> Response:
    text = q.strip()
    if text:
        search = ProjectSearch(session, principal, text)
        page_request = PageRequest.parse(PAGE_SIZE, cursor, PAGE_SIZE)
        rows, next_cursor = page_request.slice(await search.page(page_request), lambda project: (project.created_at, project.id))
        total = await search.count()
        number, pages_count = page_request.page, total_pages(total, PAGE_SIZE)
    else:
        listed = await projects.list_page(session, principal, limit=PAGE_SIZE, cursor=cursor)
        rows, next_cursor, total = listed.data, listed.next_cursor, listed.total_items
        number, pages_count = listed.current_page, listed.total_pages
    next_url = f"?{urlencode({'q': text, 'cursor': next_cursor})}" if next_cursor else None
    return await page(
        request, session, principal, signed_in, "projects.html",
        projects=rows, q=text, total=total, page=number, pages=pages_count, next_url=next_url, section="projects",
    )


@router.get("/orgs/{org_id}/projects/new")
async def new_project_form(request: Request, principal: OrgMember, signed_in: SignedIn, session: Session) -> Response:
    return await page(request, session, principal, signed_in, "project_new.html", name="", create_key=True, section="projects")


@router.post("/orgs/{org_id}/projects/new")
async def create_project(request: Request, principal: OrgMember, signed_in: SignedIn, session: Session) -> Response:
    form = await form_values(request)
    name, create_key = form.get("name", "").strip(), form.get("create_key") == "on"
    context = await page_context(session, principal, signed_in, name=name, create_key=create_key, section="projects")
    try:
        payload = ProjectCreate(name=name, should_create_api_key=create_key)
    except ValidationError as error:
        raise FormProblem("project_new.html", context, "The name must be 3–75 letters, digits, “_” or “-”.", problems=problems_of(error)) from None
    try:
        created = await projects.create(session, principal, payload)
    except AppError as error:
        raise FormProblem("project_new.html", context, error.message, status=error.status) from None
    return await page(
        request, session, principal, signed_in, "key_shown.html",
        heading=f"Project {created.name} created", key=created.api_key, project_id=created.id, section="projects",
    )


@router.get("/orgs/{org_id}/projects/deleted")
async def deleted_projects_page(request: Request, principal: OrgMember, signed_in: SignedIn, session: Session, cursor: Cursor = None) -> Response:
    listed = await projects.list_page(session, principal, limit=PAGE_SIZE, cursor=cursor, deleted=True)
    next_url = f"?{urlencode({'cursor': listed.next_cursor})}" if listed.next_cursor else None
    return await page(
        request, session, principal, signed_in, "projects_deleted.html",
        projects=listed.data, next_url=next_url, retention_days=get_settings().project_retention_days, section="projects",
    )


@router.post("/orgs/{org_id}/projects/{project_id}/restore")
async def restore_project(principal: OrgMember, session: Session, project_id: Text) -> Response:
    require_admin(principal)
    project = await tenancy.deleted_project_of_org(session, principal, project_id, lifecycle.restorable_since())
    await projects.restore(session, principal, project)
    return redirect(project_url(project, "?notice=restored"))


@router.get("/orgs/{org_id}/projects/{project_id}/delete")
async def delete_project_form(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    require_admin(principal)
    return await page(request, session, principal, signed_in, "project_delete.html", project=project, section="projects")


@router.post("/orgs/{org_id}/projects/{project_id}/delete")
async def delete_project(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    require_admin(principal)
    form = await form_values(request)
    if form.get("confirm_name", "").strip() != project.name:
        context = await page_context(session, principal, signed_in, project=project, section="projects")
        raise FormProblem("project_delete.html", context, f"Type the project's name, {project.name}, to delete it.")
    await projects.delete(session, principal, project)
    return redirect(f"{PREFIX}/orgs/{project.org_id}/projects?notice=deleted")
