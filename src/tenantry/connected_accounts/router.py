from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query
from pydantic import Field

from tenantry.cache import Cache
from tenantry.connected_accounts import schemas, service
from tenantry.connected_accounts.auth import ConnectedAccountsRead, ConnectedAccountsWrite
from tenantry.connected_accounts.repository import ConnectedAccountFilters
from tenantry.db import Session
from tenantry.errors import (
    AliasTaken,
    AuthConfigNotFound,
    ConnectedAccountNotFound,
    InvalidRequest,
    InvalidTransition,
    Unauthenticated,
    responses,
)
from tenantry.kit.inputs import CursorParam, NoNul
from tenantry.kit.query import comma_separated
from tenantry.settings import service as settings

router = APIRouter(prefix="/connected_accounts", tags=["Connected accounts"])

AccountId = Annotated[str, Path(alias="nanoid", description="The connected account's id, `ca_…`."), NoNul]
STATUSES = {status.value for status in schemas.Status}
_STATUS = "|".join(status.value for status in schemas.Status)
# What the list below accepts, stated in the schema; the check there gives the clearer message.
Statuses = Annotated[str, Field(json_schema_extra={"pattern": f"^(({_STATUS})(,({_STATUS}))*)?$"}), NoNul]


@router.post(
    "",
    status_code=201,
    response_model=schemas.ConnectedAccountCreated,
    responses=responses(Unauthenticated, AuthConfigNotFound, AliasTaken),
)
async def create(
    payload: schemas.ConnectedAccountCreate, principal: ConnectedAccountsWrite, session: Session, cache: Cache
) -> schemas.ConnectedAccountCreated:
    """Connect an end user: with credentials (API key, bearer token, basic) or by starting OAuth2."""
    assert principal.project_id is not None
    config = await settings.read(cache, principal.project_id)
    return await service.create(session, principal, payload, config)


@router.post(
    "/link",
    status_code=201,
    response_model=schemas.LinkCreated,
    responses=responses(Unauthenticated, AuthConfigNotFound, AliasTaken),
)
async def create_link(payload: schemas.LinkCreate, principal: ConnectedAccountsWrite, session: Session) -> schemas.LinkCreated:
    """A hosted page, valid ten minutes, where the end user connects their account."""
    return await service.create_link(session, principal, payload)


@router.get("", response_model=schemas.ConnectedAccountList, responses=responses(Unauthenticated))
async def list(  # noqa: A001 - the STYLE names router functions after their verb
    principal: ConnectedAccountsRead,
    session: Session,
    cache: Cache,
    toolkit_slugs: Annotated[str | None, Query(description="Comma-separated toolkit slugs."), NoNul] = None,
    statuses: Annotated[Statuses | None, Query(description=f"Comma-separated statuses, among {', '.join(schemas.Status)}.")] = None,
    user_ids: Annotated[str | None, Query(description="Comma-separated user ids."), NoNul] = None,
    auth_config_ids: Annotated[str | None, Query(description="Comma-separated auth config ids."), NoNul] = None,
    connected_account_ids: Annotated[str | None, Query(description="Comma-separated account ids."), NoNul] = None,
    order_by: Literal["created_at", "updated_at"] = "created_at",
    order_direction: Literal["asc", "desc"] = "desc",
    account_type: Literal["PRIVATE", "SHARED", "ALL"] = "PRIVATE",
    limit: Annotated[int | None, Query(ge=1, le=1000, description="Page size, 1–1000 (default 20).")] = None,
    cursor: CursorParam = None,
) -> schemas.ConnectedAccountList:
    """The project's connected accounts; secrets masked per the project's setting."""
    wanted_statuses = comma_separated(statuses)
    unknown = sorted(set(wanted_statuses or ()) - STATUSES)
    if unknown:
        raise InvalidRequest(
            f"statuses: unknown status {', '.join(unknown)}", errors=[f"statuses: must be among {', '.join(sorted(STATUSES))}"]
        )
    filters = ConnectedAccountFilters(
        toolkit_slugs=comma_separated(toolkit_slugs),
        statuses=wanted_statuses,
        user_ids=comma_separated(user_ids),
        auth_config_ids=comma_separated(auth_config_ids),
        connected_account_ids=comma_separated(connected_account_ids),
        account_types=("PRIVATE", "SHARED") if account_type == "ALL" else (account_type,),
        order_by=order_by,
        descending=order_direction == "desc",
    )
    assert principal.project_id is not None
    config = await settings.read(cache, principal.project_id)
    return await service.list_page(session, principal, filters, config, limit=limit, cursor=cursor)


@router.get(
    "/{nanoid}", response_model=schemas.ConnectedAccount, responses=responses(Unauthenticated, ConnectedAccountNotFound)
)
async def get(account_id: AccountId, principal: ConnectedAccountsRead, session: Session, cache: Cache) -> schemas.ConnectedAccount:
    """One connected account; secrets masked per the project's setting."""
    assert principal.project_id is not None
    config = await settings.read(cache, principal.project_id)
    return await service.get(session, principal, account_id, config)


@router.patch(
    "/{nanoid}",
    response_model=schemas.ConnectedAccountUpdated,
    responses=responses(Unauthenticated, ConnectedAccountNotFound, AliasTaken),
)
async def update(
    account_id: AccountId, changes: schemas.ConnectedAccountUpdate, principal: ConnectedAccountsWrite, session: Session
) -> schemas.ConnectedAccountUpdated:
    """Change the alias or credential fields (`null` deletes a field)."""
    return await service.update(session, principal, account_id, changes)


@router.delete("/{nanoid}", response_model=schemas.Success, responses=responses(Unauthenticated, ConnectedAccountNotFound))
async def delete(account_id: AccountId, principal: ConnectedAccountsWrite, session: Session) -> schemas.Success:
    """Soft-delete a connected account."""
    return await service.delete(session, principal, account_id)


@router.patch(
    "/{nanoid}/status",
    response_model=schemas.Success,
    responses=responses(Unauthenticated, ConnectedAccountNotFound, InvalidTransition),
)
async def update_status(
    account_id: AccountId, body: schemas.StatusUpdate, principal: ConnectedAccountsWrite, session: Session
) -> schemas.Success:
    """Enable (ACTIVE) or disable (INACTIVE) an account."""
    return await service.set_enabled(session, principal, account_id, body.enabled)


@router.post(
    "/{nanoid}/refresh",
    response_model=schemas.Refreshed,
    responses=responses(Unauthenticated, ConnectedAccountNotFound, InvalidTransition),
)
async def refresh(
    account_id: AccountId,
    principal: ConnectedAccountsWrite,
    session: Session,
    redirect_url: Annotated[str | None, Query(max_length=2048), NoNul] = None,
    body: Annotated[schemas.RefreshRequest | None, Body()] = None,
) -> schemas.Refreshed:
    """Deprecated by Composio: restart an OAuth2 account's authorization flow."""
    return await service.reinitiate(session, principal, account_id, redirect_url or (body.redirect_url if body else None))
