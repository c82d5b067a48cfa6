"""A project's webhook subscription (one at most): create, edit, rotate its secret, delete; and its
delivery log: every message with its attempts, resend, and recovery of what failed since a moment.

The pages call the webhooks service as the API's routes do, acting for the project; a secret is
shown whole only on the page that answers its creation or rotation, as the API shows it only there.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from pydantic import ValidationError

from tenantry.auth.principal import Principal
from tenantry.dashboard import accounts
from tenantry.dashboard.auth import DashProject, OrgMember, SignedIn, acting_for
from tenantry.dashboard.pages.params import PAGE_SIZE, Cursor
from tenantry.dashboard.web import (
    NOTICES,
    FormProblem,
    page,
    page_context,
    pages,
    problems_of,
    project_url,
    redirect,
    render,
)
from tenantry.db import Session
from tenantry.errors import (
    AppError,
    Conflict,
    InvalidRequest,
    WebhookSubscriptionNotFound,
)
from tenantry.kit.inputs import NoNul, Text
from tenantry.kit.time import as_utc, utcnow
from tenantry.models import Project
from tenantry.webhooks import schemas, service

router = pages()

BASE = "/orgs/{org_id}/projects/{project_id}/webhooks"
STATUSES = ("pending", "delivered", "failed")
VERSIONS = ("V1", "V2", "V3")
# How far back the "recover since" form starts.
RECOVER_DEFAULT = timedelta(hours=24)

StatusFilter = Annotated[str, Query(max_length=20), NoNul]


async def _subscription(session: Session, acting: Principal) -> schemas.WebhookSubscription | None:
    """The project's subscription as the API lists it (secret masked), or None."""
    listed = await service.list_page(session, acting, limit=1, cursor=None)
    return listed.items[0] if listed.items else None


def _versions(current: str | None) -> list[str]:
    """The payload versions some event type is sent in, and the subscription's own."""
    offered = {version for event in service.event_types().items for version in event.supported_versions}
    if current:
        offered.add(current)
    return [version for version in VERSIONS if version in offered]


def _form_of(subscription: schemas.WebhookSubscription | None) -> dict[str, Any]:
    if subscription is None:
        return {"webhook_url": "", "enabled_events": [], "version": "V3", "enabled": True}
    return {
        "webhook_url": subscription.webhook_url,
        "enabled_events": list(subscription.enabled_events),
        "version": subscription.version,
        "enabled": subscription.status == "ENABLED",
    }


def _status_of(status: str) -> str | None:
    if not status:
        return None
    if status not in STATUSES:
        raise InvalidRequest.field("status", f"must be one of {', '.join(STATUSES)}")
    return status


async def _webhooks_context(
    session: Session,
    principal: Principal,
    signed_in: accounts.SignedIn,
    project: Project,
    *,
    status: str | None = None,
    cursor: str | None = None,
    form: dict[str, Any] | None = None,
    recover_since: str | None = None,
) -> dict[str, Any]:
    """Everything webhooks.html shows; `form` refills the subscription form after a problem."""
    acting = acting_for(principal, project)
    subscription = await _subscription(session, acting)
    messages = next_url = None
    if subscription is not None:
        messages = await service.list_messages(session, acting, subscription.id, status, limit=PAGE_SIZE, cursor=cursor)
        if messages.next_cursor:
            # Absolute, because a form's answer (after a problem, or a recovery) is shown at its action's URL.
            next_url = project_url(project, "/webhooks?" + urlencode({"status": status or "", "cursor": messages.next_cursor}))
    default_since = (utcnow() - RECOVER_DEFAULT).strftime("%Y-%m-%dT%H:%M")
    return await page_context(
        session, principal, signed_in,
        project=project, subscription=subscription, messages=messages, status=status or "", next_url=next_url,
        event_types=service.event_types().items, versions=_versions(subscription.version if subscription else None),
        form=form if form is not None else _form_of(subscription), recover_since=recover_since or default_since,
        tab="webhooks", section="projects",
    )


async def _submitted(request: Request) -> tuple[dict[str, str], list[str]]:
    """The form's single values, and the ticked event types."""
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    ticked = [value for value in form.getlist("enabled_events") if isinstance(value, str)]
    return values, ticked


def _refill(values: dict[str, str], ticked: list[str]) -> dict[str, Any]:
    return {
        "webhook_url": values.get("webhook_url", ""),
        "enabled_events": ticked,
        "version": values.get("version", "V3"),
        "enabled": values.get("enabled") == "on",
    }


@router.get(BASE)
async def webhooks_page(
    request: Request,
    principal: OrgMember,
    signed_in: SignedIn,
    project: DashProject,
    session: Session,
    status: StatusFilter = "",
    cursor: Cursor = None,
) -> Response:
    context = await _webhooks_context(session, principal, signed_in, project, status=_status_of(status), cursor=cursor)
    return _shown(request, "webhooks.html", context)


def _shown(request: Request, template: str, context: dict[str, Any]) -> Response:
    """A page with the notice a redirect asked for (`?notice=`, one of the fixed texts)."""
    return render(request, template, {**context, "notice": NOTICES.get(request.query_params.get("notice", ""))})


def _secret_page(request: Request, context: dict[str, Any]) -> Response:
    return render(request, "webhook_secret.html", context)


@router.post(BASE)
async def create_subscription(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    values, ticked = await _submitted(request)
    form = _refill(values, ticked)

    try:
        payload = schemas.WebhookSubscriptionCreate(
            webhook_url=form["webhook_url"].strip(), enabled_events=ticked, version=form["version"]
        )
        created = await service.create(session, acting_for(principal, project), payload)
    except (ValidationError, AppError) as error:
        context = await _webhooks_context(session, principal, signed_in, project, form=form)
        raise FormProblem.of("webhooks.html", context, "The subscription was not created.", error) from None
    context = await page_context(
        session, principal, signed_in,
        project=project, heading="Webhook subscription created", secret=created.secret, subscription_id=created.id,
        previous_secret_expires_at=None, section="projects",
    )
    return _secret_page(request, context)


@router.post(BASE + "/edit")
async def update_subscription(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    values, ticked = await _submitted(request)
    form = _refill(values, ticked)
    acting = acting_for(principal, project)
    current = await service.get(session, acting, values.get("subscription_id", ""))
    # Only what the form changed is sent, so the audit log names just those fields.
    changes: dict[str, Any] = {}
    if form["webhook_url"].strip() != current.webhook_url:
        changes["webhook_url"] = form["webhook_url"].strip()
    if set(ticked) != set(current.enabled_events):
        changes["enabled_events"] = ticked
    if form["version"] != current.version:
        changes["version"] = form["version"]
    if form["enabled"] != (current.status == "ENABLED"):
        changes["enabled"] = form["enabled"]
    if not changes:
        return redirect(project_url(project, "/webhooks?notice=webhook_unchanged"))

    try:
        await service.update(session, acting, current.id, schemas.WebhookSubscriptionUpdate.model_validate(changes))
    except (ValidationError, InvalidRequest) as error:
        context = await _webhooks_context(session, principal, signed_in, project, form=form)
        raise FormProblem.of("webhooks.html", context, "Nothing was saved.", error) from None
    return redirect(project_url(project, "/webhooks?notice=webhook_saved"))


@router.post(BASE + "/rotate-secret")
async def rotate_secret(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    values, _ = await _submitted(request)
    rotated = await service.rotate_secret(session, acting_for(principal, project), values.get("subscription_id", ""))
    context = await page_context(
        session, principal, signed_in,
        project=project, heading="Signing secret rotated", secret=rotated.secret, subscription_id=rotated.id,
        previous_secret_expires_at=rotated.previous_secret_expires_at, section="projects",
    )
    return _secret_page(request, context)


@router.get(BASE + "/delete")
async def delete_form(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    subscription = await _subscription(session, acting_for(principal, project))
    if subscription is None:
        raise WebhookSubscriptionNotFound()
    return await page(request, session, principal, signed_in, "webhook_delete.html", project=project, subscription=subscription, section="projects")


@router.post(BASE + "/delete")
async def delete_subscription(request: Request, principal: OrgMember, project: DashProject, session: Session) -> Response:
    values, _ = await _submitted(request)
    await service.delete(session, acting_for(principal, project), values.get("subscription_id", ""))
    return redirect(project_url(project, "/webhooks?notice=webhook_deleted"))


@router.post(BASE + "/recover")
async def recover(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session) -> Response:
    values, _ = await _submitted(request)
    since_text = values.get("since", "").strip()

    async def problem(message: str, problems: list[str], status: int = 400) -> FormProblem:
        context = await _webhooks_context(session, principal, signed_in, project, recover_since=since_text)
        return FormProblem("webhooks.html", context, message, status=status, problems=problems)

    try:
        body = schemas.RecoverRequest.model_validate({"since": since_text})
    except ValidationError as error:
        raise await problem("Nothing was sent again.", problems_of(error)) from None
    if as_utc(body.since) >= utcnow():
        raise await problem("Nothing was sent again.", ["since: must be in the past"])
    try:
        recovered = await service.recover(session, acting_for(principal, project), values.get("subscription_id", ""), body.since, None)
    except Conflict as error:
        raise await problem(error.message, [], error.status) from None
    context = await _webhooks_context(session, principal, signed_in, project)
    count = recovered.recovered
    context["notice"] = (
        f"{count} failed message{'' if count == 1 else 's'} queued to be sent again." if count else "No message failed since then."
    )
    return render(request, "webhooks.html", context)


async def _message_context(
    session: Session, principal: Principal, signed_in: accounts.SignedIn, project: Project, message_id: str
) -> dict[str, Any]:
    acting = acting_for(principal, project)
    subscription = await _subscription(session, acting)
    if subscription is None:
        raise WebhookSubscriptionNotFound()
    message = await service.get_message(session, acting, subscription.id, message_id)
    return await page_context(
        session, principal, signed_in,
        project=project, subscription=subscription, message=message, attempts=list(reversed(message.attempts)),
        payload_text=json.dumps(message.payload, indent=2, ensure_ascii=False),
        tab="webhooks", section="projects",
    )


@router.get(BASE + "/messages/{message_id}")
async def message_page(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, message_id: Text
) -> Response:
    context = await _message_context(session, principal, signed_in, project, message_id)
    return _shown(request, "webhook_message.html", context)


@router.post(BASE + "/messages/{message_id}/resend")
async def resend(request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, message_id: Text) -> Response:
    acting = acting_for(principal, project)
    subscription = await _subscription(session, acting)
    if subscription is None:
        raise WebhookSubscriptionNotFound()
    try:
        await service.resend(session, acting, subscription.id, message_id)
    except Conflict as error:
        context = await _message_context(session, principal, signed_in, project, message_id)
        raise FormProblem("webhook_message.html", context, error.message, status=error.status) from None
    return redirect(project_url(project, f"/webhooks/messages/{message_id}?notice=webhook_resent"))

