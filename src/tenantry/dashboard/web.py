"""What every dashboard page shares: templates, cookies, the CSRF check, and errors as HTML pages.

Every POST must carry a CSRF token in its form. A signed-in browser's token is derived from its
session (accounts.csrf_token_for); the sign-in form, before any session exists, uses a random
token in a cookie that the form repeats (double submit). Either way a page on another site cannot
know the token, and SameSite=Lax keeps the session cookie off its cross-site POSTs besides.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.config import get_settings
from tenantry.dashboard import accounts
from tenantry.errors import AppError, Forbidden
from tenantry.kit.time import iso
from tenantry.models import Project
from tenantry.models.base import Base

SESSION_COOKIE = "tenantry_session"
SIGN_IN_CSRF_COOKIE = "tenantry_csrf"
CSRF_FIELD = "csrf_token"
PREFIX = "/dashboard"

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["when"] = lambda moment: (iso(moment) or "")[:16].replace("T", " ") if moment else "—"

# Pages show keys and settings: never cached, never framed, no third-party anything.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


class SignInRequired(Exception):
    """No valid session: the browser is sent to the sign-in page."""


class CsrfRejected(Forbidden):
    code, slug = 805, "Dashboard_CsrfTokenInvalid"
    default_message = "This form has expired or did not come from this site. Reload the page and try again."


def cookie_is_secure() -> bool:
    return get_settings().public_url.lower().startswith("https://")


def set_cookie(response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=PREFIX, httponly=True, samesite="lax", secure=cookie_is_secure()
    )


def signed_in_redirect(target: str, session_token: str) -> Response:
    """Sends a browser that just signed in to `target` with its session cookie; the sign-in form's
    CSRF cookie has done its work."""
    response = redirect(target)
    set_cookie(response, SESSION_COOKIE, session_token, max_age=int(get_settings().dashboard_session_hours * 3600))
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path=PREFIX)
    return response


def csrf_token(request: Request) -> str:
    """The token this browser's forms must carry."""
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        return accounts.csrf_token_for(session_token)
    token = request.cookies.get(SIGN_IN_CSRF_COOKIE)
    if not token or len(token) > 64:
        token = request.state.new_sign_in_csrf = secrets.token_urlsafe(24)
    return token


async def _check_csrf(request: Request) -> None:
    form = await request.form()
    presented = form.get(CSRF_FIELD)
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        expected: str | None = accounts.csrf_token_for(session_token)
    else:
        expected = request.cookies.get(SIGN_IN_CSRF_COOKIE)
    if not isinstance(presented, str) or not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise CsrfRejected()


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200) -> Response:
    values = {"csrf_token": csrf_token(request), "prefix": PREFIX, **(context or {})}
    response = templates.TemplateResponse(request, template, values, status_code=status_code)
    new_token = getattr(request.state, "new_sign_in_csrf", None)
    if new_token:
        set_cookie(response, SIGN_IN_CSRF_COOKIE, new_token)
    return response


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", {"title": title, "message": message, "status": status}, status_code=status)


_TITLES = {400: "That did not work", 403: "Not allowed", 404: "Not found", 409: "That did not work"}


async def _roll_back(request: Request, context: dict[str, Any]) -> None:
    """Undoes the request's changes before a problem is shown, and reloads the rows the page shows.

    The problem is answered with a page, so the request's transaction would otherwise commit
    whatever the service had written before it refused. A rollback expires every row the session
    holds (a refused flush already has), so the rows the page renders are read again.
    """
    session: AsyncSession | None = getattr(request.state, "db_session", None)
    if session is None:
        return
    await session.rollback()
    for value in context.values():
        for row in value if isinstance(value, list | tuple) else (value,):
            if isinstance(row, Base) and sa_inspect(row).persistent:
                await session.refresh(row)


class DashboardRoute(APIRoute):
    """Checks the CSRF token of every POST, answers errors as pages, and adds the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                if request.method == "POST":
                    await _check_csrf(request)
                response = await handler(request)
            except FormProblem as problem:
                await _roll_back(request, problem.context)
                context = {**problem.context, "problem": problem.message, "problems": problem.problems}
                response = render(request, problem.template, context, status_code=problem.status)
            except SignInRequired:
                target = request.url.path if request.method == "GET" else PREFIX
                response = redirect(f"{PREFIX}/sign-in?next={quote(target, safe='/')}")
            except AppError as error:
                await _roll_back(request, {})
                response = _error_page(request, error.status, _TITLES.get(error.status, "Something went wrong"), error.message)
            except RequestValidationError:
                response = _error_page(request, 400, "That did not work", "The request is not valid.")
            response.headers.update(SECURITY_HEADERS)
            return response

        return guarded


class FormProblem(Exception):
    """A form to show again with a problem. DashboardRoute rolls the request's transaction back first."""

    def __init__(self, template: str, context: dict[str, Any], message: str, *, status: int = 400, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.template, self.context, self.message, self.status = template, context, message, status
        self.problems = problems or []

    @classmethod
    def of(cls, template: str, context: dict[str, Any], message: str, error: ValidationError | AppError) -> FormProblem:
        """The form again with what a schema or a service refused, field by field, and the service's status."""
        if isinstance(error, ValidationError):
            return cls(template, context, message, problems=problems_of(error))
        return cls(template, context, message, status=error.status, problems=error.errors or [error.message])


def pages() -> APIRouter:
    """A router for one area's pages: under the dashboard's prefix, CSRF-checked, out of the OpenAPI document."""
    return APIRouter(prefix=PREFIX, route_class=DashboardRoute, include_in_schema=False)


# Notices a redirect may ask the next page to show (`?notice=…`): fixed texts, so a link cannot inject one.
NOTICES = {
    "revoked": "The key was revoked. It no longer works.",
    "org_key_revoked": "The organization key was revoked. It no longer works.",
    "role_changed": "The member’s role was changed. It applies to their next request.",
    "member_removed": "The member was removed. Their user keys from this organization no longer work.",
    "password_set": "Your password is set and you are signed in.",
    "saved": "Settings saved.",
    "deleted": "The project was deleted. An admin can restore it from Deleted projects during the retention period.",
    "restored": "The project was restored. Its old keys stay revoked: create a new one.",
    "auth_config_created": "The auth config was created. Connected accounts can now be made with it.",
    "auth_config_enabled": "The auth config was enabled. It can make new connections again.",
    "auth_config_disabled": "The auth config was disabled. It makes no new connections until enabled again.",
    "auth_config_deleted": "The auth config was deleted, with its connected accounts.",
    "auth_config_saved": "The auth config was saved.",
    "auth_config_unchanged": "Nothing was changed.",
    "account_enabled": "The connected account was enabled.",
    "account_disabled": "The connected account was disabled. Tools cannot use it until enabled again.",
    "account_refreshed": "The authorization was restarted: the end user must open the new authorization link.",
    "account_deleted": "The connected account was deleted.",
    "account_saved": "The connected account was saved.",
    "webhook_saved": "The webhook subscription was saved.",
    "webhook_unchanged": "Nothing was changed.",
    "webhook_deleted": "The webhook subscription was deleted. Queued deliveries were cancelled.",
    "webhook_resent": "The message was queued to be sent again now. Its new attempt appears below once made.",
    "mcp_created": "The MCP server was created. Its URL works at once.",
    "mcp_saved": "The MCP server was saved.",
    "mcp_deleted": "The MCP server was deleted. Its URL no longer works.",
}


async def page_context(
    session: AsyncSession, principal: Principal, signed_in: accounts.SignedIn, **context: Any
) -> dict[str, Any]:
    """What every page of an organization shows around its body: the organization, the role, the member."""
    organization = await session.scalar(tenancy.own_organization(principal))
    return {"org": organization, "role": principal.role, "member": signed_in.member, **context}


async def page(
    request: Request, session: AsyncSession, principal: Principal, signed_in: accounts.SignedIn, template: str, **context: Any
) -> Response:
    values = await page_context(session, principal, signed_in, **context)
    values["notice"] = NOTICES.get(request.query_params.get("notice", ""))
    return render(request, template, values)


async def form_values(request: Request) -> dict[str, str]:
    return {key: value for key, value in (await request.form()).items() if isinstance(value, str)}


def problems_of(error: ValidationError) -> list[str]:
    """A pydantic error as lines naming each field."""
    return [f"{'.'.join(str(part) for part in item['loc']) or 'form'}: {item['msg']}" for item in error.errors()]


def project_url(project: Project, tail: str = "") -> str:
    return f"{PREFIX}/orgs/{project.org_id}/projects/{project.id}{tail}"
