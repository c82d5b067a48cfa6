"""A project's auth configs: the list with filters, one config as the API shows it, enable and
disable, delete, and forms that create a custom (or managed) config and edit one, through the API's
schemas and services."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from pydantic import ValidationError

from tenantry.auth.principal import Principal
from tenantry.auth_configs import schemas
from tenantry.auth_configs import service as auth_configs
from tenantry.auth_configs.repository import AuthConfigFilters
from tenantry.dashboard.auth import DashProject, OrgMember, SignedIn, acting_for
from tenantry.dashboard.pages.params import PAGE_SIZE, Cursor
from tenantry.dashboard.web import FormProblem, form_values, page, page_context, pages, project_url, redirect
from tenantry.db import Session
from tenantry.errors import AppError, InvalidRequest
from tenantry.kit.inputs import NoNul, Text
from tenantry.models import Project
from tenantry.toolkits.catalog import Field, Toolkit, get_catalog

router = pages()

BASE = "/orgs/{org_id}/projects/{project_id}/auth-configs"
# The scheme choice of the create form that means "the operator's managed app" (use_composio_managed_auth).
MANAGED = "MANAGED"
KINDS = {"managed": True, "custom": False}
_UNION_TAGS = {"use_custom_auth", "use_composio_managed_auth"}
_ADVANCED = {"proxy_url", "proxy_auth_key", "restrict_to_following_tools"}
# Form inputs and labels of the create body's fields, keyed by their path in AuthConfigCreate.
_INPUTS = {
    "toolkit": ("toolkit", "Toolkit"),
    "toolkit.slug": ("toolkit", "Toolkit"),
    "auth_config.type": ("scheme", "Auth scheme"),
    "auth_config.authScheme": ("scheme", "Auth scheme"),
    "auth_config.name": ("name", "Name"),
    "auth_config.proxy_config": ("proxy_url", "Proxy URL"),
    "auth_config.proxy_config.proxy_url": ("proxy_url", "Proxy URL"),
    "auth_config.proxy_config.proxy_auth_key": ("proxy_auth_key", "Proxy auth key"),
    "auth_config.restrict_to_following_tools": ("restrict_to_following_tools", "Restrict to tools"),
}


def _toolkits() -> list[Toolkit]:
    return sorted((toolkit for toolkit in get_catalog() if not toolkit.deprecated), key=lambda toolkit: toolkit.name.casefold())


def _api_json(model: Any) -> str:
    """The body the API answers with for this object."""
    return json.dumps(model.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False)


# --- the list ----------------------------------------------------------------------------------


@router.get(BASE)
async def auth_configs_page(
    request: Request,
    principal: OrgMember,
    signed_in: SignedIn,
    project: DashProject,
    session: Session,
    toolkit: Annotated[str, Query(max_length=100), NoNul] = "",
    kind: Annotated[str, Query(max_length=10), NoNul] = "",
    status: Annotated[str, Query(max_length=10), NoNul] = "",
    q: Annotated[str, Query(max_length=255), NoNul] = "",
    cursor: Cursor = None,
) -> Response:
    wanted = {"toolkit": toolkit.strip(), "kind": kind if kind in KINDS else "", "status": status if status == "enabled" else "", "q": q.strip()}
    filters = AuthConfigFilters(
        toolkit_slugs=[wanted["toolkit"]] if wanted["toolkit"] else None,
        is_composio_managed=KINDS.get(wanted["kind"]),
        # The API hides disabled configs unless asked; the dashboard shows them so they can be enabled again.
        show_disabled=wanted["status"] != "enabled",
        search=wanted["q"] or None,
    )
    listed = await auth_configs.list_page(session, acting_for(principal, project), filters, limit=PAGE_SIZE, cursor=cursor)
    next_url = f"?{urlencode({**wanted, 'cursor': listed.next_cursor})}" if listed.next_cursor else None
    return await page(
        request, session, principal, signed_in, "auth_configs.html",
        project=project, listed=listed, filters=wanted, filtered=any(wanted.values()), toolkits=_toolkits(), next_url=next_url,
        tab="auth_configs", section="projects",
    )


# --- creating ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemeChoice:
    value: str
    label: str
    supported: bool


def _scheme_choices(toolkit: Toolkit) -> list[SchemeChoice]:
    choices = [SchemeChoice(MANAGED, "Managed: this server's OAuth app", True)] if toolkit.managed_app else []
    for spec in toolkit.auth_schemes:
        supported = spec.mode in schemas.SUPPORTED_SCHEMES
        label = f"{spec.mode.value} (your own {'app credentials' if spec.auth_config_fields else 'settings'})"
        choices.append(SchemeChoice(spec.mode.value, label if supported else f"{spec.mode.value} (not supported by this server yet)", supported))
    return choices


def _fields(toolkit: Toolkit, scheme: str) -> tuple[Field, ...]:
    """The values the developer gives for this scheme: the app credentials (only scopes for a managed app)."""
    if scheme == MANAGED:
        spec = toolkit.scheme("OAUTH2")
        return tuple(field for field in (spec.auth_config_fields if spec else ()) if field.name in ("scopes", "user_scopes"))
    spec = toolkit.scheme(scheme)
    return spec.auth_config_fields if spec else ()


@dataclass(frozen=True)
class NewForm:
    """Where the create form stands: a toolkit chosen, then a scheme, then the details."""

    toolkit: Toolkit | None
    scheme: str
    choices: list[SchemeChoice]
    fields: tuple[Field, ...]


def _new_form(toolkit_slug: str, scheme: str) -> NewForm:
    toolkit = get_catalog().get(toolkit_slug) if toolkit_slug else None
    if toolkit is None:
        return NewForm(None, "", [], ())
    choices = _scheme_choices(toolkit)
    if scheme not in {choice.value for choice in choices if choice.supported}:
        scheme = ""
    return NewForm(toolkit, scheme, choices, _fields(toolkit, scheme) if scheme else ())


def _new_context(project: Project, form: NewForm, values: dict[str, str], invalid: set[str] | None = None) -> dict[str, Any]:
    return {
        "project": project, "toolkits": _toolkits(), "new": form, "managed": MANAGED, "values": values,
        "invalid": invalid or set(), "advanced_open": bool((invalid or set()) & _ADVANCED), "tab": "auth_configs", "section": "projects",
    }


@router.get(BASE + "/new")
async def new_auth_config_form(
    request: Request,
    principal: OrgMember,
    signed_in: SignedIn,
    project: DashProject,
    session: Session,
    toolkit: Annotated[str, Query(max_length=100), NoNul] = "",
    scheme: Annotated[str, Query(max_length=40), NoNul] = "",
) -> Response:
    form = _new_form(toolkit.strip(), scheme.strip())
    return await page(request, session, principal, signed_in, "auth_config_new.html", **_new_context(project, form, {}))


def _listed(text: str) -> list[str]:
    return [item for item in text.replace(",", " ").split() if item]


def _credentials(fields: tuple[Field, ...], form: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The credential inputs as values of their declared types, and the inputs that are not."""
    credentials: dict[str, Any] = {}
    wrong: list[tuple[str, str]] = []
    for field in fields:
        raw = form.get(f"cred_{field.name}", "")
        if field.type == "boolean":
            credentials[field.name] = raw == "on"
            continue
        raw = raw.strip()
        if not raw:
            continue
        if field.type in ("integer", "number"):
            try:
                credentials[field.name] = int(raw) if field.type == "integer" else float(raw)
            except ValueError:
                wrong.append((f"auth_config.credentials.{field.name}", f"must be {'a whole number' if field.type == 'integer' else 'a number'}"))
            continue
        credentials[field.name] = raw
    return credentials, wrong


def _body(form: NewForm, values: dict[str, str], credentials: dict[str, Any]) -> dict[str, Any]:
    """The create form as the API's request body."""
    assert form.toolkit is not None
    spec: dict[str, Any] = {
        "name": values.get("name", "").strip() or None,
        "credentials": credentials,
        "restrict_to_following_tools": _listed(values.get("restrict_to_following_tools", "")),
        "is_enabled_for_tool_router": values.get("is_enabled_for_tool_router") == "on",
    }
    if form.scheme == MANAGED:
        spec["type"] = "use_composio_managed_auth"
    else:
        spec["type"], spec["authScheme"] = "use_custom_auth", form.scheme
        proxy_url = values.get("proxy_url", "").strip()
        if proxy_url:
            spec["proxy_config"] = {"proxy_url": proxy_url, "proxy_auth_key": values.get("proxy_auth_key", "").strip() or None}
    return {"toolkit": {"slug": form.toolkit.slug}, "auth_config": spec}


def _described(path: str, problem: str, fields: tuple[Field, ...]) -> tuple[str, str]:
    """A problem at `path` of the create body as (the form input at fault, a line naming its label)."""
    if not path:
        return "", problem
    parts = [part for part in path.split(".") if part not in _UNION_TAGS]
    if len(parts) >= 3 and parts[:2] == ["auth_config", "credentials"]:
        name = parts[2]
        field = next((field for field in fields if field.name == name), None)
        return f"cred_{name}", f"{field.display_name if field else name}: {problem}"
    for length in range(len(parts), 0, -1):
        known = _INPUTS.get(".".join(parts[:length]))
        if known:
            return known[0], f"{known[1]}: {problem}"
    return "", f"{'.'.join(parts) or 'form'}: {problem}"


def _validation_problems(error: ValidationError) -> list[tuple[str, str]]:
    return [(".".join(str(part) for part in item["loc"]), item["msg"]) for item in error.errors()]


def _app_problems(error: AppError) -> list[tuple[str, str]]:
    problems = []
    for line in error.errors or [error.message]:
        path, _, problem = line.partition(": ")
        problems.append((path, problem) if problem else ("", line))
    return problems


@router.post(BASE + "/new")
async def create_auth_config(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    values = await form_values(request)
    form = _new_form(values.get("toolkit", "").strip(), values.get("scheme", "").strip())
    problems: list[tuple[str, str]] = []
    if form.toolkit is None:
        problems = [("toolkit.slug", "choose a toolkit of this server's catalog")]
    elif not form.scheme:
        problems = [("auth_config.authScheme", "choose one of the schemes this toolkit offers")]
    else:
        credentials, problems = _credentials(form.fields, values)
        if not problems:
            try:
                payload = schemas.AuthConfigCreate.model_validate(_body(form, values, credentials))
                created = await auth_configs.create(session, acting_for(principal, project), payload)
            except ValidationError as error:
                problems = _validation_problems(error)
            except InvalidRequest as error:
                problems = _app_problems(error)
            else:
                return redirect(project_url(project, f"/auth-configs/{created.auth_config.id}?notice=auth_config_created"))
    described = [_described(path, problem, form.fields) for path, problem in problems]
    # Secrets are never sent back into the page; the developer types them again.
    secret = {f"cred_{field.name}" for field in form.fields if field.is_secret} | {"proxy_auth_key"}
    kept = {key: value for key, value in values.items() if key not in secret}
    context = await page_context(session, principal, signed_in, **_new_context(project, form, kept, {name for name, _ in described}))
    raise FormProblem(
        "auth_config_new.html", context, "The auth config was not created.", problems=[line for _, line in described]
    )


# --- one auth config ---------------------------------------------------------------------------


async def _detail(session: Session, acting: Principal, auth_config_id: str) -> dict[str, Any]:
    config = await auth_configs.get(session, acting, auth_config_id)
    toolkit = get_catalog().get(config.toolkit.slug)
    return {"config": config, "toolkit_name": toolkit.name if toolkit else config.toolkit.slug, "api_json": _api_json(config)}


@router.get(BASE + "/{auth_config_id}")
async def auth_config_page(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, auth_config_id: Text
) -> Response:
    detail = await _detail(session, acting_for(principal, project), auth_config_id)
    return await page(
        request, session, principal, signed_in, "auth_config.html", project=project, **detail, tab="auth_configs", section="projects"
    )


# --- editing -----------------------------------------------------------------------------------


def _edit_fields(config: schemas.AuthConfig) -> tuple[Field, ...]:
    """The credential inputs the edit form offers: the scheme's app credentials, only scopes for a managed app."""
    toolkit = get_catalog().get(config.toolkit.slug)
    if toolkit is None:
        return ()
    return _fields(toolkit, MANAGED if config.is_composio_managed else config.auth_scheme)


def _whole(field: Field) -> bool:
    """Whether the API shows this value whole: then the form shows it, and an empty input removes it.
    Every other value is never put into the form: its input starts empty, and empty keeps it."""
    return field.type == "boolean" or field.name in auth_configs.PUBLIC_CREDENTIALS


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return value if isinstance(value, str) else str(value)


def _current_values(config: schemas.AuthConfig, fields: tuple[Field, ...]) -> dict[str, str]:
    """The form as it starts: only what the API shows whole."""
    values = {
        "name": config.name,
        "restrict_to_following_tools": ", ".join(config.restrict_to_following_tools),
        "is_enabled_for_tool_router": "on" if config.is_enabled_for_tool_router else "",
        "proxy_url": config.proxy_config.proxy_url if config.proxy_config else "",
    }
    for field in fields:
        if field.type == "boolean":
            values[f"cred_{field.name}"] = "on" if config.credentials.get(field.name) is True else ""
        elif _whole(field):
            values[f"cred_{field.name}"] = _as_text(config.credentials.get(field.name))
    return values


def _edit_context(project: Project, detail: dict[str, Any], values: dict[str, str], invalid: set[str] | None = None) -> dict[str, Any]:
    fields = _edit_fields(detail["config"])
    return {
        **detail, "project": project, "fields": fields, "whole": {field.name for field in fields if _whole(field)},
        "values": values, "invalid": invalid or set(), "tab": "auth_configs", "section": "projects",
    }


@router.get(BASE + "/{auth_config_id}/edit")
async def edit_auth_config_form(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, auth_config_id: Text
) -> Response:
    detail = await _detail(session, acting_for(principal, project), auth_config_id)
    values = _current_values(detail["config"], _edit_fields(detail["config"]))
    return await page(request, session, principal, signed_in, "auth_config_edit.html", **_edit_context(project, detail, values))


def _typed(field: Field, raw: str) -> tuple[Any, str | None]:
    """A non-empty text input as a value of the field's declared type, or why it is not one."""
    if field.type not in ("integer", "number"):
        return raw, None
    try:
        return (int(raw) if field.type == "integer" else float(raw)), None
    except ValueError:
        return None, f"must be {'a whole number' if field.type == 'integer' else 'a number'}"


async def _changes(
    session: Session, acting: Principal, config: schemas.AuthConfig, fields: tuple[Field, ...], values: dict[str, str]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The PATCH body of what the form changed (paths of the update body), and the inputs that are wrong."""
    body: dict[str, Any] = {"type": config.type}
    wrong: list[tuple[str, str]] = []
    name = values.get("name", "").strip()
    if name != config.name:
        body["name"] = name
    credentials: dict[str, Any] = {}
    for field in fields:
        raw = values.get(f"cred_{field.name}", "")
        if field.type == "boolean":
            if (raw == "on") != (config.credentials.get(field.name) is True):
                credentials[field.name] = raw == "on"
            continue
        raw = raw.strip()
        if _whole(field):
            if raw == _as_text(config.credentials.get(field.name)):
                continue
        elif values.get(f"clear_{field.name}") == "on":
            credentials[field.name] = None
            continue
        elif not raw:
            continue
        value, problem = _typed(field, raw) if raw else (None, None)
        if problem:
            wrong.append((f"credentials.{field.name}", problem))
        credentials[field.name] = value
    if config.is_composio_managed:
        # A managed config's only credentials are its scopes, sent at the top level ("" clears them).
        body.update({key: value or "" for key, value in credentials.items()})
    else:
        if credentials:
            body["credentials"] = credentials
        proxy = await _proxy_change(session, acting, config, values)
        if proxy is not _UNCHANGED:
            body["proxy_config"] = proxy
            if proxy is None and values.get("proxy_auth_key", "").strip():
                wrong.append(("proxy_config.proxy_url", "give the proxy's URL with its auth key"))
    restrict = _listed(values.get("restrict_to_following_tools", ""))
    if restrict != config.restrict_to_following_tools:
        body["restrict_to_following_tools"] = restrict
    router_on = values.get("is_enabled_for_tool_router") == "on"
    if router_on != config.is_enabled_for_tool_router:
        body["is_enabled_for_tool_router"] = router_on
    return body, wrong


_UNCHANGED: Any = object()


async def _proxy_change(session: Session, acting: Principal, config: schemas.AuthConfig, values: dict[str, str]) -> Any:
    """The proxy_config to send: unchanged, None (no proxy) or the new URL with the key to keep.

    An empty key input keeps the stored key. The API replaces URL and key together, so a new URL
    with an empty key input sends the stored key back; it is read here and never reaches the page."""
    url = values.get("proxy_url", "").strip()
    key = values.get("proxy_auth_key", "").strip()
    clear_key = values.get("clear_proxy_auth_key") == "on"
    current_url = config.proxy_config.proxy_url if config.proxy_config else ""
    if not url:
        return None if current_url or key else _UNCHANGED
    if url == current_url and not key and not clear_key:
        return _UNCHANGED
    if not key and not clear_key and config.proxy_config and config.proxy_config.proxy_auth_key:
        row = await auth_configs.require(session, acting, config.id)
        key = (await auth_configs.secrets_of(session, row))["proxy_auth_key"] or ""
    return {"proxy_url": url, "proxy_auth_key": None if clear_key else key or None}


def _update_path(path: str) -> str:
    """A path of the update body as the matching path of the create body, whose inputs the form shares."""
    if not path:
        return path
    if path.split(".")[0] in ("scopes", "user_scopes"):
        return f"auth_config.credentials.{path}"
    return f"auth_config.{path}"


@router.post(BASE + "/{auth_config_id}/edit")
async def update_auth_config(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, auth_config_id: Text
) -> Response:
    acting = acting_for(principal, project)
    values = await form_values(request)
    # Read before the change: a refused change leaves the config as it was, and the page shows that.
    detail = await _detail(session, acting, auth_config_id)
    config: schemas.AuthConfig = detail["config"]
    fields = _edit_fields(config)
    context = await page_context(session, principal, signed_in)
    body, problems = await _changes(session, acting, config, fields, values)
    if not problems:
        if len(body) == 1:
            return redirect(project_url(project, f"/auth-configs/{auth_config_id}?notice=auth_config_unchanged"))
        model = schemas.DefaultAuthConfigUpdate if config.is_composio_managed else schemas.CustomAuthConfigUpdate
        try:
            await auth_configs.update(session, acting, auth_config_id, model.model_validate(body))
        except ValidationError as error:
            problems = _validation_problems(error)
        except InvalidRequest as error:
            problems = _app_problems(error)
        else:
            return redirect(project_url(project, f"/auth-configs/{auth_config_id}?notice=auth_config_saved"))
    described = [_described(_update_path(path), problem, fields) for path, problem in problems]
    # What was typed comes back, except the inputs that hold secrets or values the API obfuscates.
    kept = {key: value for key, value in values.items() if key.startswith("clear_") or key in _current_values(config, fields)}
    context.update(_edit_context(project, detail, kept, {name for name, _ in described}))
    raise FormProblem("auth_config_edit.html", context, "The auth config was not saved.", problems=[line for _, line in described])


@router.post(BASE + "/{auth_config_id}/status")
async def set_auth_config_status(request: Request, principal: OrgMember, project: DashProject, session: Session, auth_config_id: Text) -> Response:
    status = (await form_values(request)).get("status")
    if status not in ("ENABLED", "DISABLED"):
        raise InvalidRequest.field("status", "must be ENABLED or DISABLED")
    await auth_configs.set_status(session, acting_for(principal, project), auth_config_id, status == "ENABLED")
    notice = "auth_config_enabled" if status == "ENABLED" else "auth_config_disabled"
    return redirect(project_url(project, f"/auth-configs/{auth_config_id}?notice={notice}"))


@router.get(BASE + "/{auth_config_id}/delete")
async def delete_auth_config_form(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, auth_config_id: Text
) -> Response:
    config = await auth_configs.get(session, acting_for(principal, project), auth_config_id)
    return await page(
        request, session, principal, signed_in, "auth_config_delete.html", project=project, config=config, tab="auth_configs", section="projects"
    )


@router.post(BASE + "/{auth_config_id}/delete")
async def delete_auth_config(principal: OrgMember, project: DashProject, session: Session, auth_config_id: Text) -> Response:
    await auth_configs.delete(session, acting_for(principal, project), auth_config_id)
    return redirect(project_url(project, "/auth-configs?notice=auth_config_deleted"))
