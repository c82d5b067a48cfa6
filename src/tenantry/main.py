"""create_app(): the ASGI application `tenantry serve` runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from tenantry import __version__, errors
from tenantry.api import CURRENT_PREFIX, PREVIOUS_PREFIX, routes
from tenantry.auth.principal import LastUsedRecorder
from tenantry.cache import ProcessCache
from tenantry.config import Settings, get_settings
from tenantry.connected_accounts import service as connected_accounts
from tenantry.connected_accounts.pages import router as browser_pages
from tenantry.db import create_engine, create_sessionmaker

logger = logging.getLogger("tenantry")


# Unfinished initiations past their ten minutes are marked FAILED this often.
STALE_SWEEP_SECONDS = 15.0


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
        background = [
            asyncio.create_task(app.state.cache.run_poller()),
            asyncio.create_task(app.state.last_used.run()),
            asyncio.create_task(every(STALE_SWEEP_SECONDS, connected_accounts.fail_stale_initiations, sessionmaker)),
        ]
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await app.state.last_used.flush()
            await engine.dispose()

    app = FastAPI(
        title="Tenantry",
        version=__version__,
        description="Multi-tenant control plane, wire-compatible with Composio's v3.1 Projects API.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(routes(), prefix=CURRENT_PREFIX)
    app.include_router(routes(), prefix=PREVIOUS_PREFIX, include_in_schema=False)
    app.include_router(browser_pages)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
