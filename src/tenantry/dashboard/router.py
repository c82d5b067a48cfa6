"""The dashboard's pages. Each calls the same service the API route for that change calls, with the
signed-in member's Principal, so roles, audit events and cache invalidation are the API's own."""

from __future__ import annotations

import json
from pathlib import Path
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from tenantry.api_keys import service as api_keys
from tenantry.api_keys.schemas import MAX_GRACE_PERIOD_SECONDS, ApiKeyCreate
from tenantry.audit_log import service as audit_log
from tenantry.audit_log.repository import AuditFilters
from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.config import get_settings
from tenantry.dashboard import accounts, charts
from tenantry.dashboard.auth import DashProject, OrgMember, SignedIn, acting_for, member_principal, require_admin
from tenantry.dashboard.repository import DAY_MS, DailyUsage, ProjectSearch
from tenantry.dashboard.web import (
    PREFIX,
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    DashboardRoute,
    FormProblem,
    redirect,
    render,
    set_cookie,
)
from tenantry.db import Session
from tenantry.errors import AppError, InvalidRequest
from tenantry.kit.pagination import PageRequest, total_pages
from tenantry.members import service as members
from tenantry.models import Project
from tenantry.projects import lifecycle
from tenantry.projects import service as projects
from tenantry.projects.schemas import ProjectCreate
from tenantry.settings import service as project_settings
from tenantry.settings.schemas import LogVisibility, ProjectConfigUpdate
from tenantry.usage import schemas as usage_schemas
from tenantry.usage import service as usage

router = APIRouter(prefix=PREFIX, route_class=DashboardRoute, include_in_schema=False)

PAGE_SIZE = 20
AUDIT_PAGE_SIZE = 50
USAGE_SPANS = (7, 30, 90)
GRACE_CHOICES = {"0": None, "3600": 3600, "86400": 86400, "604800": 604800}
NOTICES = {
    "revoked": "The key was revoked. It no longer works.",
    "saved": "Settings saved.",
    "deleted": "The project was deleted. An admin can restore it from Deleted projects during the retention period.",
    "restored": "The project was restored. Its old keys stay revoked: create a new one.",
}
Cursor = Annotated[str | None, Query(max_length=512)]


def _problems(error: ValidationError) -> list[str]:
    return [f"{'.'.join(str(part) for part in item['loc']) or 'form'}: {item['msg']}" for item in error.errors()]


async def _form(request: Request) -> dict[str, str]:
    return {key: value for key, value in (await request.form()).items() if isinstance(value, str)}


def _safe_next(target: str | None) -> str:
    """Only a dashboard path: never another site (`//evil`), never a scheme."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX


async def _page(
    request: Request, session: Session, principal: Principal, signed_in: accounts.SignedIn, template: str, **context: Any
) -> Response:
    organization = await session.scalar(tenancy.own_organization(principal))
    notice = NOTICES.get(request.query_params.get("notice", ""))
    values = {"org": organization, "role": principal.role, "member": signed_in.member, "notice": notice, **context}
    return render(request, template, values)


def _project_url(project: Project, tail: str = "") -> str:
    return f"{PREFIX}/orgs/{project.org_id}/projects/{project.id}{tail}"


# --- signing in and out -------------------------------------------------------------------------


@router.get("/sign-in")
async def sign_in_form(request: Request, session: Session, next: Cursor = None) -> Response:  # noqa: A002
    token = request.cookies.get(SESSION_COOKIE)
    if token and await accounts.resolve(session, token):
        return redirect(_safe_next(next))
    return render(request, "sign_in.html", {"next": _safe_next(next), "email": ""})


@router.post("/sign-in")
async def sign_in(request: Request, session: Session) -> Response:
    form = await _form(request)
    email, target = form.get("email", "").strip(), _safe_next(form.get("next"))
    outcome = await accounts.sign_in(session, email, form.get("password", ""))
    if outcome.token is None:
        # Returned, not raised: the failure count commits, which is what makes the lock-out work.
        return render(request, "sign_in.html", {"next": target, "email": email, "problem": outcome.problem}, status_code=400)
    response = redirect(target)
    set_cookie(response, SESSION_COOKIE, outcome.token, max_age=int(get_settings().dashboard_session_hours * 3600))
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path=PREFIX)
    return response


@router.post("/sign-out")
async def sign_out(signed_in: SignedIn, session: Session) -> Response:
    await accounts.sign_out(session, signed_in.token)
    response = redirect(f"{PREFIX}/sign-in")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


# --- organizations --------------------------------------------------------------------------------


@router.get("")
async def home(request: Request, signed_in: SignedIn, session: Session, cursor: Cursor = None) -> Response:
    listed = await members.list_organizations(session, member_principal(signed_in), limit=50, cursor=cursor)
    if len(listed.organizations) == 1 and cursor is None:
        return redirect(f"{PREFIX}/orgs/{listed.organizations[0].id}/projects")
    return render(request, "orgs.html", {"member": signed_in.member, "organizations": listed.organizations, "next_cursor": listed.next_cursor})


@router.get("/orgs/{org_id}")
async def organization(principal: OrgMember) -> Response:
    return redirect(f"{PREFIX}/orgs/{principal.org_id}/projects")


@router.get("/orgs/{org_id}/members")
async def members_page(request: Request, principal: OrgMember, signed_in: SignedIn, session: Session) -> Response:
    listed = await members.list_members(session, principal.org_id)
    return await _page(request, session, principal, signed_in, "members.html", members=listed, section="members")


def _day_start(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidRequest.field(field, "must be a date, YYYY-MM-DD") from None


@router.get("/orgs/{org_id}/audit")
async def audit_page(
    request: Request,
    principal: OrgMember,
    signed_in: SignedIn,
    session: Session,
    action: Annotated[str, Query(max_length=100)] = "",
    project_id: Annotated[str, Query(max_length=40)] = "",
    member_id: Annotated[str, Query(max_length=40)] = "",
    since: Annotated[str, Query(alias="from", max_length=10)] = "",
    until: Annotated[str, Query(alias="to", max_length=10)] = "",
    cursor: Cursor = None,
) -> Response:
    require_admin(principal)
    start, end = _day_start(since, "from"), _day_start(until, "to")
    filters = AuditFilters(
        project_ids=[project_id.strip()] if project_id.strip() else None,
        actions=[action.strip()] if action.strip() else None,
        member_ids=[member_id.strip()] if member_id.strip() else None,
        since=start,
        until=end + timedelta(days=1) if end else None,
    )
    listed = await audit_log.list_page(session, principal, filters, limit=AUDIT_PAGE_SIZE, cursor=cursor)
    query = {"action": action, "project_id": project_id, "member_id": member_id, "from": since, "to": until}
    next_url = f"?{urlencode({**query, 'cursor': listed.next_cursor})}" if listed.next_cursor else None
    return await _page(
        request, session, principal, signed_in, "audit.html", events=listed.items, filters=query, next_url=next_url, section="audit"
    )


# --- projects -------------------------------------------------------------------------------------


@router.get("/orgs/{org_id}/projects")
async def projects_page(
    request: Request,
    principal: OrgMember,
    signed_in: SignedIn,
    session: Session,
    q: Annotated[str, Query(max_length=75)] = "",
    cursor: Cursor = None,
) -> Response:
    text = q.strip()
    if text:
        search = ProjectSearch(session, principal, text)
        page_request = PageRequest.parse(PAGE_SIZE, cursor, PAGE_SIZE)
        rows, next_cursor = page_request.slice(await search.page(page_request), lambda project: (project.created_at, project.id))
        total = await search.count()
        page, pages = page_request.page, total_pages(total, PAGE_SIZE)
    else:
        listed = await projects.list_page(session, principal, limit=PAGE_SIZE, cursor=cursor)
        rows, next_cursor, total, page, pages = listed.data, listed.next_cursor, listed.total_items, listed.current_page, listed.total_pages
    next_url = f"?{urlencode({'q': text, 'cursor': next_cursor})}" if next_cursor else None
    return await _page(
        request, session, principal, signed_in, "projects.html",
        projects=rows, q=text, total=total, page=page, pages=pages, next_url=next_url, section="projects",
    )


@router.get("/orgs/{org_id}/projects/new")
async def new_project_form(request: Request, principal: OrgMember, signed_in: SignedIn, session: Session) -> Response:
    return await _page(request, session, principal, signed_in, "project_new.html", name="", create_key=True, section="projects")


@router.post("/orgs/{org_id}/projects/new")
async def create_project(request: Request, principal: OrgMember, signed_in: SignedIn, session: Session) -> Response:
    form = await _form(request)
    name, create_key = form.get("name", "").strip(), form.get("create_key") == "on"
    context = {"org": await session.scalar(tenancy.own_organization(principal)), "role": principal.role,
               "member": signed_in.member, "name": name, "create_key": create_key, "section": "projects"}
    try:
        payload = ProjectCreate(name=name, should_create_api_key=create_key)
    except ValidationError as error:
        raise FormProblem("project_new.html", context, "The name must be 3–75 letters, digits, “_” or “-”.", problems=_problems(error)) from None
    try:
        created = await projects.create(session, principal, payload)
    except AppError as error:
        raise FormProblem("project_new.html", context, error.message, status=error.status) from None
    return await _page(
        request, session, principal, signed_in, "key_shown.html",
        heading=f"Project {created.name} created", key=created.api_key, project_id=created.id, section="projects",
    )


@router.get("/orgs/{org_id}/projects/deleted")
async def deleted_projects_page(request: Request, principal: OrgMember, signed_in: SignedIn, session: Session, cursor: Cursor = None) -> Response:
    listed = await projects.list_page(session, principal, limit=PAGE_SIZE, cursor=cursor, deleted=True)
    next_url = f"?{urlencode({'cursor': listed.next_cursor})}" if listed.next_cursor else None
    return await _page(
        request, session, principal, signed_in, "projects_deleted.html",
        projects=listed.data, next_url=next_url, retention_days=get_settings().project_retention_days, section="projects",
    )


@router.post("/orgs/{org_id}/projects/{project_id}/restore")
async def restore_project(principal: OrgMember, session: Session, project_id: str) -> Response:
    require_admin(principal)
    project = await tenancy.deleted_project_of_org(session, principal, project_id, lifecycle.restorable_since())
    await projects.restore(session, principal, project)
    return redirect(_project_url(project, "?notice=restored"))


@router.get("/orgs/{org_id}/projects/{project_id}")
async def project_page(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    listed = await api_keys.list_keys(session, project)
    return await _page(
        request, session, principal, signed_in, "project.html",
        project=project, keys=listed.items, grace_choices=GRACE_CHOICES, tab="keys", section="projects",
    )


@router.post("/orgs/{org_id}/projects/{project_id}/keys")
async def create_key(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    form = await _form(request)
    try:
        payload = ApiKeyCreate(name=form.get("name", ""))
    except ValidationError:
        raise InvalidRequest.field("name", "must be 1–100 characters") from None
    issued = await api_keys.create(session, principal, project, payload)
    return await _page(
        request, session, principal, signed_in, "key_shown.html",
        heading=f"Key {issued.name} created", key=issued.key, project_id=project.id, project=project, section="projects",
    )


@router.post("/orgs/{org_id}/projects/{project_id}/keys/regenerate")
async def regenerate_keys(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    form = await _form(request)
    choice = form.get("grace_period_seconds", "0")
    if choice not in GRACE_CHOICES:
        raise InvalidRequest.field("grace_period_seconds", "choose one of the offered periods")
    grace = GRACE_CHOICES[choice]
    assert grace is None or grace <= MAX_GRACE_PERIOD_SECONDS
    regenerated = await projects.regenerate_key(session, principal, project, grace)
    return await _page(
        request, session, principal, signed_in, "key_shown.html",
        heading="Keys regenerated", key=regenerated.api_key.key, project_id=project.id, project=project,
        previous_keys_expire_at=regenerated.previous_keys_expire_at, section="projects",
    )


@router.post("/orgs/{org_id}/projects/{project_id}/keys/{key_id}/revoke")
async def revoke_key(principal: OrgMember, project: DashProject, session: Session, key_id: str) -> Response:
    await api_keys.revoke(session, principal, project, key_id)
    return redirect(_project_url(project, "?notice=revoked"))


@router.get("/orgs/{org_id}/projects/{project_id}/delete")
async def delete_project_form(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    require_admin(principal)
    return await _page(request, session, principal, signed_in, "project_delete.html", project=project, section="projects")


@router.post("/orgs/{org_id}/projects/{project_id}/delete")
async def delete_project(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    require_admin(principal)
    form = await _form(request)
    if form.get("confirm_name", "").strip() != project.name:
        context = {"org": await session.scalar(tenancy.own_organization(principal)), "role": principal.role,
                   "member": signed_in.member, "project": project, "section": "projects"}
        raise FormProblem("project_delete.html", context, f"Type the project's name, {project.name}, to delete it.")
    await projects.delete(session, principal, project)
    return redirect(f"{PREFIX}/orgs/{project.org_id}/projects?notice=deleted")


# --- project settings -----------------------------------------------------------------------------

_FLAGS = ("is_2FA_enabled", "mask_secret_keys_in_connected_account", "require_mcp_api_key", "is_composio_link_enabled_for_managed_auth")
_TEXTS = ("display_name", "logo_url", "oauth_callback_verifier_url")


def _settings_from_form(form: dict[str, str]) -> dict[str, Any]:
    """The whole form as a config update: unticked boxes are false, empty texts are null."""
    changes: dict[str, Any] = {flag: form.get(flag) == "on" for flag in _FLAGS}
    for field in _TEXTS:
        changes[field] = form.get(field, "").strip() or None
    changes["log_visibility_setting"] = form.get("log_visibility_setting", "")
    expiry = form.get("signed_url_file_expiry_in_seconds", "").strip()
    changes["signed_url_file_expiry_in_seconds"] = expiry
    theme = form.get("theme", "").strip()
    if theme:
        try:
            changes["theme"] = json.loads(theme)
        except json.JSONDecodeError:
            changes["theme"] = theme  # rejected below by the schema, naming the field
    else:
        changes["theme"] = None
    return changes


@router.get("/orgs/{org_id}/projects/{project_id}/settings")
async def settings_page(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    config = await project_settings.read_in(session, project.id)
    values = config.model_dump(mode="json")
    values["theme"] = json.dumps(config.theme, indent=2) if config.theme is not None else ""
    return await _page(
        request, session, principal, signed_in, "settings.html",
        project=project, values=values, visibilities=list(LogVisibility), tab="settings", section="projects",
    )


@router.post("/orgs/{org_id}/projects/{project_id}/settings")
async def save_settings(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    form = await _form(request)
    try:
        changes = ProjectConfigUpdate.model_validate(_settings_from_form(form))
    except ValidationError as error:
        context = {"org": await session.scalar(tenancy.own_organization(principal)), "role": principal.role,
                   "member": signed_in.member, "project": project, "values": {**form, **{flag: form.get(flag) == "on" for flag in _FLAGS}},
                   "visibilities": list(LogVisibility), "tab": "settings", "section": "projects"}
        raise FormProblem("settings.html", context, "Some settings are not valid; nothing was saved.", problems=_problems(error)) from None
    await project_settings.update(session, acting_for(principal, project), changes)
    return redirect(_project_url(project, "/settings?notice=saved"))


# --- usage ----------------------------------------------------------------------------------------


@router.get("/orgs/{org_id}/projects/{project_id}/usage")
async def usage_page(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, days: int = 30
) -> Response:
    span = days if days in USAGE_SPANS else 30
    acting = acting_for(principal, project)
    end_ms = usage.now_ms()
    first_day = end_ms // DAY_MS - span + 1
    start_ms = first_day * DAY_MS
    per_day = await DailyUsage(session, acting).per_day(start_ms, end_ms)
    day_numbers = list(range(first_day, first_day + span))
    labels = [datetime.fromtimestamp(day * DAY_MS / 1000, UTC).strftime("%m-%d") for day in day_numbers]
    tool_calls = [per_day.get((day, "tool_calls"), 0) for day in day_numbers]
    sessions = [per_day.get((day, "sessions"), 0) for day in day_numbers]
    chart = charts.bar_chart(
        labels,
        [charts.Series("tool calls", "bar-tool-calls", tool_calls), charts.Series("sessions", "bar-sessions", sessions)],
        title=f"Tool calls and sessions per day, last {span} days (UTC)",
    )
    window = {"from_": start_ms, "to": end_ms}
    summary = await usage.summary(session, acting, usage_schemas.SummaryQuery(**window), org=False)
    by_tool = await usage.breakdown(session, acting, "tool_calls", usage_schemas.BreakdownQuery(**window, group_by="tool_slug"), org=False)
    by_user = await usage.breakdown(session, acting, "sessions", usage_schemas.BreakdownQuery(**window, group_by="user_id"), org=False)
    daily = [
        {"day": datetime.fromtimestamp(day * DAY_MS / 1000, UTC).date().isoformat(), "tool_calls": calls, "sessions": count}
        for day, calls, count in zip(day_numbers, tool_calls, sessions, strict=True)
    ]
    return await _page(
        request, session, principal, signed_in, "usage.html",
        project=project, chart=chart, span=span, spans=USAGE_SPANS, summary=summary, by_tool=by_tool, by_user=by_user,
        daily=daily, tab="usage", section="projects",
    )


def install(app: FastAPI) -> None:
    """Mounts the pages and their static files (served by the package: no CDN)."""
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=Path(__file__).parent / "static"), name="dashboard-static")
