"""Connected accounts (reference §3–§5): credentials sealed by the vault, masked per project setting.

Three ways in: credentials given directly (API_KEY, BEARER_TOKEN, BASIC), NO_AUTH at once, or an
initiation that an end user finishes in a browser (OAuth2 via the provider, or the hosted link
page). Initiations expire after ten minutes.
"""

from __future__ import annotations

import secrets as random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.vault import service as vault
from tenantry.auth.principal import Principal, capability_principal
from tenantry.auth_configs import service as auth_configs
from tenantry.auth_configs.repository import AuthConfigRepository
from tenantry.auth_configs.schemas import AuthScheme
from tenantry.config import get_settings, key_pepper
from tenantry.connected_accounts import oauth, schemas
from tenantry.connected_accounts.repository import (
    BrowserFlowRepository,
    ConnectedAccountFilters,
    ConnectedAccountRepository,
)
from tenantry.db import unit_of_work
from tenantry.errors import AliasTaken, AppError, AuthConfigNotFound, ConnectedAccountNotFound, InvalidRequest, InvalidTransition
from tenantry.kit import ids, keys
from tenantry.kit.masking import mask_fields
from tenantry.kit.pagination import PageRequest, total_pages
from tenantry.kit.time import iso, utcnow
from tenantry.models import AuthConfig, ConnectedAccount
from tenantry.settings import service as project_settings
from tenantry.settings.schemas import ProjectConfig
from tenantry.toolkits.catalog import AuthSchemeSpec, Toolkit, get_catalog
from tenantry.webhooks import events

DEFAULT_PAGE_SIZE = 20
INITIATION_WINDOW = timedelta(minutes=10)
STALE_INITIATION = "Connection initiation did not complete within 10 minutes"
# Refresh an access token this long before the provider says it expires.
REFRESH_MARGIN = timedelta(seconds=60)
# Kept sealed for the server's own use, never shown in any response, masked or not.
INTERNAL_FIELDS = frozenset({"code_verifier"})
# Schemes whose credentials PATCH may change (reference §3.4).
PATCHABLE_SCHEMES = frozenset({"BEARER_TOKEN", "API_KEY", "BASIC", "BASIC_WITH_JWT", "GOOGLE_SERVICE_ACCOUNT", "SERVICE_ACCOUNT"})


def _context(account_id: str) -> str:
    return f"connected_account:{account_id}:secrets"


def callback_route() -> str:
    return f"{get_settings().public_url.rstrip('/')}/api/v3.1/toolkits/auth/callback"


def link_page(token: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/link/{token}"


def _checked_callback_url(url: str | None, field: str) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequest.field(field, "must be an http(s) URL")
    return url


# --- reading -----------------------------------------------------------------------------------


async def _secrets(session: AsyncSession, account: ConnectedAccount) -> dict[str, Any]:
    return await vault.unseal(session, account.project_id, account.secrets, context=_context(account.id))


async def _seal(session: AsyncSession, account: ConnectedAccount, values: dict[str, Any]) -> None:
    account.secrets = await vault.seal(session, account.project_id, values, context=_context(account.id))


def _secret_names(account: ConnectedAccount) -> set[str]:
    toolkit = get_catalog().get(account.toolkit_slug)
    spec = toolkit.scheme(account.auth_scheme) if toolkit else None
    return {field.name for field in spec.connection_fields if field.is_secret} if spec else set()


def _shown(account: ConnectedAccount, values: dict[str, Any], settings: ProjectConfig) -> dict[str, Any]:
    visible = {key: value for key, value in values.items() if key not in INTERNAL_FIELDS}
    if settings.mask_secret_keys_in_connected_account:
        return mask_fields(visible, _secret_names(account))
    return visible


def _state(account: ConnectedAccount, shown: dict[str, Any]) -> schemas.ConnectionState:
    return schemas.ConnectionState(authScheme=account.auth_scheme, val={"status": account.status, **shown})


async def _to_schema(
    session: AsyncSession,
    account: ConnectedAccount,
    auth_config: AuthConfig,
    settings: ProjectConfig,
    *,
    detail: bool,
) -> schemas.ConnectedAccountListItem:
    shown = _shown(account, await _secrets(session, account), settings)
    fields: dict[str, Any] = {
        "toolkit": schemas.ToolkitRef(slug=account.toolkit_slug),
        "auth_config": schemas.AuthConfigSummary(
            id=auth_config.id,
            auth_scheme=auth_config.auth_scheme,
            is_composio_managed=auth_config.is_composio_managed,
            is_disabled=auth_config.is_disabled,
        ),
        "id": account.id,
        "word_id": account.word_id,
        "alias": account.alias,
        "user_id": account.user_id,
        "status": account.status,
        "status_reason": account.status_reason or ("Auth config is disabled" if auth_config.is_disabled else None),
        "is_disabled": account.status == schemas.Status.INACTIVE,
        "created_at": account.created_at,
        "updated_at": account.updated_at,
        "state": _state(account, shown),
        "data": dict(shown),
        "requested_scopes": account.requested_scopes,
        "deprecated": {"labels": [], "uuid": account.uuid},
    }
    if account.account_type == "SHARED":
        fields["experimental"] = schemas.Experimental(
            account_type="SHARED", acl_config_for_shared=account.acl_config_for_shared
        )
    if detail:
        return schemas.ConnectedAccount(**fields, params=dict(shown))
    return schemas.ConnectedAccountListItem(**fields)


async def _require(session: AsyncSession, principal: Principal, account_id: str, *, for_update: bool = False) -> ConnectedAccount:
    account = await ConnectedAccountRepository(session, principal).get(account_id, for_update=for_update)
    if account is None:
        raise ConnectedAccountNotFound()
    return account


async def _auth_config_of(session: AsyncSession, principal: Principal, account: ConnectedAccount) -> AuthConfig:
    auth_config = await AuthConfigRepository(session, principal).get(account.auth_config_id)
    if auth_config is None:  # deleting a config deletes its accounts in the same transaction
        raise ConnectedAccountNotFound()
    return auth_config


async def _emit(
    session: AsyncSession,
    account: ConnectedAccount,
    event_type: str,
    *,
    auth_config: AuthConfig | None = None,
    settings: ProjectConfig | None = None,
) -> None:
    """Tells the project's webhook subscription, in this transaction, what became of `account`.

    A caller that already holds the account's auth config and the project's settings passes
    them, and the event costs no statement to describe the account.
    """

    async def data() -> schemas.ConnectedAccountListItem:
        config = auth_config or await _auth_config_of(session, capability_principal(account.project_id), account)
        shown_with = settings or await project_settings.read_for(session, account.project_id)
        return await _to_schema(session, account, config, shown_with, detail=True)

    await events.emit(session, account.project_id, event_type, data)


async def get(session: AsyncSession, principal: Principal, account_id: str, settings: ProjectConfig) -> schemas.ConnectedAccount:
    account = await _require(session, principal, account_id)
    auth_config = await _auth_config_of(session, principal, account)
    result = await _to_schema(session, account, auth_config, settings, detail=True)
    assert isinstance(result, schemas.ConnectedAccount)
    return result


async def list_page(
    session: AsyncSession,
    principal: Principal,
    filters: ConnectedAccountFilters,
    settings: ProjectConfig,
    *,
    limit: int | None,
    cursor: str | None,
) -> schemas.ConnectedAccountList:
    request = PageRequest.parse(limit, cursor, DEFAULT_PAGE_SIZE)
    repository = ConnectedAccountRepository(session, principal)
    sort = (lambda row: (row.updated_at, row.id)) if filters.order_by == "updated_at" else (lambda row: (row.created_at, row.id))
    rows, next_cursor = request.slice(await repository.page(filters, request), sort)
    configs: dict[str, AuthConfig] = {}
    items = []
    for account in rows:
        if account.auth_config_id not in configs:
            configs[account.auth_config_id] = await _auth_config_of(session, principal, account)
        items.append(await _to_schema(session, account, configs[account.auth_config_id], settings, detail=False))
    total = await repository.count(filters)
    return schemas.ConnectedAccountList(
        items=items,
        next_cursor=next_cursor,
        total_pages=total_pages(total, request.limit),
        current_page=request.page,
        total_items=total,
    )


# --- creating ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    auth_config: AuthConfig
    toolkit: Toolkit
    spec: AuthSchemeSpec


async def _target(session: AsyncSession, principal: Principal, auth_config_id: str, field: str) -> _Target:
    auth_config = await AuthConfigRepository(session, principal).get(auth_config_id)
    if auth_config is None:
        raise AuthConfigNotFound(
            f"No auth config {auth_config_id!r} in this project", errors=[f"{field}: no such auth config"]
        )
    if auth_config.is_disabled:
        raise InvalidRequest.field(field, f"auth config {auth_config_id} is disabled; enable it to make new connections")
    toolkit = get_catalog().get(auth_config.toolkit_slug)
    spec = toolkit.scheme(auth_config.auth_scheme) if toolkit else None
    if toolkit is None or spec is None:
        raise InvalidRequest.field(field, f"toolkit {auth_config.toolkit_slug!r} no longer offers {auth_config.auth_scheme}")
    return _Target(auth_config, toolkit, spec)


def _require_fields(spec: AuthSchemeSpec, values: dict[str, Any], prefix: str) -> None:
    missing = [field.name for field in spec.connection_fields if field.required and values.get(field.name) in (None, "")]
    if missing:
        raise InvalidRequest(
            f"{prefix}: missing " + ", ".join(missing),
            errors=[f"{prefix}.{name}: required" for name in missing],
        )


async def _oauth_app(session: AsyncSession, target: _Target) -> oauth.OAuthApp:
    oauth2 = target.toolkit.oauth2
    if oauth2 is None:
        raise InvalidRequest.field("auth_config.id", f"toolkit {target.toolkit.slug!r} has no OAuth2 endpoints in the catalog")
    credentials = (await auth_configs.secrets_of(session, target.auth_config))["credentials"]
    if target.auth_config.is_composio_managed:
        assert target.toolkit.managed_app is not None
        managed = target.toolkit.managed_app
        client_id, client_secret = managed.client_id, managed.client_secret.get_secret_value()
        default_scopes = managed.scopes or oauth2.default_scopes
    else:
        client_id, client_secret = credentials.get("client_id", ""), credentials.get("client_secret")
        default_scopes = oauth2.default_scopes
    scopes = credentials.get("scopes") or default_scopes
    if isinstance(scopes, str):
        scopes = [scope for scope in scopes.replace(",", " ").split() if scope]
    return oauth.OAuthApp(
        authorize_url=oauth2.authorize_url,
        token_url=oauth2.token_url,
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(scopes),
        scope_separator=oauth2.scope_separator,
        pkce=oauth2.pkce,
        redirect_uri=credentials.get("oauth_redirect_uri") or callback_route(),
        extra_authorize_params=dict(oauth2.authorize_params),
        secret_in_basic_auth=oauth2.token_auth_method == "client_secret_basic",
    )


async def _initiate_oauth(session: AsyncSession, account: ConnectedAccount, target: _Target, values: dict[str, Any]) -> str:
    """Moves the account to INITIATED and returns the provider URL the end user must visit."""
    app = await _oauth_app(session, target)
    initiation = oauth.initiate(app)
    account.status = schemas.Status.INITIATED
    account.status_reason = None
    account.oauth_state_digest = keys.digest(key_pepper(), initiation.state)
    account.initiation_expires_at = utcnow() + INITIATION_WINDOW
    account.requested_scopes = app.scopes
    values = {key: value for key, value in values.items() if key not in ("redirectUrl", "code_verifier")}
    values["redirectUrl"] = initiation.url
    if initiation.code_verifier:
        values["code_verifier"] = initiation.code_verifier
    await _seal(session, account, values)
    return initiation.url


def _new_account(principal: Principal, target: _Target, user_id: str, alias: str | None, experimental: schemas.Experimental | None) -> ConnectedAccount:
    assert principal.project_id is not None
    moment = utcnow()
    return ConnectedAccount(
        id=ids.nano_id("ca"),
        uuid=str(uuid.uuid4()),
        project_id=principal.project_id,
        auth_config_id=target.auth_config.id,
        toolkit_slug=target.toolkit.slug,
        auth_scheme=target.auth_config.auth_scheme,
        user_id=user_id,
        alias=alias or None,
        word_id=f"{target.toolkit.slug}_{keys.friendly_name().replace('_', '-')}",
        status=schemas.Status.INITIALIZING,
        secrets=b"",
        requested_scopes=[],
        account_type=experimental.account_type if experimental else "PRIVATE",
        acl_config_for_shared=(
            experimental.acl_config_for_shared.model_dump() if experimental and experimental.acl_config_for_shared else None
        ),
        created_at=moment,
        updated_at=moment,
    )


async def _insert(session: AsyncSession, principal: Principal, account: ConnectedAccount) -> None:
    try:
        await ConnectedAccountRepository(session, principal).add(account)
    except IntegrityError:
        raise AliasTaken(
            f"Alias {account.alias!r} is already used by another {account.toolkit_slug} account of user {account.user_id!r}",
            errors=["connection.alias: already in use"],
        ) from None


async def create(
    session: AsyncSession, principal: Principal, payload: schemas.ConnectedAccountCreate, settings: ProjectConfig
) -> schemas.ConnectedAccountCreated:
    target = await _target(session, principal, payload.auth_config.id, "auth_config.id")
    connection = payload.connection
    callback_url = _checked_callback_url(connection.callback_url or connection.redirect_uri, "connection.callback_url")
    values: dict[str, Any] = {}
    if connection.state is not None:
        if connection.state.authScheme != target.auth_config.auth_scheme:
            raise InvalidRequest.field(
                "connection.state.authScheme",
                f"the auth config uses {target.auth_config.auth_scheme}, not {connection.state.authScheme}",
            )
        values = {key: value for key, value in connection.state.val.items() if key != "status"}
    elif connection.data:
        values = dict(connection.data)
    account = _new_account(principal, target, connection.user_id, connection.alias, connection.experimental)
    if callback_url:
        values["callback_url"] = callback_url
    redirect_url = None
    if target.auth_config.auth_scheme == AuthScheme.OAUTH2:
        await _insert(session, principal, account)
        redirect_url = await _initiate_oauth(session, account, target, values)
    else:
        if target.auth_config.auth_scheme != AuthScheme.NO_AUTH:
            _require_fields(target.spec, values, "connection.state.val")
        account.status = schemas.Status.ACTIVE
        # Sealed before the insert, so the row is written once, whole.
        await _seal(session, account, values)
        await _insert(session, principal, account)
    await session.flush()
    if account.status == schemas.Status.ACTIVE:
        await _emit(session, account, events.CONNECTED_ACCOUNT_ACTIVE, auth_config=target.auth_config, settings=settings)
    shown = _shown(account, await _secrets(session, account), settings)
    return schemas.ConnectedAccountCreated(
        id=account.id,
        connectionData=_state(account, shown),
        status=account.status,
        redirect_url=redirect_url,
        redirect_uri=redirect_url,
        deprecated={"uuid": account.uuid, "authConfigUuid": target.auth_config.uuid},
    )


async def create_link(session: AsyncSession, principal: Principal, payload: schemas.LinkCreate) -> schemas.LinkCreated:
    """A hosted page for one end user: OAuth consent, or a form for API-key / basic credentials."""
    target = await _target(session, principal, payload.auth_config_id, "auth_config_id")
    callback_url = _checked_callback_url(payload.callback_url, "callback_url")
    account = _new_account(principal, target, payload.user_id, payload.alias, payload.experimental)
    token = f"lt_{random.token_urlsafe(32)}"
    account.status = schemas.Status.INITIATED
    account.link_token_digest = keys.digest(key_pepper(), token)
    account.initiation_expires_at = utcnow() + INITIATION_WINDOW
    await _insert(session, principal, account)
    values = dict(payload.connection_data or {})
    if callback_url:
        values["callback_url"] = callback_url
    await _seal(session, account, values)
    await session.flush()
    return schemas.LinkCreated(
        link_token=token,
        redirect_url=link_page(token),
        expires_at=account.initiation_expires_at,
        connected_account_id=account.id,
    )


# --- changing ----------------------------------------------------------------------------------


async def update(
    session: AsyncSession, principal: Principal, account_id: str, changes: schemas.ConnectedAccountUpdate
) -> schemas.ConnectedAccountUpdated:
    account = await _require(session, principal, account_id, for_update=True)
    if changes.alias is not None:
        account.alias = changes.alias or None
    if changes.experimental is not None and changes.experimental.acl_config_for_shared is not None:
        account.acl_config_for_shared = changes.experimental.acl_config_for_shared.model_dump()
    if changes.connection is not None:
        state = changes.connection.state
        if state.authScheme != account.auth_scheme:
            raise InvalidRequest.field("connection.state.authScheme", f"this account uses {account.auth_scheme}")
        if account.auth_scheme not in PATCHABLE_SCHEMES:
            raise InvalidRequest.field("connection.state.authScheme", f"{account.auth_scheme} credentials cannot be patched")
        values = await _secrets(session, account)
        for key, value in state.val.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value
        target = await _target_of(session, principal, account)
        _require_fields(target.spec, values, "connection.state.val")
        await _seal(session, account, values)
    account.updated_at = utcnow()
    try:
        await session.flush()
    except IntegrityError:
        raise AliasTaken(errors=["alias: already in use"]) from None
    return schemas.ConnectedAccountUpdated(id=account.id, status=account.status)


async def _target_of(session: AsyncSession, principal: Principal, account: ConnectedAccount) -> _Target:
    auth_config = await _auth_config_of(session, principal, account)
    toolkit = get_catalog().get(auth_config.toolkit_slug)
    spec = toolkit.scheme(auth_config.auth_scheme) if toolkit else None
    if toolkit is None or spec is None:
        raise InvalidRequest.field("auth_config", f"toolkit {auth_config.toolkit_slug!r} no longer offers {auth_config.auth_scheme}")
    return _Target(auth_config, toolkit, spec)


async def set_enabled(session: AsyncSession, principal: Principal, account_id: str, enabled: bool) -> schemas.Success:
    account = await _require(session, principal, account_id, for_update=True)
    wanted = schemas.Status.ACTIVE if enabled else schemas.Status.INACTIVE
    if account.status not in (schemas.Status.ACTIVE, schemas.Status.INACTIVE):
        raise InvalidTransition(
            f"A {account.status} account cannot be {'enabled' if enabled else 'disabled'}",
            suggested_fix="Only ACTIVE accounts can be disabled and only INACTIVE ones enabled",
        )
    if account.status != wanted:
        account.status = wanted
        account.status_reason = "Connection status updated by user"
        account.updated_at = utcnow()
        await session.flush()
        await _emit(session, account, events.CONNECTED_ACCOUNT_ACTIVE if enabled else events.CONNECTED_ACCOUNT_DISABLED)
    return schemas.Success()


async def delete(session: AsyncSession, principal: Principal, account_id: str) -> schemas.Success:
    account = await _require(session, principal, account_id, for_update=True)
    await _delete(session, account, utcnow())
    return schemas.Success()


async def _delete(session: AsyncSession, account: ConnectedAccount, moment: datetime) -> None:
    """Soft-deletes the account (its pending OAuth or link capability dies with it) and says so."""
    account.deleted_at = moment
    account.oauth_state_digest = account.link_token_digest = None
    await session.flush()
    await _emit(session, account, events.CONNECTED_ACCOUNT_DELETED)


async def delete_with_auth_config(session: AsyncSession, principal: Principal, auth_config: AuthConfig) -> None:
    """Deletes the live accounts made through `auth_config`, which is being deleted, and tells the
    project's subscription about each as `delete` would. Without a subscription that wants the
    event this loads nothing: the auth config's repository deletes the accounts in one statement."""
    if not await events.wanted(session, auth_config.project_id, events.CONNECTED_ACCOUNT_DELETED):
        return
    moment = utcnow()
    for account in await ConnectedAccountRepository(session, principal).of_auth_config(auth_config.id):
        await _delete(session, account, moment)


async def reinitiate(
    session: AsyncSession, principal: Principal, account_id: str, redirect_url: str | None
) -> schemas.Refreshed:
    """Composio's deprecated `refresh`: start the OAuth flow again for this account."""
    account = await _require(session, principal, account_id, for_update=True)
    if account.auth_scheme != AuthScheme.OAUTH2:
        raise InvalidTransition(f"{account.auth_scheme} accounts have no flow to restart; PATCH their credentials instead")
    target = await _target_of(session, principal, account)
    values = await _secrets(session, account)
    callback_url = _checked_callback_url(redirect_url, "redirect_url")
    if callback_url:
        values["callback_url"] = callback_url
    url = await _initiate_oauth(session, account, target, values)
    account.updated_at = utcnow()
    await session.flush()
    return schemas.Refreshed(id=account.id, status=account.status, redirect_url=url)


# --- using -------------------------------------------------------------------------------------


async def credentials_for_use(
    session: AsyncSession, principal: Principal, account: ConnectedAccount
) -> tuple[ConnectedAccount, dict[str, Any] | None]:
    """The account's credentials, refreshing an OAuth2 access token that has (nearly) expired.

    The caller reads the account, for update when a refresh may be due (so two workers never
    refresh one token at once). Returns no credentials when the account cannot be used; a
    refresh the provider rejects moves it to EXPIRED, which the caller's transaction commits.
    """
    if account.status != schemas.Status.ACTIVE:
        return account, None
    values = await _secrets(session, account)
    due = account.token_expires_at is not None and account.token_expires_at <= utcnow() + REFRESH_MARGIN
    if account.auth_scheme != AuthScheme.OAUTH2 or not due:
        return account, values
    if not values.get("refresh_token"):
        await _expire(session, account, values, "Access token expired and the provider gave no refresh token")
        return account, None
    app = await _oauth_app(session, await _target_of(session, principal, account))
    try:
        tokens = await oauth.refresh(app, values["refresh_token"])
    except oauth.ProviderRejected as rejection:
        await _expire(session, account, values, f"Permanent auth error during token refresh: {rejection}")
        return account, None
    values.update(tokens)
    account.token_expires_at = oauth.expiry_of(tokens)
    account.updated_at = utcnow()
    await _seal(session, account, values)
    await session.flush()
    return account, values


async def _expire(session: AsyncSession, account: ConnectedAccount, values: dict[str, Any], reason: str) -> None:
    account.status = schemas.Status.EXPIRED
    account.status_reason = reason
    account.updated_at = utcnow()
    await _seal(session, account, {**values, "expired_at": iso(utcnow())})
    await session.flush()
    await _emit(session, account, events.CONNECTED_ACCOUNT_EXPIRED)


# --- revoking at the provider ---------------------------------------------------------------------


# The sealed values that are the provider's grant; they are dropped once it is revoked.
GRANT_FIELDS = ("refresh_token", "access_token", "id_token")


@dataclass(frozen=True)
class UpstreamGrant:
    """What revoking an account's OAuth2 grant at its provider (RFC 7009) needs."""

    app: oauth.OAuthApp
    revoke_url: str
    # (token, token_type_hint), the refresh token first: revoking it ends the whole grant.
    tokens: list[tuple[str, str]]


async def upstream_grant(session: AsyncSession, principal: Principal, account_id: str) -> UpstreamGrant | None:
    """The account's OAuth2 grant when it holds tokens and its toolkit can revoke them, else None."""
    account = await _require(session, principal, account_id)
    if account.auth_scheme != AuthScheme.OAUTH2 or account.status == schemas.Status.REVOKED:
        return None
    try:
        target = await _target_of(session, principal, account)
    except AppError:
        return None
    oauth2 = target.toolkit.oauth2
    if oauth2 is None or oauth2.revoke_url is None:
        return None
    values = await _secrets(session, account)
    tokens = [(values[name], name) for name in GRANT_FIELDS[:2] if values.get(name)]
    if not tokens:
        return None
    return UpstreamGrant(await _oauth_app(session, target), oauth2.revoke_url, tokens)


async def mark_revoked(session: AsyncSession, principal: Principal, account_id: str, reason: str) -> None:
    """The account's grant was revoked upstream: it becomes REVOKED and forgets its tokens."""
    account = await _require(session, principal, account_id, for_update=True)
    values = await _secrets(session, account)
    account.status = schemas.Status.REVOKED
    account.status_reason = reason
    account.token_expires_at = None
    account.updated_at = utcnow()
    await _seal(session, account, {key: value for key, value in values.items() if key not in GRANT_FIELDS})
    await session.flush()


# --- the end user's browser ----------------------------------------------------------------------


@dataclass(frozen=True)
class BrowserOutcome:
    """Where a finished (or failed) browser flow sends the end user."""

    account_id: str | None
    succeeded: bool
    message: str
    redirect_to: str | None


def _finish_redirect(values: dict[str, Any], account: ConnectedAccount, succeeded: bool, error: str | None = None) -> str | None:
    callback_url = values.get("callback_url")
    if not callback_url:
        return None
    params = {"status": "success" if succeeded else "failed", "connected_account_id": account.id}
    if error:
        params["error"] = error
    separator = "&" if "?" in callback_url else "?"
    return f"{callback_url}{separator}{urlencode(params)}"


def _expired(account: ConnectedAccount) -> bool:
    return account.initiation_expires_at is not None and account.initiation_expires_at <= utcnow()


async def _fail(session: AsyncSession, account: ConnectedAccount, values: dict[str, Any], reason: str, error: str) -> BrowserOutcome:
    account.status = schemas.Status.FAILED
    account.status_reason = reason
    account.oauth_state_digest = account.link_token_digest = None
    account.updated_at = utcnow()
    values = {key: value for key, value in values.items() if key not in INTERNAL_FIELDS}
    await _seal(session, account, {**values, "error": error})
    await session.flush()
    return BrowserOutcome(account.id, False, reason, _finish_redirect(values, account, False, error))


async def complete_oauth(
    session: AsyncSession, state: str, code: str | None, error: str | None, error_description: str | None
) -> BrowserOutcome:
    account = await BrowserFlowRepository(session).by_oauth_state(keys.digest(key_pepper(), state))
    if account is None or account.status != schemas.Status.INITIATED:
        return BrowserOutcome(None, False, "This sign-in link is invalid or was already used.", None)
    values = await _secrets(session, account)
    if _expired(account):
        return await _fail(session, account, values, STALE_INITIATION, "expired")
    if error or not code:
        detail = (error_description or error or "no authorization code")[:200]
        return await _fail(session, account, values, f"The provider refused the connection: {detail}", error or "access_denied")
    target = await _target_of(session, capability_principal(account.project_id), account)
    app = await _oauth_app(session, target)
    try:
        tokens = await oauth.exchange_code(app, code, values.get("code_verifier"))
    except (oauth.ProviderRejected, oauth.ProviderUnavailable) as failure:
        return await _fail(session, account, values, "OAuth callback failed during token exchange", str(failure)[:200])
    kept = {key: value for key, value in values.items() if key not in (*INTERNAL_FIELDS, "redirectUrl")}
    account.status = schemas.Status.ACTIVE
    account.status_reason = None
    account.oauth_state_digest = account.link_token_digest = None
    account.initiation_expires_at = None
    account.token_expires_at = oauth.expiry_of(tokens)
    account.updated_at = utcnow()
    await _seal(session, account, {**kept, **tokens})
    await session.flush()
    await _emit(session, account, events.CONNECTED_ACCOUNT_ACTIVE)
    return BrowserOutcome(account.id, True, "Connected.", _finish_redirect(kept, account, True))


@dataclass(frozen=True)
class LinkPage:
    """What the hosted link page shows or does for a token."""

    account: ConnectedAccount | None
    toolkit: Toolkit | None
    spec: AuthSchemeSpec | None
    prefill: dict[str, Any]
    oauth_url: str | None
    problem: str | None


async def open_link(session: AsyncSession, token: str) -> LinkPage:
    account = await BrowserFlowRepository(session).by_link_token(keys.digest(key_pepper(), token))
    if account is None or account.status != schemas.Status.INITIATED:
        return LinkPage(None, None, None, {}, None, "This link is invalid or was already used.")
    values = await _secrets(session, account)
    if _expired(account):
        await _fail(session, account, values, STALE_INITIATION, "expired")
        return LinkPage(None, None, None, {}, None, "This link has expired. Ask for a new one.")
    target = await _target_of(session, capability_principal(account.project_id), account)
    if account.auth_scheme == AuthScheme.OAUTH2:
        url = await _initiate_oauth(session, account, target, values)
        await session.flush()
        return LinkPage(account, target.toolkit, target.spec, {}, url, None)
    secret = {field.name for field in target.spec.connection_fields if field.is_secret}
    prefill = {key: value for key, value in values.items() if key not in secret and isinstance(value, str)}
    return LinkPage(account, target.toolkit, target.spec, prefill, None, None)


async def submit_link(session: AsyncSession, token: str, form: dict[str, str]) -> BrowserOutcome | LinkPage:
    page = await open_link(session, token)
    if page.account is None or page.spec is None or page.oauth_url is not None:
        return page
    account = page.account
    values = await _secrets(session, account)
    submitted = {field.name: form.get(field.name, "").strip() for field in page.spec.connection_fields}
    values.update({key: value for key, value in submitted.items() if value})
    missing = [field.display_name for field in page.spec.connection_fields if field.required and not values.get(field.name)]
    if missing:
        return LinkPage(account, page.toolkit, page.spec, page.prefill, None, "Please fill in: " + ", ".join(missing))
    account.status = schemas.Status.ACTIVE
    account.link_token_digest = None
    account.initiation_expires_at = None
    account.updated_at = utcnow()
    await _seal(session, account, values)
    await session.flush()
    await _emit(session, account, events.CONNECTED_ACCOUNT_ACTIVE)
    return BrowserOutcome(account.id, True, "Connected.", _finish_redirect(values, account, True))


async def fail_stale_initiations(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with unit_of_work(sessionmaker) as session:
        return await BrowserFlowRepository(session).fail_stale_initiations(utcnow(), STALE_INITIATION)

