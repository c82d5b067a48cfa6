"""Project Settings: every field of `/org/project/config`, saved through the settings service."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError

from tenantry.dashboard.auth import DashProject, OrgMember, SignedIn, acting_for
from tenantry.dashboard.web import (
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
from tenantry.settings import service as project_settings
from tenantry.settings.schemas import LogVisibility, ProjectConfigUpdate

router = pages()

_FLAGS = ("is_2FA_enabled", "mask_secret_keys_in_connected_account", "require_mcp_api_key", "is_composio_link_enabled_for_managed_auth")
_TEXTS = ("display_name", "logo_url", "oauth_callback_verifier_url")


def _settings_from_form(form: dict[str, str]) -> dict[str, Any]:
    """The whole form as a config update: unticked boxes are false, empty texts are null."""
    changes: dict[str, Any] = {flag: form.get(flag) == "on" for flag in _FLAGS}
    for field in _TEXTS:
        changes[field] = form.get(field, "").strip() or None
    changes["log_visibility_setting"] = form.get("log_visibility_setting", "")
    expiry = form.get("signed_url_file_expiry_in_seconds", "").strip()
    # The schema takes an integer, as JSON sends it; anything else it refuses, naming the field.
    changes["signed_url_file_expiry_in_seconds"] = int(expiry) if expiry.isdecimal() else expiry
    theme = form.get("theme", "").strip()
    if theme:
        try:
            changes["theme"] = json.loads(theme)
        except json.JSONDecodeError:
            changes["theme"] = theme  # rejected by the schema, naming the field
    else:
        changes["theme"] = None
    return changes


@router.get("/orgs/{org_id}/projects/{project_id}/settings")
async def settings_page(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    config = await project_settings.read_in(session, project.id)
    values = config.model_dump(mode="json")
    values["theme"] = json.dumps(config.theme, indent=2) if config.theme is not None else ""
    return await page(
        request, session, principal, signed_in, "settings.html",
        project=project, values=values, visibilities=list(LogVisibility), tab="settings", section="projects",
    )


@router.post("/orgs/{org_id}/projects/{project_id}/settings")
async def save_settings(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    form = await form_values(request)
    try:
        changes = ProjectConfigUpdate.model_validate(_settings_from_form(form))
    except ValidationError as error:
        values = {**form, **{flag: form.get(flag) == "on" for flag in _FLAGS}}
        context = await page_context(
            session, principal, signed_in,
            project=project, values=values, visibilities=list(LogVisibility), tab="settings", section="projects",
        )
        raise FormProblem("settings.html", context, "Some settings are not valid; nothing was saved.", problems=problems_of(error)) from None
    await project_settings.update(session, acting_for(principal, project), changes)
    return redirect(project_url(project, "/settings?notice=saved"))
