"""Per-organization request limits in fixed windows, counted in this process or in Redis.

A request counts against its project's own limit when the organization gave the project one,
else against its organization's (TENANTRY_RATE_LIMIT_REQUESTS per TENANTRY_RATE_LIMIT_WINDOW_SECONDS).
Counting happens where the key is authenticated (tenantry.auth.principal.authenticate), which is
the first place that knows the organization; the pure ASGI middleware below only copies the
outcome into the response headers, so the hot path pays a dict lookup and no extra layer.

Without TENANTRY_REDIS_URL each worker counts alone, so N workers admit up to N times the limit;
with it, every worker increments one Redis counter per window (one round trip per request).
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantry.errors import RateLimited
from tenantry.ratelimits.repository import load_override

if TYPE_CHECKING:
    from tenantry.auth.principal import Principal
    from tenantry.cache import ProcessCache

logger = logging.getLogger("tenantry.ratelimits")

SCOPE_KEY = "tenantry.rate_limit"
# Per-process cache table (tenantry.cache): project id -> its own limit, None when it has none.
OVERRIDES = "rate_limit_overrides"
_UNKNOWN = object()
# Counters of old windows are dropped wholesale past this many buckets.
MAX_BUCKETS = 100_000


class LocalCounter:
    """Fixed-window counts in this process."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}

    def increment(self, bucket: str, window: int) -> int:
        seen = self._counts.get(bucket)
        count = seen[1] + 1 if seen is not None and seen[0] == window else 1
        if seen is None and len(self._counts) >= MAX_BUCKETS:
            self._counts.clear()
        self._counts[bucket] = (window, count)
        return count


class RedisCounter:
    """Fixed-window counts shared by every worker through one Redis."""

    def __init__(self, url: str) -> None:
        try:
            from redis.asyncio import Redis
        except ImportError:  # pragma: no cover - redis is a dependency; this guards a trimmed install
            raise RuntimeError("TENANTRY_REDIS_URL is set but the redis package is not installed") from None
        self._redis: Any = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    async def increment(self, bucket: str, window: int, window_seconds: int) -> int:
        key = f"tenantry:ratelimit:{bucket}:{window}"
        async with self._redis.pipeline(transaction=False) as pipeline:
            pipeline.incr(key)
            pipeline.expire(key, window_seconds * 2)
            count, _ = await pipeline.execute()
        return int(count)

    async def aclose(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    def __init__(self, cache: ProcessCache, requests: int, window_seconds: int, redis_url: str | None = None) -> None:
        self.requests = requests
        self.window_seconds = window_seconds
        self._cache = cache
        # The cache empties its tables in place, so this dict stays the one it reads and fills.
        self._overrides = cache.table(OVERRIDES)
        self._local = LocalCounter()
        self._redis = RedisCounter(redis_url) if redis_url else None
        self._window_header = f"{window_seconds}s".encode()
        self._redis_failing_since = 0.0

    async def admit_principal(self, request: Request, principal: Principal) -> None:
        """Counts the request against its project's own limit, or its organization's; 429 past it.

        Ids are prefixed by kind (`pr_`, `ok_`), so they name their buckets as they are.
        """
        project_id = principal.project_id
        override = None
        if project_id is not None:
            override = self._overrides.get(project_id, _UNKNOWN)
            if override is _UNKNOWN:
                override = await self._cache.get_or_load(OVERRIDES, project_id, lambda session: load_override(session, project_id))
        if override is not None:
            bucket, limit = project_id, override
        elif self.requests > 0:
            bucket, limit = principal.org_id, self.requests
        else:
            return
        now = time.time()
        window = int(now // self.window_seconds)
        # Counting in this process stays synchronous: no coroutine on the hot path.
        count = self._local.increment(bucket, window) if self._redis is None else await self._shared_count(bucket, window)
        holder = request.scope.get(SCOPE_KEY)
        if holder is not None and not holder:
            holder.extend(
                (
                    (b"x-ratelimit", str(limit).encode()),
                    (b"x-ratelimit-remaining", str(max(0, limit - count)).encode()),
                    (b"x-ratelimit-window-size", self._window_header),
                )
            )
        if count > limit:
            retry_after = max(1, math.ceil((window + 1) * self.window_seconds - now))
            minutes = self.window_seconds / 60
            span = f"{minutes:g} minutes" if self.window_seconds % 60 == 0 else f"{self.window_seconds} seconds"
            raise RateLimited(
                f"Rate limit exceeded. Limit: {limit} requests per {span}",
                suggested_fix=f"Retry after {retry_after} s, or ask the organization for a higher limit",
                headers={"Retry-After": str(retry_after)},
            )

    async def _shared_count(self, bucket: str, window: int) -> int:
        assert self._redis is not None
        try:
            return await self._redis.increment(bucket, window, self.window_seconds)
        except Exception:
            # Limits must not take the API down with Redis: count here until it is back.
            now = time.monotonic()
            if now - self._redis_failing_since > 60:
                logger.warning("rate limit counter in Redis unavailable; counting in this worker", exc_info=True)
                self._redis_failing_since = now
        return self._local.increment(bucket, window)

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


class RateLimitHeaders:
    """Pure ASGI middleware: adds the headers `RateLimiter.admit` recorded to the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        holder: list[tuple[bytes, bytes]] = []
        scope[SCOPE_KEY] = holder

        async def send_with_headers(message: Message) -> None:
            if holder and message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *holder]
            await send(message)

        await self.app(scope, receive, send_with_headers)
