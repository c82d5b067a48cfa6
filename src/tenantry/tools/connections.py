"""The connected account a tool call runs with, and the credential that goes into its request.

Every call reads its account's row, with its auth config's, in one statement
(tenancy.account_for_call), so a change to either (a status, a deletion, a disabled config, new
credentials) reaches the next call in every worker as soon as it commits. What costs is unsealing
the credential and rendering it into headers; that is done once per sealed value and kept in the
worker, keyed by the account and checked against the row's ciphertext itself. A new seal (a
refreshed token, edited fields) is a new ciphertext, and what is kept for a ciphertext is exactly
what unsealing it gives, so nothing kept can be stale.

A call the row does not show plainly usable (no such row, another user or toolkit, a tool the auth
config does not allow, a disabled config, an account not ACTIVE, a token due for refresh, a
credential not yet unsealed here) is resolved the full way (`_resolve_in`): it reads the ORM
objects, says why a call is refused, refreshes tokens, and keeps what it unsealed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.auth_configs.repository import AuthConfigRepository
from tenantry.cache import ProcessCache
from tenantry.connected_accounts import oauth
from tenantry.connected_accounts import service as connected_accounts
from tenantry.connected_accounts.repository import ConnectedAccountRepository
from tenantry.connected_accounts.schemas import Status
from tenantry.db import read_row
from tenantry.errors import ConnectedAccountNotFound, InvalidRequest, NoActiveConnection, ToolNotAllowed
from tenantry.kit.time import utcnow
from tenantry.models import ConnectedAccount
from tenantry.toolkits.catalog import Toolkit, get_catalog
from tenantry.tools.credentials import NO_CREDENTIAL, Credential, CredentialProblem, base_url_for, credential_for
from tenantry.tools.repository import UserAccounts
from tenantry.tools.runtime import ToolRuntime


@dataclass
class Connection:
    """The account an execution runs with, and how its requests are made; or why they cannot be."""

    account_id: str | None = None
    auth_config_id: str | None = None
    user_id: str | None = None
    credential: Credential = NO_CREDENTIAL
    base_url: str | None = None
    # The base URL as the catalog writes it, placeholders in: what decides the hosts calls may reach.
    base_url_template: str | None = None
    failure: str | None = None


async def resolve(
    runtime: ToolRuntime,
    principal: Principal,
    toolkit: Toolkit | None,
    *,
    account_id: str | None,
    user_id: str | None,
    tool_slug: str | None,
) -> tuple[Toolkit, Connection]:
    """The toolkit (the account's, when `toolkit` is None) and the connection the call runs with."""
    if toolkit is not None and account_id is None and user_id is None:
        if toolkit.no_auth:
            return toolkit, Connection(base_url=toolkit.base_url, base_url_template=toolkit.base_url)
        raise InvalidRequest.field(
            "connected_account_id", f"is required (or user_id): toolkit {toolkit.slug} needs a connected account"
        )
    statement, values = tenancy.account_for_call(
        principal, account_id=account_id, user_id=user_id, toolkit_slug=toolkit.slug if toolkit and account_id is None else None
    )
    row = await read_row(runtime.sessionmaker, statement, values)
    if row is not None:
        known = _known_connection(runtime.cache, toolkit, row, user_id=user_id, tool_slug=tool_slug)
        if known is not None:
            return known
    # Most calls only read here, so on SQLite they never queue for the write lock; a token that
    # must be refreshed is resolved again in a writing transaction.
    try:
        return await _resolve_in(runtime, principal, toolkit, account_id=account_id, user_id=user_id, tool_slug=tool_slug, may_write=False)
    except _RefreshDue:
        return await _resolve_in(runtime, principal, toolkit, account_id=account_id, user_id=user_id, tool_slug=tool_slug, may_write=True)


# --- credentials already unsealed in this worker ---------------------------------------------------

_UNSEALED = "tools.unsealed_credentials"
# Unsealed credentials kept per worker at most; the table starts again empty past this.
MAX_UNSEALED = 10_000


@dataclass(frozen=True)
class _Unsealed:
    """What one sealed value of an account renders to, for one toolkit and scheme."""

    sealed: bytes = field(repr=False)
    toolkit: Toolkit
    auth_scheme: str
    credential: Credential
    base_url: str | None
    base_url_template: str | None


def _remember(cache: ProcessCache, toolkit: Toolkit, account: ConnectedAccount, connection: Connection) -> None:
    table = cache.table(_UNSEALED)
    if len(table) >= MAX_UNSEALED:
        table.clear()
    table[account.id] = _Unsealed(
        account.secrets, toolkit, account.auth_scheme, connection.credential, connection.base_url, connection.base_url_template
    )


def _known_connection(
    cache: ProcessCache, toolkit: Toolkit | None, row: Row[Any], *, user_id: str | None, tool_slug: str | None
) -> tuple[Toolkit, Connection] | None:
    """The connection, when the row shows the account plainly usable and its sealed value was unsealed here before.

    None sends the call the full way (`_resolve_in`), which says why a call is refused.
    """
    if row.status != Status.ACTIVE or row.auth_config_id is None or row.auth_config_disabled:
        return None
    if user_id is not None and row.user_id != user_id:
        return None
    if not _may_run(row.tool_access_config, tool_slug) or _refresh_due(row.auth_scheme, row.token_expires_at):
        return None
    unsealed = cache.table(_UNSEALED).get(row.id)
    if unsealed is None or unsealed.sealed != row.secrets or unsealed.auth_scheme != row.auth_scheme:
        return None
    if toolkit is None:
        toolkit = get_catalog().get(row.toolkit_slug)
    # The same toolkit object: a catalog reloaded since renders credentials again.
    if toolkit is not unsealed.toolkit or toolkit.slug != row.toolkit_slug:
        return None
    connection = Connection(
        row.id, row.auth_config_id, row.user_id, unsealed.credential, unsealed.base_url, unsealed.base_url_template
    )
    return toolkit, connection


# --- the full way ----------------------------------------------------------------------------------


async def _resolve_in(
    runtime: ToolRuntime,
    principal: Principal,
    toolkit: Toolkit | None,
    *,
    account_id: str | None,
    user_id: str | None,
    tool_slug: str | None,
    may_write: bool,
) -> tuple[Toolkit, Connection]:
    async with runtime.transaction(read_only=not may_write) as session:
        account = None
        if account_id is None:
            assert user_id is not None and toolkit is not None
            accounts = UserAccounts(session, principal)
            latest = await accounts.latest_active(user_id, toolkit.slug)
            if latest is None:
                if toolkit.no_auth:
                    return toolkit, Connection(user_id=user_id, base_url=toolkit.base_url, base_url_template=toolkit.base_url)
                others = await accounts.statuses(user_id, toolkit.slug)
                found = ", ".join(f"{count} {status}" for status, count in sorted(others.items()))
                raise NoActiveConnection(
                    f"User {user_id!r} has no ACTIVE connected account for toolkit {toolkit.slug}"
                    + (f" (found: {found})" if found else ""),
                    suggested_fix="Connect an account for this user (POST /api/v3.1/connected_accounts), or pass connected_account_id",
                    errors=["user_id: no active connected account for this toolkit"],
                )
            account_id = latest.id
            # A transaction that may refresh the token reads the account again, for update.
            account = None if may_write else latest
        if account is None:
            # For update when the token may be refreshed here: see credentials_for_use.
            account = await ConnectedAccountRepository(session, principal).get(account_id, for_update=may_write)
            if account is None:
                raise ConnectedAccountNotFound(f"Connected account '{account_id}' not found")
        if toolkit is None:
            toolkit = get_catalog().get(account.toolkit_slug)
            if toolkit is None:
                raise InvalidRequest.field("connected_account_id", f"toolkit {account.toolkit_slug} is no longer offered by this server")
        connection = await _connect(session, principal, toolkit, account, user_id=user_id, tool_slug=tool_slug, may_write=may_write)
        if connection.failure is None and account.status == Status.ACTIVE:
            _remember(runtime.cache, toolkit, account, connection)
        return toolkit, connection


async def _connect(
    session: AsyncSession,
    principal: Principal,
    toolkit: Toolkit,
    account: ConnectedAccount,
    *,
    user_id: str | None,
    tool_slug: str | None,
    may_write: bool,
) -> Connection:
    """Checks that the account may run this call, then unseals (and if due refreshes) its credentials.

    Everything that refuses the request raises before credentials_for_use, which may change the
    account (a refresh, or EXPIRED); after it only failures are returned, so that change commits.
    """
    account_id = account.id
    if user_id is not None and account.user_id != user_id:
        raise InvalidRequest.field("connected_account_id", f"belongs to another user than {user_id!r}")
    if account.toolkit_slug != toolkit.slug:
        raise InvalidRequest.field(
            "connected_account_id", f"is a {account.toolkit_slug} account; this call is for toolkit {toolkit.slug}"
        )
    auth_config = await AuthConfigRepository(session, principal).get(account.auth_config_id)
    if auth_config is None:
        raise ConnectedAccountNotFound(f"Connected account '{account_id}' not found")
    if not _may_run(auth_config.tool_access_config, tool_slug):
        allowed = _allowed_tools(auth_config.tool_access_config)
        raise ToolNotAllowed(
            f"Auth config {auth_config.id} allows only {', '.join(allowed)} to execute, not {tool_slug}",
            suggested_fix="Add the tool to tool_access_config.tools_available_for_execution of the auth config",
        )
    if not may_write and _refresh_due(account.auth_scheme, account.token_expires_at):
        raise _RefreshDue()
    connection = Connection(account.id, auth_config.id, account.user_id)
    if auth_config.is_disabled:
        connection.failure = f"Auth config {auth_config.id} of connected account {account.id} is disabled"
        return connection
    try:
        account, values = await connected_accounts.credentials_for_use(session, principal, account)
    except oauth.ProviderUnavailable:
        connection.failure = f"Could not refresh the access token of connected account {account.id}: the provider is unavailable"
        return connection
    if values is None:
        reason = f": {account.status_reason}" if account.status_reason else ""
        connection.failure = f"Connected account {account.id} is {account.status}{reason}; only ACTIVE accounts can execute tools"
        return connection
    scheme = toolkit.scheme(account.auth_scheme)
    if scheme is None:
        connection.failure = f"Toolkit {toolkit.slug} no longer offers {account.auth_scheme}, the scheme of connected account {account.id}"
        return connection
    connection.base_url_template = toolkit.base_url_for(scheme.mode)
    try:
        connection.credential = credential_for(scheme, values)
        connection.base_url = base_url_for(toolkit, scheme, values)
    except CredentialProblem as problem:
        connection.failure = f"Connected account {account.id} cannot be used: {problem}"
    return connection


class _RefreshDue(Exception):
    """The account's OAuth2 token is due for a refresh: resolve again in a transaction that may write."""


def _refresh_due(auth_scheme: str, token_expires_at: datetime | None) -> bool:
    # A minute beyond the refresh margin, so a token cannot fall due between this look and the
    # unsealing that follows it in the same read-only transaction.
    horizon = utcnow() + connected_accounts.REFRESH_MARGIN + timedelta(seconds=60)
    return auth_scheme == "OAUTH2" and token_expires_at is not None and token_expires_at <= horizon


def _allowed_tools(tool_access_config: dict[str, Any] | None) -> list[str]:
    return list((tool_access_config or {}).get("tools_available_for_execution") or [])


def _may_run(tool_access_config: dict[str, Any] | None, tool_slug: str | None) -> bool:
    """Whether the auth config lets `tool_slug` execute (proxy calls, with no slug, are not limited here)."""
    allowed = _allowed_tools(tool_access_config)
    return tool_slug is None or not allowed or tool_slug in allowed
