"""The organization's members and their roles: admins add members (with a one-time sign-in link),
change roles, remove members and make new sign-in links; developers read the list."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from pydantic import ValidationError

from tenantry.auth.principal import Principal
from tenantry.dashboard import accounts
from tenantry.dashboard.auth import OrgMember, SignedIn, require_admin
from tenantry.dashboard.pages.params import Cursor
from tenantry.dashboard.web import PREFIX, FormProblem, form_values, page, page_context, pages, problems_of, redirect
from tenantry.db import Session
from tenantry.errors import AppError
from tenantry.kit.inputs import Text
from tenantry.members import service as members
from tenantry.members.schemas import MemberCreate, MemberRoleUpdate, Role

router = pages()

ROLES = [role.value for role in Role]
# What each field of the add form must be, in words rather than the validator's pattern.
_FIELD_RULES = {"email": "must be an email address", "name": "must be 1–100 characters", "role": "must be admin or developer"}


def _problems(error: ValidationError) -> list[str]:
    fields = [str(item["loc"][0]) for item in error.errors() if item["loc"]]
    if all(field in _FIELD_RULES for field in fields):
        return [f"{field}: {_FIELD_RULES[field]}" for field in dict.fromkeys(fields)]
    return problems_of(error)


def _members_url(principal: Principal, notice: str = "") -> str:
    return f"{PREFIX}/orgs/{principal.org_id}/members" + (f"?notice={notice}" if notice else "")


async def _list_values(
    session: Session, principal: Principal, form: dict[str, str] | None = None, cursor: str | None = None
) -> dict[str, Any]:
    listed = await members.list_of_organization(session, principal, cursor=cursor)
    next_url = f"?{urlencode({'cursor': listed.next_cursor})}" if listed.next_cursor else None
    return {
        "members": listed.items, "total": listed.total_items, "page": listed.current_page, "pages": listed.total_pages,
        "next_url": next_url, "roles": ROLES, "form": form or {"role": Role.developer.value}, "section": "members",
    }


async def _list_context(
    session: Session, principal: Principal, signed_in: accounts.SignedIn, form: dict[str, str] | None = None
) -> dict[str, Any]:
    return await page_context(session, principal, signed_in, **await _list_values(session, principal, form))


@router.get("/orgs/{org_id}/members")
async def members_page(request: Request, principal: OrgMember, signed_in: SignedIn, session: Session, cursor: Cursor = None) -> Response:
    return await page(request, session, principal, signed_in, "members.html", **await _list_values(session, principal, cursor=cursor))


@router.post("/orgs/{org_id}/members")
async def add_member(request: Request, principal: OrgMember, signed_in: SignedIn, session: Session) -> Response:
    require_admin(principal)
    values = await form_values(request)
    form = {field: values.get(field, "").strip() for field in ("email", "name", "role")}
    try:
        payload = MemberCreate.model_validate(form)
    except ValidationError as error:
        context = await _list_context(session, principal, signed_in, form)
        raise FormProblem("members.html", context, "Check the new member’s details.", problems=_problems(error)) from None
    try:
        added = await members.add(session, principal, payload)
    except AppError as error:
        context = await _list_context(session, principal, signed_in, form)
        raise FormProblem("members.html", context, error.message, status=error.status) from None
    return await page(
        request, session, principal, signed_in, "member_link.html",
        heading=f"{added.email} added as {added.role.value}", added=added,
        invitation_url=added.invitation_url, expires_at=added.invitation_expires_at, section="members",
    )


@router.post("/orgs/{org_id}/members/{member_id}/role")
async def change_role(request: Request, principal: OrgMember, signed_in: SignedIn, session: Session, member_id: Text) -> Response:
    require_admin(principal)
    values = await form_values(request)
    try:
        payload = MemberRoleUpdate.model_validate({"role": values.get("role", "")})
    except ValidationError as error:
        context = await _list_context(session, principal, signed_in)
        raise FormProblem("members.html", context, "Choose admin or developer.", problems=_problems(error)) from None
    try:
        await members.change_role(session, principal, member_id, payload)
    except AppError as error:
        if error.status == 404:
            raise
        context = await _list_context(session, principal, signed_in)
        raise FormProblem("members.html", context, _explained(error), status=error.status) from None
    return redirect(_members_url(principal, "role_changed"))


@router.get("/orgs/{org_id}/members/{member_id}/remove")
async def remove_member_form(request: Request, principal: OrgMember, signed_in: SignedIn, session: Session, member_id: Text) -> Response:
    require_admin(principal)
    target = await members.get_member(session, principal, member_id)
    return await page(request, session, principal, signed_in, "member_remove.html", target=target, section="members")


@router.post("/orgs/{org_id}/members/{member_id}/remove")
async def remove_member(request: Request, principal: OrgMember, signed_in: SignedIn, session: Session, member_id: Text) -> Response:
    require_admin(principal)
    target = await members.get_member(session, principal, member_id)
    try:
        await members.remove(session, principal, member_id)
    except AppError as error:
        context = await page_context(session, principal, signed_in, target=target, section="members")
        raise FormProblem("member_remove.html", context, _explained(error), status=error.status) from None
    if member_id == principal.member_id:
        # They left the organization: its pages now answer them 404.
        return redirect(PREFIX)
    return redirect(_members_url(principal, "member_removed"))


@router.post("/orgs/{org_id}/members/{member_id}/invitation")
async def new_sign_in_link(request: Request, principal: OrgMember, signed_in: SignedIn, session: Session, member_id: Text) -> Response:
    require_admin(principal)
    target = await members.get_member(session, principal, member_id)
    try:
        invitation = await members.issue_invitation(session, principal, member_id)
    except AppError as error:
        context = await _list_context(session, principal, signed_in)
        raise FormProblem("members.html", context, _explained(error), status=error.status) from None
    return await page(
        request, session, principal, signed_in, "member_link.html",
        heading=f"New sign-in link for {target.email}", added=target,
        invitation_url=invitation.invitation_url, expires_at=invitation.expires_at, section="members",
    )


def _explained(error: AppError) -> str:
    return f"{error.message}. {error.suggested_fix}." if error.suggested_fix else error.message
