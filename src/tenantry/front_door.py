"""The one front door: every API route is found by an index and run through a short chain.

Through FastAPI alone, a request paid for every layer Starlette and FastAPI put around a route
(the error and exception middlewares, the exit-stack and body-limit middlewares, telemetry) and
for route matching that tries the routes in order, each included router matched twice: a route
late in the table (`/healthz`, the organization's routes) cost several times a bare FastAPI
handler before any of its own work (docs/benchmarks.md §6). `TenantryApp` answers every route
of the JSON API (`/api/…` and `/healthz`) itself:

- `RouteIndex` finds the route from the path's segment count and its first segments, then
  asks only those few candidates, in their registration order, whether they match (so the
  first route that matches wins, as in Starlette);
- the route runs in the same chain the app's middlewares form (request id, rate-limit
  headers), with the same exception handlers; an error nobody handled is answered with the
  envelope and not re-raised, so the client's keep-alive connection stays usable;
- a path that exists with other methods is answered 405 with every method it has in `Allow`.

Anything else (the dashboard, the browser pages, /docs, the MCP mount, unknown paths) goes
through FastAPI's full stack, unchanged. Routes are mounted flat (`mount`), not with
`include_router`, so both the index and FastAPI see plain `APIRoute`s with their full paths.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from tenantry import errors
from tenantry.kit.request_id import RequestIdMiddleware
from tenantry.ratelimits.limiter import RateLimitHeaders

logger = logging.getLogger("tenantry.front_door")

# The index keys a route by its segment count and this many leading segments, all of which
# must be literal: "/api/v3.1/auth_configs/{nanoid}" -> (5, ("", "api", "v3.1", "auth_configs")).
_KEY_SEGMENTS = 4
INDEXED_PREFIXES = ("/api/", "/healthz")


def mount(app: FastAPI, router: APIRouter, prefix: str, *, include_in_schema: bool = True) -> None:
    """Adds the router's routes to the app at `prefix` as plain routes (what include_router did
    before FastAPI began wrapping included routers, which it then matches level by level)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"{route!r}: only API routes can be mounted flat")
        app.add_api_route(
            prefix + route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=list(route.tags),
            dependencies=list(route.dependencies),
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=dict(route.responses),
            deprecated=route.deprecated,
            methods=sorted(route.methods),
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema and include_in_schema,
            response_class=route.response_class,
            name=route.name,
            openapi_extra=route.openapi_extra,
        )


def _key(path: str) -> tuple[int, tuple[str, ...]] | None:
    segments = path.split("/")
    head = tuple(segments[:_KEY_SEGMENTS])
    if len(segments) < _KEY_SEGMENTS:
        head = tuple(segments)
    if any("{" in segment for segment in head):
        return None
    return len(segments), head


class RouteIndex:
    """The API routes, bucketed by `_key`; each bucket keeps the routes' registration order."""

    def __init__(self, routes: Iterable[Any]) -> None:
        self._buckets: dict[tuple[int, tuple[str, ...]], list[APIRoute]] = {}
        for route in routes:
            if not isinstance(route, APIRoute) or not route.path.startswith(INDEXED_PREFIXES):
                continue
            key = _key(route.path)
            if key is None:
                raise ValueError(f"{route.path}: the front door needs literal leading segments")
            self._buckets.setdefault(key, []).append(route)

    def find(self, scope: Scope) -> tuple[APIRoute | None, dict[str, Any], frozenset[str]]:
        """The route that matches fully and its child scope; else the methods the path has (for 405)."""
        key = _key(scope["path"])
        allowed: set[str] = set()
        for route in self._buckets.get(key, ()) if key is not None else ():
            match, child = route.matches(scope)
            if match is Match.FULL:
                return route, child, frozenset()
            if match is Match.PARTIAL:
                allowed |= route.methods
        return None, {}, frozenset(allowed)


class TenantryApp(FastAPI):
    """FastAPI, with the JSON API answered through the front door (see the module's docstring)."""

    _index: RouteIndex | None = None

    def build_front_door(self) -> None:
        """Indexes the routes; called once every route is added (create_app's last step)."""
        self._index = RouteIndex(self.router.routes)
        handlers = {kind: handler for kind, handler in self.exception_handlers.items() if kind is not Exception}
        self._handlers = (handlers, {})
        self._chain = RequestIdMiddleware(RateLimitHeaders(self._dispatch))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._index is not None and scope["type"] == "http" and scope["path"].startswith(INDEXED_PREFIXES):
            route, child, allowed = self._index.find(scope)
            if route is not None:
                scope["app"] = self
                scope.update(child)
                await self._chain(scope, receive, send)
                return
            if allowed:
                scope["app"] = self
                await self._not_allowed(scope, receive, send, allowed)
                return
        try:
            await super().__call__(scope, receive, send)
        except Exception:  # noqa: BLE001 - already answered (500) and logged by errors.unexpected
            # Starlette re-raises after answering, and the server would then close the connection.
            if scope["type"] != "http":
                raise

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        scope["starlette.exception_handlers"] = self._handlers
        try:
            # FastAPI keeps uploaded files open until this stack closes, after the response.
            async with contextlib.AsyncExitStack() as stack:
                scope["fastapi_middleware_astack"] = stack
                await scope["route"].handle(scope, receive, tracking_send)
        except Exception as error:  # noqa: BLE001 - answered with the envelope, like any route's
            if started:
                logger.exception("error after the response started on %s %s", scope["method"], scope["path"])
                return
            await errors.unexpected(Request(scope, receive), error)(scope, receive, send)

    async def _not_allowed(self, scope: Scope, receive: Receive, send: Send, allowed: frozenset[str]) -> None:
        methods = ", ".join(sorted(allowed))
        error = errors.AppError(f"Method {scope['method']} is not allowed here; this path takes {methods}", headers={"Allow": methods})
        error.status, error.code, error.slug = 405, 900, "Request_Error"

        async def answer(scope: Scope, receive: Receive, send: Send) -> None:
            await errors.render(Request(scope, receive), error)(scope, receive, send)

        await RequestIdMiddleware(answer)(scope, receive, send)
