"""The only module that writes tenant filters.

Every query that reaches a tenant's rows starts from one of these base statements, built from
an already-authenticated principal or an already-authorized project. Repositories take them as
their starting point; no handler or service writes `org_id ==` or `project_id ==` itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Delete, Select, Update, and_, bindparam, case, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from tenantry.auth.principal import Principal
from tenantry.errors import ProjectNotFound
from tenantry.kit import ids
from tenantry.kit.keys import KeyKind
from tenantry.models import (
    ApiKey,
    AuditEvent,
    AuthConfig,
    Base,
    ConnectedAccount,
    McpServer,
    Member,
    Membership,
    Organization,
    Project,
    OutboxJob,
    ProjectSettings,
)
from tenantry.models import ProjectRateLimit, ToolExecutionLog, UsageEvent
from tenantry.models import WebhookAttempt, WebhookMessage, WebhookSubscription
from tenantry.models import MemberInvitation


def own_organization(principal: Principal) -> Select[tuple[Organization]]:
    return select(Organization).where(Organization.id == principal.org_id)


def adjust_live_project_count(principal: Principal, delta: int) -> Update:
    return (
        update(Organization)
        .where(Organization.id == principal.org_id)
        .values(live_project_count=Organization.live_project_count + delta)
    )


def live_projects(org_id: str) -> Select[tuple[Project]]:
    """The organization's projects that are not deleted."""
    return select(Project).where(Project.org_id == org_id, Project.deleted_at.is_(None))


def live_project_keys(project: Project, now: datetime) -> Select[tuple[ApiKey]]:
    """The project's keys that still work at `now`: not revoked, and not past their expiry."""
    return _LIVE_PROJECT_KEYS.params(project_id=project.id, now=now)


# Built once (see _PROJECT_OF_ORG); callers that refine it build only what they add.
_LIVE_PROJECT_KEYS = select(ApiKey).where(
    ApiKey.project_id == bindparam("project_id"),
    ApiKey.revoked_at.is_(None),
    or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > bindparam("now")),
)


def revoke_project_keys(project: Project) -> Update:
    return update(ApiKey).where(ApiKey.project_id == project.id, ApiKey.revoked_at.is_(None))


def settings_of(project_id: str) -> Select[tuple[ProjectSettings]]:
    return select(ProjectSettings).where(ProjectSettings.project_id == project_id)


def _own_project_id(principal: Principal) -> str:
    if principal.project_id is None:
        raise AssertionError("project-scoped data needs a project principal")
    return principal.project_id


def live_auth_configs(principal: Principal) -> Select[tuple[AuthConfig]]:
    """The calling project's auth configs that are not deleted."""
    return select(AuthConfig).where(
        AuthConfig.project_id == _own_project_id(principal), AuthConfig.deleted_at.is_(None)
    )


def live_connected_accounts(principal: Principal) -> Select[tuple[ConnectedAccount]]:
    """The calling project's connected accounts that are not deleted."""
    return select(ConnectedAccount).where(
        ConnectedAccount.project_id == _own_project_id(principal), ConnectedAccount.deleted_at.is_(None)
    )


async def live_connected_account(
    session: AsyncSession, principal: Principal, account_id: str, *, for_update: bool = False
) -> ConnectedAccount | None:
    """One of the calling project's live connected accounts (every execution reads one: see _PROJECT_OF_ORG)."""
    template = _LIVE_ACCOUNT_FOR_UPDATE if for_update else _LIVE_ACCOUNT
    return await session.scalar(template, {"project_id": _own_project_id(principal), "id": account_id})


async def live_auth_config(
    session: AsyncSession, principal: Principal, auth_config_id: str, *, for_update: bool = False
) -> AuthConfig | None:
    """One of the calling project's live auth configs (every execution reads one: see _PROJECT_OF_ORG)."""
    template = _LIVE_AUTH_CONFIG_FOR_UPDATE if for_update else _LIVE_AUTH_CONFIG
    return await session.scalar(template, {"project_id": _own_project_id(principal), "id": auth_config_id})


_LIVE_ACCOUNT = select(ConnectedAccount).where(
    ConnectedAccount.project_id == bindparam("project_id"),
    ConnectedAccount.deleted_at.is_(None),
    ConnectedAccount.id == bindparam("id"),
)
_LIVE_ACCOUNT_FOR_UPDATE = _LIVE_ACCOUNT.with_for_update()
_LIVE_AUTH_CONFIG = select(AuthConfig).where(
    AuthConfig.project_id == bindparam("project_id"),
    AuthConfig.deleted_at.is_(None),
    AuthConfig.id == bindparam("id"),
)
_LIVE_AUTH_CONFIG_FOR_UPDATE = _LIVE_AUTH_CONFIG.with_for_update()


def account_for_call(
    principal: Principal, *, account_id: str | None = None, user_id: str | None = None, toolkit_slug: str | None = None
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement (and its values) that reads the row a tool call runs with, columns only.

    One of the calling project's live accounts: by id, or else the user's latest ACTIVE one for
    the toolkit; with its auth config's columns, NULL when that config is deleted or elsewhere.
    """
    project_id = _own_project_id(principal)
    if account_id is not None:
        return _ACCOUNT_FOR_CALL_BY_ID, {"project_id": project_id, "id": account_id}
    return _LATEST_ACTIVE_ACCOUNT_FOR_CALL, {"project_id": project_id, "user_id": user_id, "toolkit_slug": toolkit_slug}


_ACCOUNT_FOR_CALL = (
    select(
        ConnectedAccount.id,
        ConnectedAccount.user_id,
        ConnectedAccount.toolkit_slug,
        ConnectedAccount.auth_scheme,
        ConnectedAccount.status,
        ConnectedAccount.secrets,
        ConnectedAccount.token_expires_at,
        AuthConfig.id.label("auth_config_id"),
        AuthConfig.is_disabled.label("auth_config_disabled"),
        AuthConfig.tool_access_config,
    )
    .outerjoin(
        AuthConfig,
        and_(
            AuthConfig.id == ConnectedAccount.auth_config_id,
            AuthConfig.project_id == ConnectedAccount.project_id,
            AuthConfig.deleted_at.is_(None),
        ),
    )
    .where(ConnectedAccount.project_id == bindparam("project_id"), ConnectedAccount.deleted_at.is_(None))
)
_ACCOUNT_FOR_CALL_BY_ID = _ACCOUNT_FOR_CALL.where(ConnectedAccount.id == bindparam("id"))


async def latest_active_account(
    session: AsyncSession, principal: Principal, user_id: str, toolkit_slug: str
) -> ConnectedAccount | None:
    """The user's most recently created ACTIVE live account for the toolkit, in the calling project."""
    values = {"project_id": _own_project_id(principal), "user_id": user_id, "toolkit_slug": toolkit_slug}
    return await session.scalar(_LATEST_ACTIVE_ACCOUNT, values)


def _latest_active(statement: Select[Any]) -> Select[Any]:
    """`statement` (over the project's live accounts) narrowed to the one a user's call picks."""
    return (
        statement.where(
            ConnectedAccount.user_id == bindparam("user_id"),
            ConnectedAccount.toolkit_slug == bindparam("toolkit_slug"),
            ConnectedAccount.status == "ACTIVE",
        )
        .order_by(ConnectedAccount.created_at.desc(), ConnectedAccount.id.desc())
        .limit(1)
    )


# The same choice, as the ORM object and as a tool call's columns.
_LATEST_ACTIVE_ACCOUNT = _latest_active(
    select(ConnectedAccount).where(ConnectedAccount.project_id == bindparam("project_id"), ConnectedAccount.deleted_at.is_(None))
)
_LATEST_ACTIVE_ACCOUNT_FOR_CALL = _latest_active(_ACCOUNT_FOR_CALL)


def delete_connected_accounts_of(auth_config: AuthConfig) -> Update:
    return update(ConnectedAccount).where(
        ConnectedAccount.project_id == auth_config.project_id,
        ConnectedAccount.auth_config_id == auth_config.id,
        ConnectedAccount.deleted_at.is_(None),
    )


def account_by_capability(digest_column: InstrumentedAttribute[str | None], digest: str) -> Select[tuple[ConnectedAccount]]:
    """The one live account a browser capability (OAuth `state`, link token) names, in whatever project.

    The capability itself is the authorization; callers act for that account's project only.
    """
    return select(ConnectedAccount).where(digest_column == digest, ConnectedAccount.deleted_at.is_(None))


def stale_initiations(now: datetime) -> Update:
    """Initiations past their deadline, in every project: for the sweeper, not for a tenant's read."""
    return update(ConnectedAccount).where(
        ConnectedAccount.status.in_(("INITIALIZING", "INITIATED")),
        ConnectedAccount.initiation_expires_at < now,
    )


def live_mcp_servers(principal: Principal) -> Select[tuple[McpServer]]:
    """The calling project's MCP servers that are not deleted."""
    return select(McpServer).where(McpServer.project_id == _own_project_id(principal), McpServer.deleted_at.is_(None))


def mcp_server_by_url(server_id: str) -> Select[tuple[McpServer]]:
    """The live MCP server an MCP URL names, in whatever project.

    The URL is the capability (plus the project's key when it requires one); the endpoint acts
    for that server's project only.
    """
    return select(McpServer).where(McpServer.id == server_id, McpServer.deleted_at.is_(None))


def live_webhook_subscriptions(principal: Principal) -> Select[tuple[WebhookSubscription]]:
    """The calling project's webhook subscriptions that are not deleted (one at most)."""
    return select(WebhookSubscription).where(
        WebhookSubscription.project_id == _own_project_id(principal), WebhookSubscription.deleted_at.is_(None)
    )


def webhook_subscription_of_project(project_id: str) -> tuple[Select[Any], dict[str, Any]]:
    """The statement (and its values) that reads, columns only, the live subscription of a project
    the caller already acts for: for code emitting that project's events, on every event."""
    return _LIVE_SUBSCRIPTION_COLUMNS, {"project_id": project_id}


# Built once: emitting an event runs it with new values, never builds it again.
_LIVE_SUBSCRIPTION_COLUMNS = select(
    WebhookSubscription.id, WebhookSubscription.org_id, WebhookSubscription.disabled_at, WebhookSubscription.enabled_events
).where(WebhookSubscription.project_id == bindparam("project_id"), WebhookSubscription.deleted_at.is_(None))


def webhook_messages_of(subscription: WebhookSubscription) -> Select[tuple[WebhookMessage]]:
    return select(WebhookMessage).where(
        WebhookMessage.project_id == subscription.project_id, WebhookMessage.subscription_id == subscription.id
    )


def update_webhook_messages_of(subscription: WebhookSubscription) -> Update:
    return update(WebhookMessage).where(
        WebhookMessage.project_id == subscription.project_id, WebhookMessage.subscription_id == subscription.id
    )


def webhook_attempts_of(message_ids: list[str], project_id: str) -> Select[tuple[WebhookAttempt]]:
    """The attempts of messages already read through webhook_messages_of (so of `project_id`)."""
    return select(WebhookAttempt).where(WebhookAttempt.project_id == project_id, WebhookAttempt.message_id.in_(message_ids))


def webhook_deliveries(message_ids: list[str]) -> Select[tuple[WebhookMessage, WebhookSubscription]]:
    """Messages and their subscriptions, in whatever project: for the delivery worker, not a tenant's read."""
    return (
        select(WebhookMessage, WebhookSubscription)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookMessage.subscription_id)
        .where(WebhookMessage.id.in_(message_ids))
    )


def update_webhook_message_by_id() -> Update:
    """One message per parameter set (its id bound as `message_id`), in whatever project: for the
    delivery worker recording many attempts in one executemany."""
    table = WebhookMessage.__table__
    return update(table).where(table.c.id == bindparam("message_id"))


def update_webhook_subscription(subscription_id: str) -> Update:
    """One subscription, in whatever project: for the delivery worker recording how deliveries fare."""
    return update(WebhookSubscription).where(WebhookSubscription.id == subscription_id)


def project_logs(principal: Principal) -> Select[tuple[ToolExecutionLog]]:
    """The calling project's tool execution logs."""
    return select(ToolExecutionLog).where(ToolExecutionLog.project_id == _own_project_id(principal))


def expired_logs(before: datetime) -> Select[tuple[str]]:
    """Ids of logs older than `before`, in every project: for the retention sweep, not for a tenant's read."""
    return select(ToolExecutionLog.id).where(ToolExecutionLog.created_at < before)


def project_usage_events(principal: Principal) -> Select[tuple[UsageEvent]]:
    """The calling project's usage events."""
    return select(UsageEvent).where(UsageEvent.project_id == _own_project_id(principal))


def org_usage_events(principal: Principal) -> Select[tuple[UsageEvent]]:
    """The usage events of every project of the calling organization, deleted ones included."""
    return select(UsageEvent).where(UsageEvent.org_id == principal.org_id)


def rate_limit_of(project_id: str) -> Select[tuple[ProjectRateLimit]]:
    """The rate-limit override of a project the caller already holds (an authenticated key's, or one of its org's)."""
    return select(ProjectRateLimit).where(ProjectRateLimit.project_id == project_id)


async def project_of_org(
    session: AsyncSession, principal: Principal, project_id: str, *, for_update: bool = False
) -> Project:
    """The principal's organization's live project `project_id`, or 404.

    Another organization's project and one that never existed get the same answer, so an
    id reveals nothing about who owns it.
    """
    if not ids.looks_like("pr", project_id):
        raise ProjectNotFound()
    template = _PROJECT_OF_ORG_FOR_UPDATE if for_update else _PROJECT_OF_ORG
    project = await session.scalar(template, {"org_id": principal.org_id, "project_id": project_id})
    if project is None:
        raise ProjectNotFound()
    return project


# Built once, its values bound when it runs: building an SQLAlchemy statement and its cache key
# costs about 165 µs, `.params()` on a built one about 40 µs, values passed to execute nothing
# measurable. This one runs on every organization-key request that names a project.
_PROJECT_OF_ORG = live_projects(bindparam("org_id")).where(Project.id == bindparam("project_id"))  # type: ignore[arg-type]
_PROJECT_OF_ORG_FOR_UPDATE = _PROJECT_OF_ORG.with_for_update()


# --- keys, lifecycle, members and the audit log (issue 7) ----------------------------------------


def expire_project_keys(project: Project, moment: datetime) -> Update:
    """The project's unrevoked keys stop working at `moment`, or earlier if they expire sooner."""
    sooner = and_(ApiKey.expires_at.is_not(None), ApiKey.expires_at < moment)
    return (
        update(ApiKey)
        .where(ApiKey.project_id == project.id, ApiKey.revoked_at.is_(None))
        .values(expires_at=case((sooner, ApiKey.expires_at), else_=moment))
    )


def project_keys_named(project: Project, name: str, now: datetime) -> Select[tuple[ApiKey]]:
    return live_project_keys(project, now).where(ApiKey.name == name)


def live_org_keys(principal: Principal, now: datetime) -> Select[tuple[ApiKey]]:
    """The calling organization's own organization keys (`oak_`) that still work at `now`.

    Never its members' user keys or its projects' keys, though those rows carry the same `org_id`.
    """
    if not principal.org_id:
        raise AssertionError("organization keys need a principal acting in an organization")
    return select(ApiKey).where(
        ApiKey.org_id == principal.org_id,
        ApiKey.kind == KeyKind.organization.value,
        ApiKey.project_id.is_(None),
        ApiKey.member_id.is_(None),
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
    )


def org_keys_named(principal: Principal, name: str, now: datetime) -> Select[tuple[ApiKey]]:
    return live_org_keys(principal, now).where(ApiKey.name == name)


def deleted_projects(org_id: str, deleted_after: datetime) -> Select[tuple[Project]]:
    """The organization's deleted projects still within their retention: the ones restore can reach."""
    return select(Project).where(
        Project.org_id == org_id, Project.deleted_at.is_not(None), Project.deleted_at > deleted_after
    )


async def deleted_project_of_org(
    session: AsyncSession, principal: Principal, project_id: str, deleted_after: datetime
) -> Project:
    """The principal's organization's deleted, still restorable project `project_id` (locked), or 404."""
    if not ids.looks_like("pr", project_id):
        raise ProjectNotFound()
    statement = deleted_projects(principal.org_id, deleted_after).where(Project.id == project_id)
    project = await session.scalar(statement.with_for_update())
    if project is None:
        raise ProjectNotFound()
    return project


def projects_due_for_purge(deleted_before: datetime, waiting_on_job: str) -> Select[tuple[str, str]]:
    """Every organization's projects deleted before the cutoff, except those an outbox job of kind
    `waiting_on_job` (keyed by project id) still has to finish: for the purge job, not a tenant's read."""
    waiting = exists().where(OutboxJob.kind == waiting_on_job, OutboxJob.key == Project.id)
    return (
        select(Project.id, Project.org_id)
        .where(Project.deleted_at.is_not(None), Project.deleted_at < deleted_before, ~waiting)
        .order_by(Project.deleted_at, Project.id)
    )


def purge_project(project_id: str) -> list[Delete]:
    """Deletes of every row the project owns, children before parents, then of the project itself.

    Built from the schema rather than a list, so a table added later with a `project_id` column
    is purged without anyone remembering to; tables below those cascade through their foreign
    keys. The audit log is the exception: its events outlive the project (audit.redact_project).
    """
    statements = [
        delete(table).where(table.c.project_id == project_id)
        for table in reversed(Base.metadata.sorted_tables)
        if "project_id" in table.c and table is not AuditEvent.__table__
    ]
    statements.append(delete(Project).where(Project.id == project_id))
    return statements


def revocable_accounts(project_id: str) -> Select[tuple[ConnectedAccount]]:
    """A (deleted) project's live OAuth2 accounts not yet revoked, for the job that revokes their
    grants upstream; it acts for that project only."""
    return select(ConnectedAccount).where(
        ConnectedAccount.project_id == project_id,
        ConnectedAccount.deleted_at.is_(None),
        ConnectedAccount.auth_scheme == "OAUTH2",
        ConnectedAccount.status != "REVOKED",
    )


def membership(member_id: str, org_id: str) -> Select[tuple[Membership]]:
    return select(Membership).where(Membership.member_id == member_id, Membership.org_id == org_id)


def _member_id(principal: Principal) -> str:
    if principal.member_id is None:
        raise AssertionError("a member's organizations need a user key principal")
    return principal.member_id


def member_org_ids(principal: Principal) -> Select[tuple[str]]:
    return select(Membership.org_id).where(Membership.member_id == _member_id(principal))


def member_organizations(principal: Principal) -> Select[tuple[Organization]]:
    """The organizations the member behind a user key belongs to."""
    return select(Organization).where(Organization.id.in_(member_org_ids(principal)))


def live_projects_of_member(principal: Principal) -> Select[tuple[Project]]:
    """The live projects of every organization the member belongs to."""
    return select(Project).where(Project.org_id.in_(member_org_ids(principal)), Project.deleted_at.is_(None))


def members_of(org_id: str) -> Select[tuple[Member, str]]:
    """The organization's members with their role there: for the command line, the API and the dashboard."""
    return (
        select(Member, Membership.role)
        .join(Membership, Membership.member_id == Member.id)
        .where(Membership.org_id == org_id)
    )


def admins_of(org_id: str) -> Select[tuple[int]]:
    """How many admins the organization has (the last one may be neither demoted nor removed)."""
    return select(func.count()).select_from(Membership).where(Membership.org_id == org_id, Membership.role == "admin")


def other_memberships(member_id: str, org_id: str) -> Select[tuple[str]]:
    """The organizations other than `org_id` the member belongs to."""
    return select(Membership.org_id).where(Membership.member_id == member_id, Membership.org_id != org_id)


def live_user_keys(member_id: str, org_id: str) -> Select[tuple[ApiKey]]:
    """The member's unrevoked user keys issued in the organization."""
    return select(ApiKey).where(
        ApiKey.kind == KeyKind.user.value, ApiKey.member_id == member_id, ApiKey.org_id == org_id, ApiKey.revoked_at.is_(None)
    )


def member_invitations(member_id: str, org_id: str) -> Delete:
    """Deletes the member's sign-in links from the organization (a newer one replaces them; removal ends them)."""
    return delete(MemberInvitation).where(MemberInvitation.member_id == member_id, MemberInvitation.org_id == org_id)


def invitation_by_token(digest: str) -> Select[tuple[MemberInvitation]]:
    """The sign-in link a browser capability names, in whatever organization.

    The token itself is the authorization; callers act for that link's member and organization only.
    """
    return select(MemberInvitation).where(MemberInvitation.token_hash == digest)


def audit_events(principal: Principal) -> Select[tuple[AuditEvent]]:
    """The audit log of the principal's organization."""
    return select(AuditEvent).where(AuditEvent.org_id == principal.org_id)


def project_audit_events(project_id: str) -> Update:
    return update(AuditEvent).where(AuditEvent.project_id == project_id)
