from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from tenantry.db import Session
from tenantry.errors import ProjectNotFound, Unauthenticated, responses
from tenantry.kit.inputs import NoNul
from tenantry.ratelimits import schemas, service
from tenantry.ratelimits.auth import Limiter, OrgKey

router = APIRouter(prefix="/org/owner/project", tags=["Rate limits"])

ProjectId = Annotated[str, Path(alias="nano_id", max_length=40, description="The project's id, `pr_…`."), NoNul]


@router.get("/{nano_id}/rate_limit", response_model=schemas.RateLimit, responses=responses(Unauthenticated, ProjectNotFound))
async def get(project_id: ProjectId, principal: OrgKey, session: Session, limiter: Limiter) -> schemas.RateLimit:
    """The request limit the project's keys are held to: its own, or the organization's."""
    return await service.get(session, principal, project_id, limiter)


@router.patch("/{nano_id}/rate_limit", response_model=schemas.RateLimit, responses=responses(Unauthenticated, ProjectNotFound))
async def update(
    project_id: ProjectId, change: schemas.RateLimitUpdate, principal: OrgKey, session: Session, limiter: Limiter
) -> schemas.RateLimit:
    """Give the project its own request limit per window, or `null` to hold it to the organization's again."""
    return await service.update(session, principal, project_id, change, limiter)
