"""Auth configs (reference §1): validated against the toolkit catalog, secrets sealed by the vault."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import audit
from tenantry.vault import service as vault
from tenantry.auth.principal import Principal
from tenantry.auth_configs import schemas
from tenantry.auth_configs.repository import AuthConfigFilters, AuthConfigRepository
from tenantry.errors import AuthConfigNotFound, InvalidRequest
from tenantry.kit import ids
from tenantry.kit.masking import mask
from tenantry.kit.pagination import PageRequest, total_pages
from tenantry.models import AuthConfig
from tenantry.toolkits.catalog import Toolkit, get_catalog
from tenantry.webhooks import events

DEFAULT_PAGE_SIZE = 20
# App identifiers that are public by nature; every other credential is obfuscated on read.
PUBLIC_CREDENTIALS = frozenset({"client_id", "consumer_key", "scopes", "user_scopes"})


def _toolkit(slug: str) -> Toolkit:
    toolkit = get_catalog().get(slug)
    if toolkit is None:
        raise InvalidRequest.field("toolkit.slug", f"no toolkit {slug!r} in this server's catalog")
    return toolkit


def _context(auth_config_id: str) -> str:
    return f"auth_config:{auth_config_id}:secrets"


def _check_custom_credentials(toolkit: Toolkit, scheme: str, credentials: dict[str, Any]) -> None:
    spec = toolkit.scheme(scheme)
    if spec is None:
        offered = ", ".join(spec.mode for spec in toolkit.auth_schemes) or "none"
        raise InvalidRequest.field("auth_config.authScheme", f"toolkit {toolkit.slug!r} does not offer {scheme} (it offers {offered})")
    if scheme not in schemas.SUPPORTED_SCHEMES:
        raise InvalidRequest.field("auth_config.authScheme", f"{scheme} is not supported by this server yet")
    missing = [field.name for field in spec.auth_config_fields if field.required and credentials.get(field.name) in (None, "")]
    if missing:
        raise InvalidRequest(
            f"auth_config.credentials: {toolkit.slug} {scheme} needs " + ", ".join(missing),
            errors=[f"auth_config.credentials.{name}: required" for name in missing],
        )


def _managed_scheme(toolkit: Toolkit) -> str:
    if toolkit.managed_app is None:
        raise InvalidRequest(
            f"auth_config.type: toolkit {toolkit.slug!r} has no managed app on this server",
            errors=["auth_config.type: use_composio_managed_auth is unavailable for this toolkit"],
            suggested_fix="Create a custom auth config (type use_custom_auth) with your own app credentials, "
            "or ask the operator to configure a managed app for this toolkit",
        )
    # A managed app is an OAuth app: the toolkit's OAuth2 scheme when it has one.
    return "OAUTH2" if toolkit.scheme("OAUTH2") else toolkit.auth_schemes[0].mode.value


async def create(session: AsyncSession, principal: Principal, payload: schemas.AuthConfigCreate) -> schemas.AuthConfigCreated:
    assert principal.project_id is not None
    toolkit = _toolkit(payload.toolkit.slug)
    spec = payload.auth_config
    credentials = spec.credentials.model_dump(exclude_none=True)
    proxy_url = proxy_auth_key = None
    if isinstance(spec, schemas.CustomAuthConfigCreate):
        scheme = spec.auth_scheme.value
        _check_custom_credentials(toolkit, scheme, credentials)
        if spec.proxy_config:
            proxy_url, proxy_auth_key = spec.proxy_config.proxy_url, spec.proxy_config.proxy_auth_key
    else:
        scheme = _managed_scheme(toolkit)
        # The operator's app credentials stay in the catalog; the config only keeps its scopes.
        credentials = {key: value for key, value in credentials.items() if key in ("scopes", "user_scopes")}
    auth_config_id = ids.nano_id("ac")
    auth_config = AuthConfig(
        id=auth_config_id,
        uuid=str(uuid.uuid4()),
        project_id=principal.project_id,
        toolkit_slug=toolkit.slug,
        name=spec.name or f"{toolkit.name} Auth",
        auth_scheme=scheme,
        is_composio_managed=not isinstance(spec, schemas.CustomAuthConfigCreate),
        secrets=await vault.seal(
            session,
            principal.project_id,
            {"credentials": credentials, "proxy_auth_key": proxy_auth_key, "shared_credentials": spec.shared_credentials or {}},
            context=_context(auth_config_id),
        ),
        proxy_url=proxy_url,
        tool_access_config=(spec.tool_access_config or schemas.ToolAccessConfig()).model_dump(),
        restrict_to_following_tools=spec.restrict_to_following_tools,
        is_enabled_for_tool_router=spec.is_enabled_for_tool_router,
        # A person when a member made it (dashboard, user key), else the project key that did.
        created_by=principal.member_id or principal.key_id,
    )
    await AuthConfigRepository(session, principal).add(auth_config)
    await audit.record(
        session,
        principal,
        "auth_config.created",
        auth_config,
        details={"toolkit": toolkit.slug, "name": auth_config.name, "auth_scheme": scheme, "is_composio_managed": auth_config.is_composio_managed},
    )
    return schemas.AuthConfigCreated(
        toolkit=schemas.ToolkitRef(slug=toolkit.slug),
        auth_config=schemas.CreatedAuthConfig(
            id=auth_config.id,
            auth_scheme=scheme,
            is_composio_managed=auth_config.is_composio_managed,
            restrict_to_following_tools=auth_config.restrict_to_following_tools,
        ),
    )


async def secrets_of(session: AsyncSession, auth_config: AuthConfig) -> dict[str, Any]:
    """The decrypted credentials, proxy key and shared credentials: for server-side use only."""
    return await vault.unseal(session, auth_config.project_id, auth_config.secrets, context=_context(auth_config.id))


def _obfuscated(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value if key in PUBLIC_CREDENTIALS else mask(value) for key, value in values.items()}


async def _to_schema(session: AsyncSession, auth_config: AuthConfig, connections: int) -> schemas.AuthConfig:
    secrets = await secrets_of(session, auth_config)
    toolkit = get_catalog().get(auth_config.toolkit_slug)
    spec = toolkit.scheme(auth_config.auth_scheme) if toolkit else None
    return schemas.AuthConfig(
        id=auth_config.id,
        uuid=auth_config.uuid,
        type="default" if auth_config.is_composio_managed else "custom",
        toolkit=schemas.ToolkitSummary(slug=auth_config.toolkit_slug, logo=toolkit.logo if toolkit else ""),
        name=auth_config.name,
        auth_scheme=auth_config.auth_scheme,
        is_composio_managed=auth_config.is_composio_managed,
        credentials=_obfuscated(secrets["credentials"]),
        proxy_config=(
            schemas.ProxyConfigOut(
                proxy_url=auth_config.proxy_url,
                proxy_auth_key=mask(secrets["proxy_auth_key"]) if secrets["proxy_auth_key"] else None,
            )
            if auth_config.proxy_url
            else None
        ),
        status="DISABLED" if auth_config.is_disabled else "ENABLED",
        created_by=auth_config.created_by,
        created_at=auth_config.created_at,
        last_updated_at=auth_config.updated_at,
        no_of_connections=connections,
        expected_input_fields=[
            schemas.ExpectedInputField(
                name=field.name,
                displayName=field.display_name,
                default=field.default,
                type=field.type,
                description=field.description,
                required=field.required,
                is_secret=field.is_secret,
            )
            for field in (spec.connection_fields if spec else [])
        ],
        restrict_to_following_tools=auth_config.restrict_to_following_tools,
        tool_access_config=schemas.ToolAccessConfig(**auth_config.tool_access_config),
        shared_credentials=_obfuscated(secrets["shared_credentials"]),
        is_enabled_for_tool_router=auth_config.is_enabled_for_tool_router,
    )


async def require(session: AsyncSession, principal: Principal, auth_config_id: str, *, for_update: bool = False) -> AuthConfig:
    auth_config = await AuthConfigRepository(session, principal).get(auth_config_id, for_update=for_update)
    if auth_config is None:
        raise AuthConfigNotFound()
    return auth_config


async def get(session: AsyncSession, principal: Principal, auth_config_id: str) -> schemas.AuthConfig:
    auth_config = await require(session, principal, auth_config_id)
    counts = await AuthConfigRepository(session, principal).connection_counts([auth_config.id])
    return await _to_schema(session, auth_config, counts.get(auth_config.id, 0))


async def list_page(
    session: AsyncSession, principal: Principal, filters: AuthConfigFilters, *, limit: int | None, cursor: str | None
) -> schemas.AuthConfigList:
    request = PageRequest.parse(limit, cursor, DEFAULT_PAGE_SIZE)
    repository = AuthConfigRepository(session, principal)
    rows, next_cursor = request.slice(await repository.page(filters, request), lambda row: (row.created_at, row.id))
    counts = await repository.connection_counts([row.id for row in rows])
    total = await repository.count(filters)
    return schemas.AuthConfigList(
        items=[await _to_schema(session, row, counts.get(row.id, 0)) for row in rows],
        next_cursor=next_cursor,
        total_pages=total_pages(total, request.limit),
        current_page=request.page,
        total_items=total,
    )


def _merge(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Key-by-key merge where `null` removes a key."""
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


async def update(
    session: AsyncSession, principal: Principal, auth_config_id: str, changes: schemas.CustomAuthConfigUpdate | schemas.DefaultAuthConfigUpdate
) -> schemas.Success:
    auth_config = await require(session, principal, auth_config_id, for_update=True)
    expected = "default" if auth_config.is_composio_managed else "custom"
    if changes.type != expected:
        raise InvalidRequest.field("type", f"this auth config is {expected!r}; send type {expected!r}")
    secrets = await secrets_of(session, auth_config)
    sent = changes.model_fields_set
    if isinstance(changes, schemas.CustomAuthConfigUpdate):
        if changes.credentials is not None:
            secrets["credentials"] = _merge(secrets["credentials"], changes.credentials)
            toolkit = _toolkit(auth_config.toolkit_slug)
            try:
                _check_custom_credentials(toolkit, auth_config.auth_scheme, secrets["credentials"])
            except InvalidRequest as error:
                error.message = error.message.replace("auth_config.credentials", "credentials")
                error.errors = [item.replace("auth_config.credentials", "credentials") for item in error.errors or []]
                raise
        if "proxy_config" in sent:
            proxy = changes.proxy_config
            auth_config.proxy_url = proxy.proxy_url if proxy else None
            secrets["proxy_auth_key"] = proxy.proxy_auth_key if proxy else None
    else:
        for field in ("scopes", "user_scopes"):
            if field in sent:
                value = getattr(changes, field)
                if value in ("", [], None):
                    secrets["credentials"].pop(field, None)
                else:
                    secrets["credentials"][field] = value
    if changes.name is not None:
        auth_config.name = changes.name
    if changes.tool_access_config is not None:
        auth_config.tool_access_config = changes.tool_access_config.model_dump()
    if changes.restrict_to_following_tools is not None:
        auth_config.restrict_to_following_tools = changes.restrict_to_following_tools
    if changes.shared_credentials is not None:
        secrets["shared_credentials"] = _merge(secrets["shared_credentials"], changes.shared_credentials)
    if changes.is_enabled_for_tool_router is not None:
        auth_config.is_enabled_for_tool_router = changes.is_enabled_for_tool_router
    auth_config.secrets = await vault.seal(session, auth_config.project_id, secrets, context=_context(auth_config.id))
    await session.flush()
    # Field names only: credentials are secrets, and the log never holds one.
    await audit.record(session, principal, "auth_config.updated", auth_config, details={"fields": sorted(sent - {"type"})})
    return schemas.Success(message="Auth config updated successfully")


async def set_status(session: AsyncSession, principal: Principal, auth_config_id: str, enabled: bool) -> schemas.Success:
    auth_config = await require(session, principal, auth_config_id, for_update=True)
    newly_disabled = not enabled and not auth_config.is_disabled
    auth_config.is_disabled = not enabled
    await session.flush()
    await audit.record(session, principal, f"auth_config.{'enabled' if enabled else 'disabled'}", auth_config)
    if newly_disabled:
        await events.emit(session, auth_config.project_id, events.AUTH_CONFIG_DISABLED, lambda: get(session, principal, auth_config.id))
    return schemas.Success(message=f"Auth config {'enabled' if enabled else 'disabled'} successfully")


async def delete(session: AsyncSession, principal: Principal, auth_config_id: str) -> schemas.Success:
    auth_config = await require(session, principal, auth_config_id, for_update=True)
    # Imported here because the connected accounts' service builds on this one.
    from tenantry.connected_accounts import service as connected_accounts

    await connected_accounts.delete_with_auth_config(session, principal, auth_config)
    await AuthConfigRepository(session, principal).delete(auth_config)
    await audit.record(session, principal, "auth_config.deleted", auth_config, details={"name": auth_config.name})
    return schemas.Success(message="Auth config deleted successfully")
