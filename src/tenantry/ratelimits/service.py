"""The organization's per-project rate-limit overrides."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import audit, cache
from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.ratelimits import schemas
from tenantry.ratelimits.limiter import RateLimiter
from tenantry.ratelimits.repository import RateLimitRepository, load_override

def _schema(project_id: str, override: int | None, limiter_requests: int, window_seconds: int) -> schemas.RateLimit:
    if override is not None:
        return schemas.RateLimit(project_id=project_id, requests_per_window=override, window_size_seconds=window_seconds, source="project")
    return schemas.RateLimit(
        project_id=project_id,
        requests_per_window=limiter_requests or None,
        window_size_seconds=window_seconds,
        source="organization",
    )


async def get(session: AsyncSession, principal: Principal, project_id: str, limiter: RateLimiter) -> schemas.RateLimit:
    project = await tenancy.project_of_org(session, principal, project_id)
    override = await load_override(session, project.id)
    return _schema(project.id, override, limiter.requests, limiter.window_seconds)


async def update(
    session: AsyncSession, principal: Principal, project_id: str, change: schemas.RateLimitUpdate, limiter: RateLimiter
) -> schemas.RateLimit:
    project = await tenancy.project_of_org(session, principal, project_id, for_update=True)
    repository = RateLimitRepository(session, project.id)
    if change.requests_per_window is None:
        await repository.remove()
    else:
        await repository.put(change.requests_per_window)
    await audit.record(
        session, principal, "project.rate_limit_changed", project, details={"requests_per_window": change.requests_per_window}
    )
    # Every worker drops its cached overrides once this commits.
    await cache.invalidate(session)
    return _schema(project.id, change.requests_per_window, limiter.requests, limiter.window_seconds)
