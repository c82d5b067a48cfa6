"""A project's connected accounts: the list with filters, one account with its credentials masked
exactly as the API masks them for this project, edit its alias (and an API-key account's
credentials), enable and disable, restart OAuth, delete."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from pydantic import ValidationError

from tenantry.auth.principal import Principal
from tenantry.auth_configs.repository import AuthConfigFilters, AuthConfigRepository
from tenantry.cache import Cache
from tenantry.connected_accounts import schemas
from tenantry.connected_accounts import service as connected_accounts
from tenantry.connected_accounts.repository import ConnectedAccountFilters
from tenantry.dashboard.auth import DashProject, OrgMember, SignedIn, acting_for
from tenantry.dashboard.pages.params import PAGE_SIZE, Cursor
from tenantry.dashboard.web import FormProblem, form_values, page, page_context, pages, project_url, redirect
from tenantry.db import Session
from tenantry.errors import AppError, InvalidRequest
from tenantry.kit.inputs import NoNul, Text
from tenantry.kit.masking import SECRET_FIELDS
from tenantry.kit.pagination import PageRequest
from tenantry.models import AuthConfig, Project
from tenantry.settings import service as project_settings
from tenantry.settings.schemas import ProjectConfig
from tenantry.toolkits.catalog import Field, get_catalog

router = pages()

BASE = "/orgs/{org_id}/projects/{project_id}/connected-accounts"
STATUSES = [status.value for status in schemas.Status]
# The filter's auth config choices: the project's newest configs, by name.
AUTH_CONFIG_CHOICES = 200


async def _settings(cache: Cache, project: Project) -> ProjectConfig:
    # Read as the API reads it, so both mask alike.
    return await project_settings.read(cache, project.id)


async def _auth_configs(session: Session, acting: Principal) -> list[AuthConfig]:
    request = PageRequest(limit=AUTH_CONFIG_CHOICES, page=1, after=None)
    rows = await AuthConfigRepository(session, acting).page(AuthConfigFilters(show_disabled=True), request)
    return list(rows[:AUTH_CONFIG_CHOICES])


def _toolkits() -> list[tuple[str, str]]:
    return sorted(((toolkit.slug, toolkit.name) for toolkit in get_catalog()), key=lambda pair: pair[1].casefold())


@router.get(BASE)
async def connected_accounts_page(
    request: Request,
    principal: OrgMember,
    signed_in: SignedIn,
    project: DashProject,
    session: Session,
    cache: Cache,
    status: Annotated[str, Query(max_length=20), NoNul] = "",
    toolkit: Annotated[str, Query(max_length=100), NoNul] = "",
    user_id: Annotated[str, Query(max_length=256), NoNul] = "",
    auth_config_id: Annotated[str, Query(max_length=64), NoNul] = "",
    cursor: Cursor = None,
) -> Response:
    wanted = {"status": status.strip(), "toolkit": toolkit.strip(), "user_id": user_id.strip(), "auth_config_id": auth_config_id.strip()}
    if wanted["status"] and wanted["status"] not in STATUSES:
        raise InvalidRequest.field("status", f"must be one of {', '.join(STATUSES)}")
    filters = ConnectedAccountFilters(
        statuses=[wanted["status"]] if wanted["status"] else None,
        toolkit_slugs=[wanted["toolkit"]] if wanted["toolkit"] else None,
        user_ids=[wanted["user_id"]] if wanted["user_id"] else None,
        auth_config_ids=[wanted["auth_config_id"]] if wanted["auth_config_id"] else None,
        # Shared accounts too: the API lists them on request (account_type=ALL); a page must not hide any.
        account_types=("PRIVATE", "SHARED"),
    )
    acting = acting_for(principal, project)
    listed = await connected_accounts.list_page(session, acting, filters, await _settings(cache, project), limit=PAGE_SIZE, cursor=cursor)
    configs = await _auth_configs(session, acting)
    next_url = f"?{urlencode({**wanted, 'cursor': listed.next_cursor})}" if listed.next_cursor else None
    return await page(
        request, session, principal, signed_in, "connected_accounts.html",
        project=project, listed=listed, filters=wanted, filtered=any(wanted.values()), statuses=STATUSES, toolkits=_toolkits(),
        auth_configs=configs, config_names={config.id: config.name for config in configs}, next_url=next_url,
        tab="connected_accounts", section="projects",
    )


async def _detail(session: Session, cache: Cache, project: Project, acting: Principal, account_id: str) -> dict[str, Any]:
    config = await _settings(cache, project)
    account = await connected_accounts.get(session, acting, account_id, config)
    auth_config = await AuthConfigRepository(session, acting).get(account.auth_config.id)
    return {
        "project": project, "account": account, "masked": config.mask_secret_keys_in_connected_account,
        "auth_config_name": auth_config.name if auth_config else account.auth_config.id,
        "api_json": json.dumps(account.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False),
        "tab": "connected_accounts", "section": "projects",
    }


@router.get(BASE + "/{account_id}")
async def connected_account_page(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, cache: Cache, account_id: Text
) -> Response:
    detail = await _detail(session, cache, project, acting_for(principal, project), account_id)
    return await page(request, session, principal, signed_in, "connected_account.html", **detail)


async def _problem_on_detail(
    session: Session, cache: Cache, principal: Principal, signed_in: SignedIn, project: Project, account_id: str, error: AppError
) -> FormProblem:
    """The detail page again, with what went wrong; the change rolls back."""
    detail = await _detail(session, cache, project, acting_for(principal, project), account_id)
    context = await page_context(session, principal, signed_in, **detail)
    return FormProblem("connected_account.html", context, error.message, status=error.status, problems=list(error.errors or []))


@router.post(BASE + "/{account_id}/status")
async def set_connected_account_status(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, cache: Cache, account_id: Text
) -> Response:
    enabled = (await form_values(request)).get("enabled")
    if enabled not in ("true", "false"):
        raise InvalidRequest.field("enabled", "must be true or false")
    try:
        await connected_accounts.set_enabled(session, acting_for(principal, project), account_id, enabled == "true")
    except AppError as error:
        if error.status == 404:
            raise
        raise await _problem_on_detail(session, cache, principal, signed_in, project, account_id, error) from None
    notice = "account_enabled" if enabled == "true" else "account_disabled"
    return redirect(project_url(project, f"/connected-accounts/{account_id}?notice={notice}"))


@router.post(BASE + "/{account_id}/refresh")
async def refresh_connected_account(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, cache: Cache, account_id: Text
) -> Response:
    callback_url = (await form_values(request)).get("redirect_url", "").strip() or None
    try:
        await connected_accounts.reinitiate(session, acting_for(principal, project), account_id, callback_url)
    except AppError as error:
        if error.status == 404:
            raise
        raise await _problem_on_detail(session, cache, principal, signed_in, project, account_id, error) from None
    return redirect(project_url(project, f"/connected-accounts/{account_id}?notice=account_refreshed"))


# --- editing -----------------------------------------------------------------------------------


def _credential_fields(account: schemas.ConnectedAccount) -> tuple[Field, ...]:
    """The credential inputs the edit form offers: the connection's fields, for schemes the API lets a PATCH change."""
    if account.auth_config.auth_scheme not in connected_accounts.PATCHABLE_SCHEMES:
        return ()
    toolkit = get_catalog().get(account.toolkit.slug)
    spec = toolkit.scheme(account.auth_config.auth_scheme) if toolkit else None
    return spec.connection_fields if spec else ()


def _whole(field: Field) -> bool:
    """Values that are not secret are shown, and an empty input removes them; a secret is never put into
    the form (whatever the project's masking), its input starts empty, and empty keeps it."""
    return not field.is_secret and field.name not in SECRET_FIELDS


def _current(account: schemas.ConnectedAccount, field: Field) -> str:
    value = account.state.val.get(field.name)
    return "" if value is None else str(value)


def _edit_context(detail: dict[str, Any], values: dict[str, str], invalid: set[str] | None = None) -> dict[str, Any]:
    fields = _credential_fields(detail["account"])
    return {**detail, "fields": fields, "whole": {field.name for field in fields if _whole(field)}, "values": values, "invalid": invalid or set()}


def _start_values(account: schemas.ConnectedAccount) -> dict[str, str]:
    values = {"alias": account.alias or ""}
    values.update({f"cred_{field.name}": _current(account, field) for field in _credential_fields(account) if _whole(field)})
    return values


@router.get(BASE + "/{account_id}/edit")
async def edit_connected_account_form(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, cache: Cache, account_id: Text
) -> Response:
    detail = await _detail(session, cache, project, acting_for(principal, project), account_id)
    return await page(request, session, principal, signed_in, "connected_account_edit.html", **_edit_context(detail, _start_values(detail["account"])))


def _update_body(account: schemas.ConnectedAccount, values: dict[str, str]) -> dict[str, Any]:
    """The PATCH body: the alias as typed (empty clears it) and the credential fields the form changed."""
    body: dict[str, Any] = {"alias": values.get("alias", "").strip()}
    changed: dict[str, str | None] = {}
    for field in _credential_fields(account):
        raw = values.get(f"cred_{field.name}", "").strip()
        if _whole(field):
            if raw != _current(account, field):
                changed[field.name] = raw or None
        elif values.get(f"clear_{field.name}") == "on":
            changed[field.name] = None
        elif raw:
            changed[field.name] = raw
    if changed:
        body["connection"] = {"state": {"authScheme": account.auth_config.auth_scheme, "val": changed}}
    return body


def _described(path: str, problem: str, fields: tuple[Field, ...]) -> tuple[str, str]:
    """A problem at `path` of the update body as (the form input at fault, a line naming its label)."""
    parts = path.split(".")
    if parts[0] == "alias":
        return "alias", f"Alias: {problem}"
    if parts[:3] == ["connection", "state", "val"] and len(parts) > 3:
        field = next((field for field in fields if field.name == parts[3]), None)
        return f"cred_{parts[3]}", f"{field.display_name if field else parts[3]}: {problem}"
    return "", f"{path}: {problem}" if path else problem


def _problem_lines(error: AppError) -> list[tuple[str, str]]:
    lines = []
    for line in error.errors or [error.message]:
        path, _, problem = line.partition(": ")
        lines.append((path, problem) if problem else ("", line))
    return lines


@router.post(BASE + "/{account_id}/edit")
async def update_connected_account(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, cache: Cache, account_id: Text
) -> Response:
    acting = acting_for(principal, project)
    values = await form_values(request)
    # Read before the change: a refused flush (a taken alias) leaves the session unusable until the
    # rollback, and the page shows the account as it stays.
    detail = await _detail(session, cache, project, acting, account_id)
    context = await page_context(session, principal, signed_in)
    account: schemas.ConnectedAccount = detail["account"]
    fields = _credential_fields(account)
    status, message = 400, "The connected account was not saved."
    try:
        await connected_accounts.update(session, acting, account_id, schemas.ConnectedAccountUpdate.model_validate(_update_body(account, values)))
    except ValidationError as error:
        problems = [(".".join(str(part) for part in item["loc"]), item["msg"]) for item in error.errors()]
    except AppError as error:
        if error.status == 404:
            raise
        status, problems = error.status, _problem_lines(error)
        if error.status == 409:
            message = error.message
    else:
        return redirect(project_url(project, f"/connected-accounts/{account_id}?notice=account_saved"))
    described = [_described(path, problem, fields) for path, problem in problems]
    kept = {key: value for key, value in values.items() if key.startswith("clear_") or key in _start_values(account)}
    context.update(_edit_context(detail, kept, {name for name, _ in described}))
    raise FormProblem("connected_account_edit.html", context, message, status=status, problems=[line for _, line in described])


@router.get(BASE + "/{account_id}/delete")
async def delete_connected_account_form(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, cache: Cache, account_id: Text
) -> Response:
    detail = await _detail(session, cache, project, acting_for(principal, project), account_id)
    return await page(request, session, principal, signed_in, "connected_account_delete.html", **detail)


@router.post(BASE + "/{account_id}/delete")
async def delete_connected_account(principal: OrgMember, project: DashProject, session: Session, account_id: Text) -> Response:
    await connected_accounts.delete(session, acting_for(principal, project), account_id)
    return redirect(project_url(project, "/connected-accounts?notice=account_deleted"))
