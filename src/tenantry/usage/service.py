"""Usage metering and its reports (reference §3.10–3.13, §10).

Every tool execution is metered as one `tool_calls` event, written by the execution's log insert
in the same statement (tenantry.logs); every MCP session as one `sessions` event through
`meter_session`. Reports aggregate those events, so they are exact under any concurrency.
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.errors import InvalidRequest
from tenantry.usage import schemas
from tenantry.usage.repository import UsageRepository, UsageWriter, Window

# entity type -> (unit, group_by values, default group_by)
ENTITY_TYPES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "tool_calls": ("count", ("tool_slug", "toolkit_slug", "connected_account_id", "user_id", "session_id"), "tool_slug"),
    "sessions": ("count", ("user_id", "session_id"), "user_id"),
}
DEFAULT_SPAN = timedelta(days=30)
MAX_SPAN = timedelta(days=366)


def _ms(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def meter_session(
    session: AsyncSession, project_id: str, *, user_id: str | None, session_id: str | None = None
) -> None:
    """Meters one MCP session of `project_id` (an already-authorized project), in the caller's transaction."""
    await UsageWriter(session).add(project_id, "sessions", now_ms(), user_id=user_id, session_id=session_id)


async def _window(session: AsyncSession, principal: Principal, query: schemas.SummaryQuery | schemas.BreakdownQuery, *, org: bool) -> Window:
    end = int(query.to) if query.to is not None else now_ms()
    start = int(query.from_) if query.from_ is not None else end - _ms(DEFAULT_SPAN)
    if start >= end:
        raise InvalidRequest.field("from", "must be before to")
    if end - start > _ms(MAX_SPAN):
        raise InvalidRequest.field("to", "the range may span at most 366 days")
    filters = query.filters or schemas.Filters()
    project_ids = None
    if org and filters.project_id:
        # Each must be a live project of the caller's organization; any other is a 404.
        project_ids = [(await tenancy.project_of_org(session, principal, project_id)).id for project_id in filters.project_id]
    return Window(start, end, filters.user_id, filters.session_id, project_ids)


def _base(principal: Principal, org: bool):  # type: ignore[no-untyped-def]
    return tenancy.org_usage_events(principal) if org else tenancy.project_usage_events(principal)


async def summary(session: AsyncSession, principal: Principal, query: schemas.SummaryQuery, *, org: bool) -> schemas.Summary:
    wanted = list(dict.fromkeys(query.entity_types or ENTITY_TYPES))
    unknown = [name for name in wanted if name not in ENTITY_TYPES]
    if unknown:
        raise InvalidRequest.field("entity_types", f"unknown entity type {unknown[0]!r}; known: {', '.join(ENTITY_TYPES)}")
    window = await _window(session, principal, query, org=org)
    totals = await UsageRepository(session, _base(principal, org)).by_entity_type(window, wanted)
    entities = {}
    for name in wanted:
        total = totals.get(name)
        count, quantity = (total.event_count, total.quantity) if total else (0, 0)
        entities[name] = schemas.EntityTotal(unit=ENTITY_TYPES[name][0], total_quantity=str(quantity), event_count=count)
    return schemas.Summary(entities=entities)


async def breakdown(
    session: AsyncSession, principal: Principal, entity_type: str, query: schemas.BreakdownQuery, *, org: bool
) -> schemas.Breakdown:
    if entity_type not in ENTITY_TYPES:
        raise InvalidRequest.field("entity_type", f"unknown entity type {entity_type!r}; known: {', '.join(ENTITY_TYPES)}")
    unit, allowed, default = ENTITY_TYPES[entity_type]
    allowed = (*allowed, "project_id") if org else allowed
    group_by = query.group_by or default
    if group_by not in allowed:
        raise InvalidRequest.field("group_by", f"{entity_type} can be grouped by {', '.join(allowed)}")
    window = await _window(session, principal, query, org=org)
    repository = UsageRepository(session, _base(principal, org))
    total = (await repository.by_entity_type(window, [entity_type])).get(entity_type)
    groups = await repository.groups(window, entity_type, group_by, query.order_by, query.order_direction == "desc", query.limit)
    return schemas.Breakdown(
        entity_type=entity_type,
        unit=unit,
        total_quantity=str(total.quantity if total else 0),
        event_count=total.event_count if total else 0,
        groups=[schemas.Group(key=group.key, total_quantity=str(group.quantity), event_count=group.event_count) for group in groups],
    )
