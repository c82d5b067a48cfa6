from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from tenantry.db import ReadSession
from tenantry.errors import ProjectNotFound, Unauthenticated, responses
from tenantry.logs.queue import LogsWritten
from tenantry.usage import schemas, service
from tenantry.usage.auth import ObservabilityRead, OrgUsageRead

# Tool calls are metered by their logs: this worker's queued ones are written first.
router = APIRouter(tags=["Usage"], dependencies=[LogsWritten])

EntityType = Annotated[schemas.EntityType, Path(description="`tool_calls` or `sessions`.")]


@router.post("/project/usage/summary", response_model=schemas.Summary, responses=responses(Unauthenticated))
async def project_summary(
    principal: ObservabilityRead, session: ReadSession, query: schemas.SummaryQuery | None = None
) -> schemas.Summary:
    """The project's usage per entity type over a range of epoch milliseconds (default: the last 30 days)."""
    return await service.summary(session, principal, query or schemas.SummaryQuery(), org=False)


@router.post("/project/usage/{entity_type}", response_model=schemas.Breakdown, responses=responses(Unauthenticated))
async def project_breakdown(
    entity_type: EntityType, principal: ObservabilityRead, session: ReadSession, query: schemas.BreakdownQuery | None = None
) -> schemas.Breakdown:
    """The project's usage of one entity type, grouped by tool, toolkit, account, user or session."""
    return await service.breakdown(session, principal, entity_type, query or schemas.BreakdownQuery(), org=False)


@router.post("/org/usage/summary", response_model=schemas.Summary, responses=responses(Unauthenticated, ProjectNotFound))
async def org_summary(principal: OrgUsageRead, session: ReadSession, query: schemas.SummaryQuery | None = None) -> schemas.Summary:
    """The organization's usage across its projects, or those in `filters.project_id`."""
    return await service.summary(session, principal, query or schemas.SummaryQuery(), org=True)


@router.post("/org/usage/{entity_type}", response_model=schemas.Breakdown, responses=responses(Unauthenticated, ProjectNotFound))
async def org_breakdown(
    entity_type: EntityType, principal: OrgUsageRead, session: ReadSession, query: schemas.BreakdownQuery | None = None
) -> schemas.Breakdown:
    """The organization's usage of one entity type, grouped as the project route does or by `project_id`."""
    return await service.breakdown(session, principal, entity_type, query or schemas.BreakdownQuery(), org=True)
