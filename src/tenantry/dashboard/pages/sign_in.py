"""Signing in and out, and the list of the member's organizations."""

from __future__ import annotations

from fastapi import Request, Response

from tenantry.dashboard import accounts
from tenantry.dashboard.auth import OrgMember, SignedIn, member_principal
from tenantry.dashboard.pages.params import Cursor
from tenantry.dashboard.web import (
    PREFIX,
    SESSION_COOKIE,
    form_values,
    pages,
    redirect,
    render,
    signed_in_redirect,
)
from tenantry.db import Session
from tenantry.members import service as members

router = pages()


def _safe_next(target: str | None) -> str:
    """Only a dashboard path: never another site (`//evil`), never a scheme."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX


@router.get("/sign-in")
async def sign_in_form(request: Request, session: Session, next: Cursor = None) -> Response:  # noqa: A002
    token = request.cookies.get(SESSION_COOKIE)
    if token and await accounts.resolve(session, token):
        return redirect(_safe_next(next))
    return render(request, "sign_in.html", {"next": _safe_next(next), "email": ""})


@router.post("/sign-in")
async def sign_in(request: Request, session: Session) -> Response:
    form = await form_values(request)
    email, target = form.get("email", "").strip(), _safe_next(form.get("next"))
    outcome = await accounts.sign_in(session, email, form.get("password", ""))
    if outcome.token is None:
        # Returned, not raised: the failure count commits, which is what makes the lock-out work.
        return render(request, "sign_in.html", {"next": target, "email": email, "problem": outcome.problem}, status_code=400)
    return signed_in_redirect(target, outcome.token)


@router.post("/sign-out")
async def sign_out(signed_in: SignedIn, session: Session) -> Response:
    await accounts.sign_out(session, signed_in.token)
    response = redirect(f"{PREFIX}/sign-in")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@router.get("")
async def home(request: Request, signed_in: SignedIn, session: Session, cursor: Cursor = None) -> Response:
    listed = await members.list_organizations(session, member_principal(signed_in), limit=50, cursor=cursor)
    if len(listed.organizations) == 1 and cursor is None:
        return redirect(f"{PREFIX}/orgs/{listed.organizations[0].id}/projects")
    return render(request, "orgs.html", {"member": signed_in.member, "organizations": listed.organizations, "next_cursor": listed.next_cursor})


@router.get("/orgs/{org_id}")
async def organization(principal: OrgMember) -> Response:
    return redirect(f"{PREFIX}/orgs/{principal.org_id}/projects")
