from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request, Response

from tenantry.cache import Cache
from tenantry.db import Session
from tenantry.errors import ProjectNotFound, Unauthenticated, responses
from tenantry.settings import service
from tenantry.auth.principal import project_principal
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


@dataclass(frozen=True)
class _Template:
    path_format: str


_TEMPLATE = _Template(router.prefix)


async def read_fast(request: Request) -> Response:
    """`GET /org/project/config`, the authenticated hot path, as a plain Starlette endpoint.

    It does what `get` above does (same key check, scope check, rate limit and body) without
    FastAPI's per-request dependency solving and response validation, which cost several times the
    work itself (docs/benchmarks.md). `get` stays the documented route; tenantry.hot_path answers
    GET and HEAD with this one, ahead of FastAPI's middlewares.
    """
    # Scope checks look a route up by its template below the version prefix, as `get` has it.
    request.scope.setdefault("route", _TEMPLATE)
    principal = await project_principal(request, request.headers.get("x-api-key"))
    assert principal.project_id is not None
    body = await service.read_json(request.app.state.cache, principal.project_id)
    return Response(body, media_type="application/json")
