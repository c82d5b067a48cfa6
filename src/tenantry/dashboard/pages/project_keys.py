"""A project's API keys: the project's front page. Named, scoped and expiring keys, regenerate, revoke."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError

from tenantry.api_keys import service as api_keys
from tenantry.api_keys.schemas import MAX_GRACE_PERIOD_SECONDS, ApiKeyCreate
from tenantry.auth import scopes
from tenantry.dashboard.auth import DashProject, OrgMember, SignedIn
from tenantry.dashboard.pages.params import end_of_day, utc_day
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
from tenantry.errors import AppError, InvalidRequest
from tenantry.kit.inputs import Text
from tenantry.models import Project
from tenantry.projects import service as projects

router = pages()

GRACE_CHOICES = {"0": None, "3600": 3600, "86400": 86400, "604800": 604800}
assert all(seconds is None or seconds <= MAX_GRACE_PERIOD_SECONDS for seconds in GRACE_CHOICES.values())
# The scoped-key form: one select per permission area, offering the levels that area has.
SCOPE_AREAS = [
    {"area": area.value, "label": scopes.LABELS[area], "hint": scopes.DESCRIPTIONS[area].split(": ", 1)[1], "levels": [level.value for level in scopes.LEVELS[area]]}
    for area in scopes.Area
]


async def _keys(session: Session, project: Project, form: dict[str, str]) -> dict[str, Any]:
    """The keys page's own values; `form` refills the create form after a problem."""
    listed = await api_keys.list_keys(session, project)
    return {"project": project, "keys": listed.items, "scope_areas": SCOPE_AREAS, "form": form, "tab": "keys", "section": "projects"}


@router.get("/orgs/{org_id}/projects/{project_id}")
async def project_page(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    return await page(request, session, principal, signed_in, "project.html", **await _keys(session, project, {}))


def _key_from_form(form: dict[str, str]) -> dict[str, Any]:
    """The create-key form as the API's request body: a scoped key only when "Scoped" is chosen,
    an expiry only when a date is given (the end of that day, UTC)."""
    body: dict[str, Any] = {"name": form.get("name", "")}
    day = utc_day(form.get("expires_on", ""), "expires_on")
    if day is not None:
        body["expires_at"] = end_of_day(day)
    if form.get("access") == "scoped":
        body["scopes"] = {area["area"]: form.get(f"scope_{area['area']}", "none") for area in SCOPE_AREAS}
    return body


@router.post("/orgs/{org_id}/projects/{project_id}/keys")
async def create_key(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    form = await form_values(request)
    try:
        payload = ApiKeyCreate.model_validate(_key_from_form(form))
        issued = await api_keys.create(session, principal, project, payload)
    except ValidationError as error:
        context = await page_context(session, principal, signed_in, **await _keys(session, project, form))
        raise FormProblem("project.html", context, "The key was not created.", problems=problems_of(error)) from None
    except AppError as error:
        context = await page_context(session, principal, signed_in, **await _keys(session, project, form))
        raise FormProblem("project.html", context, error.message, status=error.status) from None
    return await page(
        request, session, principal, signed_in, "key_shown.html",
        heading=f"Key {issued.name} created", key=issued.key, project_id=project.id, project=project,
        expires_at=issued.expires_at, scopes=issued.scopes, section="projects",
    )


@router.post("/orgs/{org_id}/projects/{project_id}/keys/regenerate")
async def regenerate_keys(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    form = await form_values(request)
    choice = form.get("grace_period_seconds", "0")
    if choice not in GRACE_CHOICES:
        raise InvalidRequest.field("grace_period_seconds", "choose one of the offered periods")
    regenerated = await projects.regenerate_key(session, principal, project, GRACE_CHOICES[choice])
    return await page(
        request, session, principal, signed_in, "key_shown.html",
        heading="Keys regenerated", key=regenerated.api_key.key, project_id=project.id, project=project,
        previous_keys_expire_at=regenerated.previous_keys_expire_at, section="projects",
    )


@router.post("/orgs/{org_id}/projects/{project_id}/keys/{key_id}/revoke")
async def revoke_key(principal: OrgMember, project: DashProject, session: Session, key_id: Text) -> Response:
    await api_keys.revoke(session, principal, project, key_id)
    return redirect(project_url(project, "?notice=revoked"))
