"""One-time sign-in links: a member opens the link an admin sent, chooses a password and is signed in.

These pages need no session (the link's token is the authorization); their form is CSRF-checked
with the double-submit cookie the sign-in form uses (tenantry.dashboard.web).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from tenantry.dashboard import accounts
from tenantry.dashboard.web import PREFIX, FormProblem, form_values, pages, redirect, render, signed_in_redirect
from tenantry.db import Session
from tenantry.errors import AppError, InvitationUnusable
from tenantry.kit.inputs import Text
from tenantry.members import service as members

router = pages()

_TITLES = {404: "This link is not valid", 409: "This link cannot be used", 410: "This link cannot be used"}


def _unusable(request: Request, error: InvitationUnusable) -> Response:
    title = _TITLES.get(error.status, "This link cannot be used")
    return render(request, "error.html", {"title": title, "message": error.message, "status": error.status}, status_code=error.status)


def _form_context(opened: members.OpenInvitation) -> dict[str, Any]:
    return {
        "email": opened.member.email,
        "organization_name": opened.organization.name,
        "expires_at": opened.invitation.expires_at,
        "min_length": accounts.MIN_PASSWORD_LENGTH,
        "max_length": accounts.MAX_PASSWORD_LENGTH,
    }


@router.get("/invitations/{token}")
async def invitation_form(request: Request, session: Session, token: Text) -> Response:
    try:
        opened = await members.open_invitation(session, token)
    except InvitationUnusable as error:
        return _unusable(request, error)
    return render(request, "invitation.html", _form_context(opened))


@router.post("/invitations/{token}")
async def accept_invitation(request: Request, session: Session, token: Text) -> Response:
    form = await form_values(request)
    password, confirmation = form.get("password", ""), form.get("confirmation", "")
    try:
        opened = await members.open_invitation(session, token, for_update=True)
    except InvitationUnusable as error:
        return _unusable(request, error)
    context = _form_context(opened)
    if password != confirmation:
        raise FormProblem("invitation.html", context, "The two passwords are not the same.")
    try:
        await members.accept_invitation(session, token, password)
    except InvitationUnusable as error:
        return _unusable(request, error)
    except AppError as error:
        raise FormProblem("invitation.html", context, f"The password {error.message.removeprefix('password: ')}.", status=error.status) from None
    outcome = await accounts.sign_in(session, opened.member.email, password)
    if outcome.token is None:
        # Only a lock-out could refuse the password just set, and setting it lifted any; sign in by hand then.
        return redirect(f"{PREFIX}/sign-in")
    return signed_in_redirect(f"{PREFIX}/orgs/{opened.invitation.org_id}/projects?notice=password_set", outcome.token)
