"""create_app(): the ASGI application `tenantry serve` runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial

from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from tenantry import __version__, errors, outbox
from tenantry.api import CURRENT_PREFIX, PREVIOUS_PREFIX, ROUTERS
from tenantry.auth.principal import LastUsedRecorder
from tenantry.cache import ProcessCache
from tenantry.config import Settings, get_settings
from tenantry.connected_accounts import service as connected_accounts
from tenantry.connected_accounts.pages import router as browser_pages
from tenantry.dashboard import accounts as dashboard_accounts
from tenantry.dashboard.router import install as install_dashboard
from tenantry.db import create_engine, create_sessionmaker
from tenantry.front_door import TenantryApp, mount
from tenantry.kit import redaction
from tenantry.kit.request_id import RequestIdMiddleware
from tenantry.logs import service as logs
from tenantry.logs.queue import LogQueue
from tenantry.mcp.endpoint import McpEndpoint, build_server, call_tool
from tenantry.projects import lifecycle as project_lifecycle
from tenantry.ratelimits.limiter import RateLimiter, RateLimitHeaders
from tenantry.tools.outbound import Outbound
from tenantry.tools.runtime import ToolRuntime
from tenantry.webhooks import events as webhook_events
from tenantry.webhooks.delivery import Deliverer

logger = logging.getLogger("tenantry")


# Unfinished initiations past their ten minutes are marked FAILED this often.
STALE_SWEEP_SECONDS = 15.0
# Tool execution logs past their retention are deleted this often.
LOG_RETENTION_SWEEP_SECONDS = 3600.0
# Dashboard sessions past their expiry are deleted this often.
DASHBOARD_SESSION_SWEEP_SECONDS = 3600.0


async def every(seconds: float, job: Callable[..., Awaitable[object]], *args: object) -> None:
    """Runs `job` forever, `seconds` apart; a failed run is logged and retried next time."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job(*args)
        except Exception:
            logger.warning("background job %s failed; will retry", job.__qualname__, exc_info=True)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    redaction.install()
    mcp_endpoint = McpEndpoint(build_server(call_tool))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
        sessionmaker = create_sessionmaker(engine)
        app.state.sessionmaker = sessionmaker
        app.state.cache = ProcessCache(sessionmaker, settings.cache_poll_interval_seconds)
        app.state.last_used = LastUsedRecorder(sessionmaker, settings.last_used_flush_interval_seconds)
        try:
            await app.state.cache.poll_once()
        except DBAPIError as exc:
            raise RuntimeError(
                "The database is not ready (run `tenantry db upgrade` against it first)"
            ) from exc
        app.state.rate_limiter = RateLimiter(
            app.state.cache, settings.rate_limit_requests, settings.rate_limit_window_seconds, settings.redis_url
        )
        app.state.logs = LogQueue(
            sessionmaker,
            interval=settings.log_flush_interval_seconds,
            batch_size=settings.log_batch_size,
            max_pending=settings.log_queue_max,
        )
        app.state.tools = ToolRuntime(
            sessionmaker,
            app.state.cache,
            Outbound(settings.tool_timeout_seconds, settings.tool_max_response_bytes, settings.tool_max_connections),
            app.state.logs,
        )
        webhook_deliverer = Deliverer(sessionmaker, settings)
        # Every process claims and runs outbox jobs (webhook deliveries) beside serving requests.
        outbox_worker = outbox.Worker(
            sessionmaker,
            {
                webhook_events.DELIVERY: webhook_deliverer,
                project_lifecycle.REVOKE_UPSTREAM: partial(project_lifecycle.revoke_upstream, sessionmaker),
            },
            concurrency=settings.outbox_concurrency,
            lease_seconds=settings.outbox_lease_seconds,
            poll_interval=settings.outbox_poll_interval_seconds,
        )
        background = [
            # With TENANTRY_OUTBOX_CONCURRENCY=0 this process leaves background jobs to others.
            *([asyncio.create_task(outbox_worker.run())] if settings.outbox_concurrency > 0 else []),
            asyncio.create_task(app.state.cache.run_poller()),
            asyncio.create_task(app.state.last_used.run()),
            asyncio.create_task(app.state.logs.run()),
            asyncio.create_task(every(STALE_SWEEP_SECONDS, connected_accounts.fail_stale_initiations, sessionmaker)),
            asyncio.create_task(every(settings.purge_interval_seconds, project_lifecycle.purge_expired, sessionmaker)),
            asyncio.create_task(every(LOG_RETENTION_SWEEP_SECONDS, logs.delete_expired, sessionmaker)),
            asyncio.create_task(every(DASHBOARD_SESSION_SWEEP_SECONDS, dashboard_accounts.delete_expired_sessions, sessionmaker)),
        ]
        try:
            async with mcp_endpoint.sessions.run():
                yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await webhook_deliverer.aclose()
            await app.state.tools.outbound.aclose()
            await app.state.rate_limiter.aclose()
            await app.state.last_used.flush()
            await app.state.logs.close()
            await engine.dispose()

    # TenantryApp answers every API route through its front door (tenantry.front_door).
    app = TenantryApp(
        title="Tenantry",
        version=__version__,
        description="Multi-tenant control plane, wire-compatible with Composio's v3.1 Projects API.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(RateLimitHeaders)
    for router in ROUTERS:
        mount(app, router, CURRENT_PREFIX)
    for router in ROUTERS:
        mount(app, router, PREVIOUS_PREFIX, include_in_schema=False)
    app.include_router(browser_pages)
    install_dashboard(app)
    app.mount("/v3/mcp", mcp_endpoint)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.build_front_door()
    return app
