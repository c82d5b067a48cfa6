"""The routes an end user's browser reaches: the OAuth2 callback and the hosted link page.

They carry no API key. The OAuth `state` or the link token in the URL is a one-time capability
for exactly one connected account; the services look the account up by its digest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from tenantry.connected_accounts import service
from tenantry.db import Session, WriteSession
from tenantry.kit.inputs import NoNul, Text

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

# Pages that hold credentials must not be cached or framed.
_NO_STORE = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def _finish(request: Request, outcome: service.BrowserOutcome) -> Response:
    if outcome.redirect_to:
        return RedirectResponse(outcome.redirect_to, status_code=303, headers=_NO_STORE)
    status = 200 if outcome.succeeded else 400
    return templates.TemplateResponse(
        request,
        "done.html",
        {"succeeded": outcome.succeeded, "message": outcome.message},
        status_code=status,
        headers=_NO_STORE,
    )


def _page(request: Request, page: service.LinkPage) -> Response:
    if page.oauth_url:
        return RedirectResponse(page.oauth_url, status_code=303, headers=_NO_STORE)
    if page.account is None or page.toolkit is None or page.spec is None:
        outcome = service.BrowserOutcome(None, False, page.problem or "This link cannot be used.", None)
        return _finish(request, outcome)
    return templates.TemplateResponse(
        request,
        "link.html",
        {"toolkit": page.toolkit, "fields": page.spec.connection_fields, "prefill": page.prefill, "problem": page.problem},
        status_code=400 if page.problem else 200,
        headers=_NO_STORE,
    )


@router.get("/api/v3.1/toolkits/auth/callback", response_class=HTMLResponse)
@router.get("/api/v3/toolkits/auth/callback", response_class=HTMLResponse)
async def oauth_callback(
    request: Request,
    session: WriteSession,
    state: Annotated[str, Query(max_length=512), NoNul] = "",
    code: Annotated[str | None, Query(max_length=4096), NoNul] = None,
    error: Annotated[str | None, Query(max_length=512), NoNul] = None,
    error_description: Annotated[str | None, Query(max_length=2048), NoNul] = None,
) -> Response:
    """Where the provider sends the end user back with an authorization code."""
    outcome = await service.complete_oauth(session, state, code, error, error_description)
    return _finish(request, outcome)


@router.get("/link/{token}", response_class=HTMLResponse)
async def open_link(request: Request, token: Text, session: WriteSession) -> Response:
    return _page(request, await service.open_link(session, token))


@router.post("/link/{token}", response_class=HTMLResponse)
async def submit_link(request: Request, token: Text, session: Session) -> Response:
    form = await request.form()
    result = await service.submit_link(session, token, {key: str(value) for key, value in form.items()})
    if isinstance(result, service.LinkPage):
        return _page(request, result)
    return _finish(request, result)
