"""Who may set a project's rate limit: its organization's key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tenantry.auth.principal import Principal, org_principal
from tenantry.ratelimits.limiter import RateLimiter

OrgKey = Annotated[Principal, Depends(org_principal)]


async def _limiter(request: Request) -> RateLimiter:
    return request.app.state.rate_limiter  # type: ignore[no-any-return]


Limiter = Annotated[RateLimiter, Depends(_limiter)]
