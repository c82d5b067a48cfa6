"""The authenticated hot path, served before FastAPI's middleware stack.

`GET /org/project/config` with a project key is what every client of a project calls most; its
own work (a key digest looked up in the process cache, a rate-limit count, cached JSON bytes) is
a few microseconds. Through FastAPI it also paid for every layer FastAPI and Starlette put around
a route (error middlewares, the exit-stack and body-limit middlewares, telemetry, route matching),
which doubled its latency at the tail (docs/benchmarks.md §1). `TenantryApp` answers it from a
chain built of the same parts the app uses: the request-id and rate-limit-header middlewares,
`settings.router.read_fast` (the same key check, scope check and rate limit as the documented
route) and the same error envelope. Every other request goes through FastAPI as before.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.types import Receive, Scope, Send

from tenantry import errors
from tenantry.api import CURRENT_PREFIX, PREVIOUS_PREFIX
from tenantry.kit.request_id import RequestIdMiddleware
from tenantry.ratelimits.limiter import RateLimitHeaders
from tenantry.settings.router import read_fast
from tenantry.settings.router import router as settings_router

PATHS = frozenset(f"{prefix}{settings_router.prefix}" for prefix in (CURRENT_PREFIX, PREVIOUS_PREFIX))
METHODS = frozenset(("GET", "HEAD"))


async def _endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    try:
        response = await read_fast(request)
    except errors.AppError as error:
        response = errors.render(request, error)
    except Exception as error:  # noqa: BLE001 - answered with the envelope, and logged, like any route's
        response = errors.unexpected(request, error)
    await response(scope, receive, send)


class TenantryApp(FastAPI):
    """FastAPI, with the hot path answered before its middleware stack (see the module's docstring)."""

    _hot_path = RequestIdMiddleware(RateLimitHeaders(_endpoint))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in PATHS and scope["method"] in METHODS:
            scope["app"] = self
            await self._hot_path(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
