"""Benchmark 3: what issue 7 adds to every request, measured in-process, without a network.

Two additions sit on the authenticated hot path:

  request id   the pure-ASGI middleware that picks the request's id, keeps it in a context
               variable and echoes it in `x-request-id` (tenantry.kit.request_id);
  scope check  for a scoped key, the lookup of the matched route's permission and the set
               membership test (tenantry.auth.scopes.require); a full-access key skips it.

Each is timed by calling it many times in a loop, against the same loop without it, so the
numbers are the cost of the addition alone: a few microseconds at most, to be read against the
hundreds of microseconds a hot-path request takes end to end (bench/hot_path.py).

    .venv/bin/python bench/auth_overhead.py [--iterations 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tenantry.auth import scopes
from tenantry.kit.request_id import RequestIdMiddleware

HEADERS = [(b"host", b"127.0.0.1:8000"), (b"x-api-key", b"ak_" + b"x" * 32), (b"accept", b"*/*")]


async def bare_app(scope: dict[str, Any], receive: Any, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    return None


async def _time_app(app: Any, iterations: int) -> float:
    scope = {"type": "http", "method": "GET", "path": "/api/v3.1/org/project/config", "headers": HEADERS}
    started = time.perf_counter()
    for _ in range(iterations):
        await app(dict(scope), _receive, _send)
    return (time.perf_counter() - started) / iterations


def _time_check(iterations: int) -> tuple[float, float]:
    class Route:
        path_format = "/auth_configs/{nanoid}"

    route = Route()
    held = scopes.granted({"auth_configs": "read_write", "connected_accounts": "read"})
    started = time.perf_counter()
    for _ in range(iterations):
        scopes.require(held, "GET", route)
    checked = (time.perf_counter() - started) / iterations
    started = time.perf_counter()
    for _ in range(iterations):
        pass
    empty = (time.perf_counter() - started) / iterations
    return checked, empty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    wrapped = RequestIdMiddleware(bare_app)
    middleware, check = [], []
    for _ in range(args.rounds):
        bare = asyncio.run(_time_app(bare_app, args.iterations))
        with_id = asyncio.run(_time_app(wrapped, args.iterations))
        middleware.append((with_id - bare) * 1e6)
        checked, empty = _time_check(args.iterations)
        check.append((checked - empty) * 1e6)
    print(f"request id middleware: {statistics.median(middleware):.2f} µs per request (median of {args.rounds})")
    print(f"scope check (scoped keys only): {statistics.median(check):.2f} µs per request (median of {args.rounds})")


if __name__ == "__main__":
    main()
