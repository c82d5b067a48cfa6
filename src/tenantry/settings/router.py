from __future__ import annotations

from fastapi import APIRouter

from tenantry.cache import Cache
from tenantry.db import Session
from tenantry.errors import ProjectNotFound, Unauthenticated, responses
from tenantry.settings import service
from tenantry.settings.auth import ProjectKey
from tenantry.settings.schemas import ProjectConfig, ProjectConfigUpdate

router = APIRouter(prefix="/org/project/config", tags=["Project settings"])


@router.get("", response_model=ProjectConfig, responses=responses(Unauthenticated, ProjectNotFound))
async def get(principal: ProjectKey, cache: Cache) -> ProjectConfig:
    """The settings of the project the key belongs to."""
    assert principal.project_id is not None
    return await service.read(cache, principal.project_id)


@router.patch("", response_model=ProjectConfig, responses=responses(Unauthenticated, ProjectNotFound))
async def update(changes: ProjectConfigUpdate, principal: ProjectKey, session: Session) -> ProjectConfig:
    """Change some settings; fields left out keep their value."""
    assert principal.project_id is not None
    return await service.update(session, principal, changes)
