"""Reading and changing a project's settings.

Settings are read on hot paths (every MCP request will check `require_mcp_api_key`), so reads
go through the per-process cache; a change invalidates it on every worker (tenantry.cache).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import audit, cache
from tenantry.auth.principal import Principal
from tenantry.cache import ProcessCache
from tenantry.errors import ProjectNotFound
from tenantry.models import ProjectSettings
from tenantry.settings.repository import SettingsRepository
from tenantry.settings.schemas import ProjectConfig, ProjectConfigInitial, ProjectConfigUpdate

# Composio turned require_mcp_api_key on by default for organizations created from this day.
REQUIRE_MCP_API_KEY_SINCE = datetime.fromisoformat("2026-03-05T00:00:00+00:00")

# Wire name -> column name, where they differ.
_COLUMN_FOR_FIELD = {"is_2FA_enabled": "is_2fa_enabled"}


def defaults_for(project_id: str, org_created_at: datetime) -> ProjectSettings:
    return ProjectSettings(
        project_id=project_id,
        is_2fa_enabled=False,
        mask_secret_keys_in_connected_account=True,
        log_visibility_setting="show_all",
        require_mcp_api_key=org_created_at >= REQUIRE_MCP_API_KEY_SINCE,
        is_composio_link_enabled_for_managed_auth=False,
        signed_url_file_expiry_in_seconds=3600,
    )


def apply(settings: ProjectSettings, changes: ProjectConfigUpdate | ProjectConfigInitial) -> None:
    for field, value in changes.changes().items():
        setattr(settings, _COLUMN_FOR_FIELD.get(field, field), value)


def to_schema(settings: ProjectSettings) -> ProjectConfig:
    return ProjectConfig(
        is_2FA_enabled=settings.is_2fa_enabled,
        logo_url=settings.logo_url,
        display_name=settings.display_name,
        mask_secret_keys_in_connected_account=settings.mask_secret_keys_in_connected_account,
        log_visibility_setting=settings.log_visibility_setting,
        require_mcp_api_key=settings.require_mcp_api_key,
        is_composio_link_enabled_for_managed_auth=settings.is_composio_link_enabled_for_managed_auth,
        signed_url_file_expiry_in_seconds=settings.signed_url_file_expiry_in_seconds,
        oauth_callback_verifier_url=settings.oauth_callback_verifier_url,
        theme=settings.theme,
    )


async def _load(session: AsyncSession, project_id: str) -> ProjectConfig:
    settings = await SettingsRepository(session, project_id).get()
    if settings is None:
        raise ProjectNotFound()
    return to_schema(settings)


async def read(process_cache: ProcessCache, project_id: str) -> ProjectConfig:
    return await process_cache.get_or_load(
        "project_settings", project_id, lambda session: _load(session, project_id)
    )


async def read_in(session: AsyncSession, project_id: str) -> ProjectConfig:
    """The settings as `session`'s transaction sees them, for code that has a session but no cache."""
    return await _load(session, project_id)


async def read_for(session: AsyncSession, project_id: str) -> ProjectConfig:
    """The settings as a request reads them: through this worker's cache when the session belongs to
    a request (which attaches it), else as the session's transaction sees them. For code that does
    not change the settings itself, such as describing an account in an event."""
    process_cache = cache.attached_to(session)
    return await (read(process_cache, project_id) if process_cache is not None else _load(session, project_id))


async def update(session: AsyncSession, principal: Principal, changes: ProjectConfigUpdate) -> ProjectConfig:
    assert principal.project_id is not None
    settings = await SettingsRepository(session, principal.project_id).get(for_update=True)
    if settings is None:
        raise ProjectNotFound()
    before = to_schema(settings).model_dump(mode="json")
    apply(settings, changes)
    await session.flush()
    await cache.invalidate(session)
    after = to_schema(settings)
    # No setting holds a secret, so the log keeps old and new values alike.
    changed = audit.changed(before, after.model_dump(mode="json"))
    if changed:
        target = audit.Target("project_settings", principal.project_id, principal.project_id)
        await audit.record(session, principal, "project_settings.updated", target, details={"changes": changed})
    return after
