from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from tenantry.db import ReadSession, Session
from tenantry.errors import LogNotFound, Unauthenticated, responses
from tenantry.kit.inputs import NoNul
from tenantry.logs import schemas, service
from tenantry.logs.auth import ObservabilityRead
from tenantry.logs.queue import LogsWritten

# Every route reads logs: this worker's queued ones are written first.
router = APIRouter(prefix="/logs", tags=["Logs"], dependencies=[LogsWritten])


@router.post("/tool_execution", response_model=schemas.LogList, responses=responses(Unauthenticated))
async def search(query: schemas.LogSearch, principal: ObservabilityRead, session: ReadSession) -> schemas.LogList:
    """The project's tool executions and proxy calls, newest first, filtered and paginated by cursor."""
    return await service.search(session, principal, query)


@router.get(
    "/tool_execution/{id}", response_model=schemas.LogDetail, responses=responses(Unauthenticated, LogNotFound)
)
async def get(
    log_id: Annotated[str, Path(alias="id", max_length=64, description="The log's id, `log_…`."), NoNul],
    principal: ObservabilityRead,
    session: Session,
) -> schemas.LogDetail:
    """One execution: its audit fields, timings, and the arguments and response when they were stored."""
    return await service.get(session, principal, log_id)
