"""The HTTP client behind tool executions: CPU per request of httpx and aiohttp against one local API.

The API (bench/tool_api.py) runs on CPU 1 and this process, the client, on CPU 0, so the client's
own CPU time (`time.process_time`) is what is compared: microseconds spent per request, made one
at a time and 16 at once, in rounds that alternate the clients. Both clients keep their
connections alive, as tenantry.tools.outbound does.

    .venv/bin/python bench/http_clients.py                       # defaults: --requests 3000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from harness import (
    BENCH_DIR,
    RESULTS_DIR,
    environment,
    markdown_table,
    pin_this_process,
    temporary_directory,
    uvicorn_server,
    write_json,
)

TOKEN = "bench-http-clients"
CLIENTS = ("httpx", "aiohttp")
CONCURRENCY = (1, 16)


async def measure(send: Callable[[], Awaitable[None]], requests: int, concurrency: int) -> dict[str, float]:
    for _ in range(200):  # connections open, code warm
        await send()

    async def worker(count: int) -> None:
        for _ in range(count):
            await send()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    done = requests // concurrency * concurrency
    return {"requests_per_second": done / elapsed, "cpu_us_per_request": 1e6 * used / done}


async def one_round(url: str, requests: int) -> dict[str, dict[int, dict[str, float]]]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    results: dict[str, dict[int, dict[str, float]]] = {client: {} for client in CLIENTS}
    for concurrency in CONCURRENCY:
        async with httpx.AsyncClient(headers=headers, limits=httpx.Limits(max_connections=200, max_keepalive_connections=50)) as http:

            async def with_httpx() -> None:
                response = await http.get(url)
                response.raise_for_status()

            results["httpx"][concurrency] = await measure(with_httpx, requests, concurrency)
        async with aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=200)) as session:

            async def with_aiohttp() -> None:
                async with session.get(url) as response:
                    response.raise_for_status()
                    await response.read()

            results["aiohttp"][concurrency] = await measure(with_aiohttp, requests, concurrency)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per client, concurrency and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "http_clients.json")
    args = parser.parse_args()
    pin_this_process({0})
    rounds: list[dict[str, Any]] = []
    with temporary_directory("bench_http_clients_") as workdir:
        env = {**os.environ, "BENCH_API_TOKEN": TOKEN}
        with uvicorn_server("tool_api:create_tool_api", env=env, log_dir=workdir, app_dir=BENCH_DIR, cpus="1") as base_url:
            for number in range(1, args.rounds + 1):
                rounds.append(asyncio.run(one_round(f"{base_url}/v1/items/bench", args.requests)))
                print(f"round {number}/{args.rounds} done", file=sys.stderr)
    medians = {
        client: {
            concurrency: {key: statistics.median(r[client][concurrency][key] for r in rounds) for key in ("requests_per_second", "cpu_us_per_request")}
            for concurrency in CONCURRENCY
        }
        for client in CLIENTS
    }
    rows = [
        [client, str(concurrency), f"{medians[client][concurrency]['requests_per_second']:,.0f}", f"{medians[client][concurrency]['cpu_us_per_request']:.0f}"]
        for concurrency in CONCURRENCY
        for client in CLIENTS
    ]
    print(f"Medians of {args.rounds} rounds of {args.requests} requests (client on CPU 0, API on CPU 1)\n")
    print(markdown_table(["client", "concurrent", "requests/s", "client CPU µs per request"], rows))
    path = write_json(args.output, {"environment": environment(), "settings": vars(args) | {"output": str(args.output)}, "rounds": rounds, "medians": medians})
    print(f"\nraw results: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
