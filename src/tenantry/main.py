"""create_app(): the ASGI application `tenantry serve` runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from tenantry import __version__, errors
from tenantry.api import CURRENT_PREFIX, PREVIOUS_PREFIX, routes
from tenantry.auth.principal import LastUsedRecorder
from tenantry.cache import ProcessCache
from tenantry.config import Settings, get_settings
from tenantry.db import create_engine, create_sessionmaker


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

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
