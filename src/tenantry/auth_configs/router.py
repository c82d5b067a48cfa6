from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query

from tenantry.auth_configs import schemas, service
from tenantry.auth_configs.auth import AuthConfigsRead, AuthConfigsWrite
from tenantry.auth_configs.repository import AuthConfigFilters
from tenantry.db import Session
from tenantry.errors import AuthConfigNotFound, Unauthenticated, responses
from tenantry.kit.inputs import CursorParam, NoNul
from tenantry.kit.query import comma_separated

router = APIRouter(prefix="/auth_configs", tags=["Auth configs"])

AuthConfigId = Annotated[str, Path(alias="nanoid", description="The auth config's id, `ac_…`."), NoNul]


@router.post(
    "",
    status_code=201,
    response_model=schemas.AuthConfigCreated,
    responses=responses(Unauthenticated),
)
async def create(payload: schemas.AuthConfigCreate, principal: AuthConfigsWrite, session: Session) -> schemas.AuthConfigCreated:
    """Create an auth config for a toolkit: the operator's managed app, or your own app credentials."""
    return await service.create(session, principal, payload)


@router.get("", response_model=schemas.AuthConfigList, responses=responses(Unauthenticated))
async def list(  # noqa: A001 - the STYLE names router functions after their verb
    principal: AuthConfigsRead,
    session: Session,
    toolkit_slug: Annotated[str | None, Query(description="One toolkit slug, or several comma-separated."), NoNul] = None,
    is_composio_managed: Annotated[bool | None, Query()] = None,
    show_disabled: Annotated[bool, Query(description="Include disabled auth configs.")] = False,
    search: Annotated[str | None, Query(max_length=255, description="Part of a name, or an exact id."), NoNul] = None,
    limit: Annotated[int | None, Query(ge=1, le=200, description="Page size, 1–200 (default 20).")] = None,
    cursor: CursorParam = None,
) -> schemas.AuthConfigList:
    """The project's auth configs, newest first."""
    filters = AuthConfigFilters(
        toolkit_slugs=comma_separated(toolkit_slug),
        is_composio_managed=is_composio_managed,
        show_disabled=show_disabled,
        search=search or None,
    )
    return await service.list_page(session, principal, filters, limit=limit, cursor=cursor)


@router.get("/{nanoid}", response_model=schemas.AuthConfig, responses=responses(Unauthenticated, AuthConfigNotFound))
async def get(auth_config_id: AuthConfigId, principal: AuthConfigsRead, session: Session) -> schemas.AuthConfig:
    """One auth config; secrets come back obfuscated."""
    return await service.get(session, principal, auth_config_id)


@router.patch("/{nanoid}", response_model=schemas.Success, responses=responses(Unauthenticated, AuthConfigNotFound))
async def update(
    auth_config_id: AuthConfigId,
    changes: Annotated[schemas.AuthConfigUpdate, Body()],
    principal: AuthConfigsWrite,
    session: Session,
) -> schemas.Success:
    """Change an auth config; omitted fields keep their value (send only `client_secret` to rotate it)."""
    return await service.update(session, principal, auth_config_id, changes)


@router.delete("/{nanoid}", response_model=schemas.Success, responses=responses(Unauthenticated, AuthConfigNotFound))
async def delete(auth_config_id: AuthConfigId, principal: AuthConfigsWrite, session: Session) -> schemas.Success:
    """Soft-delete an auth config and the connected accounts made through it."""
    return await service.delete(session, principal, auth_config_id)


@router.patch(
    "/{nanoid}/{status}", response_model=schemas.Success, responses=responses(Unauthenticated, AuthConfigNotFound)
)
async def update_status(
    auth_config_id: AuthConfigId,
    status: Annotated[Literal["ENABLED", "DISABLED"], Path()],
    principal: AuthConfigsWrite,
    session: Session,
) -> schemas.Success:
    """Enable or disable an auth config; a disabled one cannot make new connections."""
    return await service.set_status(session, principal, auth_config_id, status == "ENABLED")
