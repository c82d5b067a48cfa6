"""The organization's API keys (`oak_`): list masked, create (shown once), revoke. Admins only,
as in the API (tenantry.organizations.auth): an organization key can do everything an admin can."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError

from tenantry.auth.principal import Principal
from tenantry.dashboard.auth import OrgAdmin, SignedIn
from tenantry.dashboard.pages.params import end_of_day, utc_day
from tenantry.dashboard.web import PREFIX, FormProblem, form_values, page, page_context, pages, problems_of, redirect
from tenantry.db import Session
from tenantry.errors import AppError
from tenantry.kit.inputs import Text
from tenantry.organizations import service as organizations
from tenantry.organizations.schemas import OrgApiKeyCreate

router = pages()


async def _keys(session: Session, principal: Principal, form: dict[str, str]) -> dict[str, Any]:
    """The page's own values; `form` refills the create form after a problem."""
    listed = await organizations.list_keys(session, principal)
    return {"keys": listed.items, "form": form, "section": "org_keys"}


def _key_from_form(form: dict[str, str]) -> dict[str, Any]:
    """The create form as the API's request body: an expiry only when a date is given (the end of that day, UTC)."""
    body: dict[str, Any] = {"name": form.get("name", "")}
    day = utc_day(form.get("expires_on", ""), "expires_on")
    if day is not None:
        body["expires_at"] = end_of_day(day)
    return body


@router.get("/orgs/{org_id}/api-keys")
async def org_keys_page(request: Request, principal: OrgAdmin, signed_in: SignedIn, session: Session) -> Response:
    return await page(request, session, principal, signed_in, "org_keys.html", **await _keys(session, principal, {}))


@router.post("/orgs/{org_id}/api-keys")
async def create_org_key(request: Request, principal: OrgAdmin, signed_in: SignedIn, session: Session) -> Response:
    form = await form_values(request)
    try:
        payload = OrgApiKeyCreate.model_validate(_key_from_form(form))
        issued = await organizations.create_key(session, principal, payload)
    except ValidationError as error:
        context = await page_context(session, principal, signed_in, **await _keys(session, principal, form))
        raise FormProblem("org_keys.html", context, "The key was not created.", problems=problems_of(error)) from None
    except AppError as error:
        context = await page_context(session, principal, signed_in, **await _keys(session, principal, form))
        raise FormProblem("org_keys.html", context, error.message, status=error.status) from None
    return await page(
        request, session, principal, signed_in, "key_shown.html",
        heading=f"Organization key {issued.name} created", key=issued.key, org_key=True,
        expires_at=issued.expires_at, section="org_keys",
    )


@router.post("/orgs/{org_id}/api-keys/{key_id}/revoke")
async def revoke_org_key(principal: OrgAdmin, session: Session, key_id: Text) -> Response:
    await organizations.revoke_key(session, principal, key_id)
    return redirect(f"{PREFIX}/orgs/{principal.org_id}/api-keys?notice=org_key_revoked")
