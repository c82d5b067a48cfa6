"""Benchmark 3: webhook delivery throughput, and what emitting an event adds to a request.

On the embedded SQLite and, when reachable, on PostgreSQL, one Tenantry server (one uvicorn
worker, which also runs the delivery worker) delivers to a receiver in its own process on
loopback. Each database is measured three ways in one run:

  drain       N messages are written to the outbox while the server is stopped (through
              `events.emit`, as a request would), then the server starts and delivers them:
              messages/s from the first arrival to the last. The baseline is the receiver's
              own capacity: the same bodies POSTed by a bare httpx client at the same
              concurrency as the outbox worker's.
  end to end  K concurrent API clients create connected accounts, each of which emits an
              event: messages/s from the first request to the last delivery. The baseline is
              the same requests against a project with no subscription (requests/s).
  emit cost   the latency of `PATCH /connected_accounts/{id}/status` (an account disabled and
              enabled in turn, each change an event), sequential, rounds interleaved:
              a project with no subscription (baseline), one whose subscription does not want
              the event, and one whose subscription does (the event built, a message and an
              outbox row written). Requests are spaced by `--gap` ms so that each is timed on
              its own, not beside the delivery of the one before; what deliveries cost the
              server shows in the throughput rows.

    .venv/bin/python bench/webhooks.py [--messages 2000] [--requests 300] [--gap 100] [--no-postgres]

Prints markdown tables and writes the raw numbers to bench/results/webhooks.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from tenantry.config import Settings
from harness import (
    add_backend_arguments,
    backends,
    scratch_database,
    RESULTS_DIR,
    BenchmarkError,
    environment,
    expect,
    markdown_table,
    pin_this_process,
    profiled,
    top_frames,
    stop_cleanly_on_sigterm,
    temporary_directory,
    tenantry_cli,
    tenantry_env,
    uvicorn_server,
    write_json,
)

BENCH_DIR = Path(__file__).resolve().parent
# The server has a core of its own; the receiver and this process (which emits) share the other.
SERVER_CPU, RECEIVER_CPU = "0", "1"
SERVER_DEFAULT_CONCURRENCY = Settings.model_fields["outbox_concurrency"].default
EVENT = "composio.connected_account.active"
TOGGLED = ("composio.connected_account.disabled", "composio.connected_account.active")


# --- the receiver (its own uvicorn process) ----------------------------------------------------


def receiver_app() -> Any:
    """Answers 200 to every delivery and remembers, per path, when each webhook-id first arrived.

    A bare ASGI callable rather than a framework's app, so that the receiver costs little of the
    machine beside the server it measures: on uvicorn with httptools it takes several thousand
    POSTs a second on one core.
    """
    first_seen: dict[str, dict[str, float]] = {}
    arrivals: dict[str, int] = {}

    async def reply(send: Any, status: int, body: bytes, content_type: bytes = b"text/plain") -> None:
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})
        await send({"type": "http.response.body", "body": body})

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        kind, _, path = scope["path"].strip("/").partition("/")
        if kind == "hook" and scope["method"] == "POST":
            more = True
            while more:
                more = (await receive()).get("more_body", False)
            arrivals[path] = arrivals.get(path, 0) + 1
            webhook_id = next((value.decode() for name, value in scope["headers"] if name == b"webhook-id"), secrets.token_hex(8))
            first_seen.setdefault(path, {}).setdefault(webhook_id, time.time())
            await reply(send, 200, b"ok")
        elif kind == "stats":
            seen = first_seen.get(path, {})
            moments = sorted(seen.values())
            stats: dict[str, Any] = {
                "unique": len(moments),
                "arrivals": arrivals.get(path, 0),
                "first": moments[0] if moments else None,
                "last": moments[-1] if moments else None,
            }
            if scope.get("query_string") == b"times=1":
                stats["times"] = seen
            await reply(send, 200, json.dumps(stats).encode(), b"application/json")
        else:
            await reply(send, 404, b"not found")

    return app


def receiver_stats(hook: str, times: bool = False) -> dict[str, Any]:
    return dict(httpx.get(hook.replace("/hook/", "/stats/"), params={"times": 1} if times else None, timeout=60).json())


def wait_for_deliveries(hook: str, count: int, timeout: float = 600) -> dict[str, Any]:
    """Waits until `count` distinct messages reached the receiver's `hook` URL; its stats."""
    deadline = time.monotonic() + timeout
    while True:
        stats = receiver_stats(hook)
        if stats["unique"] >= count:
            return stats
        if time.monotonic() > deadline:
            raise BenchmarkError(f"only {stats['unique']} of {count} messages arrived within {timeout:.0f} s")
        time.sleep(0.02)


# --- the API ----------------------------------------------------------------------------------


def create_project(client: httpx.Client, org_key: str) -> dict[str, str]:
    response = client.post(
        "/org/owner/project/new",
        json={"name": f"bench-{secrets.token_hex(4)}", "should_create_api_key": True},
        headers={"x-org-api-key": org_key},
    )
    created = expect(response, 200, "create a project").json()
    headers = {"x-api-key": created["api_key"]}
    auth_config = expect(
        client.post(
            "/auth_configs",
            json={"toolkit": {"slug": "stripe"}, "auth_config": {"type": "use_custom_auth", "authScheme": "API_KEY"}},
            headers=headers,
        ),
        201,
        "create an auth config",
    ).json()["auth_config"]["id"]
    return {"id": created["id"], "key": created["api_key"], "auth_config": auth_config}


def account_body(project: dict[str, str], number: int) -> dict[str, Any]:
    return {
        "auth_config": {"id": project["auth_config"]},
        "connection": {"user_id": f"user-{number}", "state": {"authScheme": "API_KEY", "val": {"api_key": f"sk_live_bench_{number:08d}"}}},
    }


def subscribe(client: httpx.Client, project: dict[str, str], url: str, enabled_events: list[str]) -> str:
    response = client.post(
        "/webhook_subscriptions",
        json={"webhook_url": url, "enabled_events": enabled_events},
        headers={"x-api-key": project["key"]},
    )
    return str(expect(response, 201, "subscribe").json()["id"])


# --- the three measurements --------------------------------------------------------------------


async def post_bare(url: str, bodies: list[bytes], concurrency: int) -> float:
    """The receiver's capacity: the same POSTs from a bare client (aiohttp, as the server's); messages/s."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    async with aiohttp.ClientSession() as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                headers = {"content-type": "application/json", "webhook-id": f"msg_{secrets.token_hex(16)}"}
                async with client.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise BenchmarkError(f"the receiver answered {response.status}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(bodies) / (time.perf_counter() - started)


async def emit_backlog(database_url: str, project_id: str, count: int) -> list[str]:
    """Writes `count` events to the outbox the way a request does, in one transaction."""
    from tenantry.db import create_engine, create_sessionmaker, unit_of_work
    from tenantry.webhooks import events

    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            sent = []
            for number in range(count):
                data = {"id": f"ca_{number:012d}", "status": "ACTIVE", "user_id": f"user-{number}", "toolkit": {"slug": "stripe"}}
                message_id = await events.emit(session, project_id, EVENT, data)
                if message_id is None:
                    raise BenchmarkError("the subscription did not take the event")
                sent.append(message_id)
        return sent
    finally:
        await engine.dispose()


async def emit_steadily(database_url: str, project_id: str, rate: float, duration: float, tick: float) -> dict[str, float]:
    """Emits `rate` events a second for `duration` seconds, one transaction every `tick` seconds
    (as a stream of requests would commit them); returns each message id's commit moment."""
    from tenantry.db import create_engine, create_sessionmaker, unit_of_work
    from tenantry.webhooks import events

    engine = create_engine(database_url)
    sessionmaker = create_sessionmaker(engine)
    committed: dict[str, float] = {}
    per_tick = max(1, round(rate * tick))
    try:
        started = time.monotonic()
        for number in range(int(duration / tick)):
            pause = started + number * tick - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            async with unit_of_work(sessionmaker) as session:
                sent = []
                for serial in range(number * per_tick, (number + 1) * per_tick):
                    data = {"id": f"ca_{serial:012d}", "status": "ACTIVE", "user_id": f"user-{serial}", "toolkit": {"slug": "stripe"}}
                    message_id = await events.emit(session, project_id, EVENT, data)
                    if message_id is None:
                        raise BenchmarkError("the subscription did not take the event")
                    sent.append(message_id)
            moment = time.time()
            committed.update((message_id, moment) for message_id in sent)
        return committed
    finally:
        await engine.dispose()


def sustained(database_url: str, project: dict[str, str], hook: str, args: argparse.Namespace) -> dict[str, Any]:
    """Events emitted at a steady rate by another process, delivered as they come: the rate
    delivered, and how long each event took from its commit to its first arrival."""
    emitted_at = asyncio.run(emit_steadily(database_url, project["id"], args.rate, args.duration, args.tick))
    emitted_for = max(emitted_at.values()) - min(emitted_at.values())
    stats = wait_for_deliveries(hook, len(emitted_at))
    arrived = receiver_stats(hook, times=True)["times"]
    delays = [(arrived[message_id] - moment) * 1000 for message_id, moment in emitted_at.items()]
    first = min(emitted_at.values())
    return {
        "messages": len(emitted_at),
        "emitted_per_second": len(emitted_at) / emitted_for,
        "delivered_per_second": len(emitted_at) / (stats["last"] - first),
        "emit_to_delivery_p50_ms": statistics.median(delays),
        "emit_to_delivery_p99_ms": percentile(delays, 0.99),
        "emit_to_delivery_max_ms": max(delays),
        "arrivals": stats["arrivals"],
    }


async def create_accounts(base_url: str, project: dict[str, str], count: int, concurrency: int) -> float:
    """`count` account creations from `concurrency` clients; returns the moment the first was sent."""
    numbers = iter(range(count))
    async with httpx.AsyncClient(base_url=base_url, timeout=60, headers={"x-api-key": project["key"]}) as client:

        async def worker() -> None:
            for number in numbers:
                response = await client.post("/connected_accounts", json=account_body(project, number))
                if response.status_code != 201:
                    raise BenchmarkError(f"create a connected account: {response.status_code} {response.text}")

        started = time.time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def latencies(
    client: httpx.Client, project: dict[str, str], account_id: str, count: int, enabled: list[bool], gap: float
) -> list[float]:
    """`count` status changes of one account, each alternating; milliseconds each."""
    measured = []
    for _ in range(count):
        time.sleep(gap)
        enabled[0] = not enabled[0]
        started = time.perf_counter()
        response = client.patch(
            f"/connected_accounts/{account_id}/status", json={"enabled": enabled[0]}, headers={"x-api-key": project["key"]}
        )
        measured.append((time.perf_counter() - started) * 1000)
        expect(response, 200, "change an account's status")
    return measured


def keep_profile(profile: Path, args: argparse.Namespace, database_url: str | None, phase: str, result: dict[str, Any]) -> None:
    """Keeps py-spy's stacks beside the JSON results, and their top frames in it."""
    kept = Path(args.output).with_suffix(f".{'sqlite' if database_url is None else 'postgresql'}.{phase}.prof")
    kept.write_bytes(profile.read_bytes())
    result[f"{phase}_profile_top"] = top_frames(profile)


def run_backend(args: argparse.Namespace, workdir: Path, database_url: str | None, receiver: str) -> dict[str, Any]:
    env = {
        **tenantry_env(workdir / "data", database_url),
        "TENANTRY_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "TENANTRY_WEBHOOK_ALLOW_HTTP": "true",
    }
    if args.outbox_concurrency is not None:
        env["TENANTRY_OUTBOX_CONCURRENCY"] = str(args.outbox_concurrency)
    url = database_url or f"sqlite+aiosqlite:///{(workdir / 'data' / 'tenantry.db').resolve()}"
    tenantry_cli("db", "upgrade", env=env)
    org_key = json.loads(tenantry_cli("org", "create", "bench-webhooks", "--json", env=env))["api_key"]
    # One receiver path per measurement, so a late or repeated delivery of one cannot count in another.
    hooks = {phase: f"{receiver}/hook/{phase}-{secrets.token_hex(4)}" for phase in ("emit", "stream", "sustained", "drain", "bare")}
    result: dict[str, Any] = {}

    with uvicorn_server("tenantry.main:create_app", env=env, log_dir=workdir, cpus=SERVER_CPU) as base_url:
        with httpx.Client(base_url=f"{base_url}/api/v3.1", timeout=60) as client:
            quiet, uninterested, subscribed, streamed, steady, drained = (create_project(client, org_key) for _ in range(6))
            subscribe(client, uninterested, hooks["emit"], ["composio.connected_account.expired"])
            for project, phase in ((subscribed, "emit"), (streamed, "stream"), (steady, "sustained"), (drained, "drain")):
                subscribe(client, project, hooks[phase], [EVENT, *TOGGLED[:1]])

            if "emit" in args.phases:
                # Emit cost: interleaved rounds over three projects, one account each.
                accounts = {}
                for name, project in (("no subscription", quiet), ("not subscribed to the event", uninterested), ("subscribed", subscribed)):
                    response = client.post("/connected_accounts", json=account_body(project, 0), headers={"x-api-key": project["key"]})
                    accounts[name] = (project, expect(response, 201, "create an account").json()["id"], [True])
                timings: dict[str, list[float]] = {name: [] for name in accounts}
                for name, (project, account_id, enabled) in accounts.items():  # warm-up
                    latencies(client, project, account_id, 20, enabled, args.gap / 1000)
                per_round = max(1, args.requests // args.rounds)
                for _ in range(args.rounds):
                    for name, (project, account_id, enabled) in accounts.items():
                        timings[name] += latencies(client, project, account_id, per_round, enabled, args.gap / 1000)
                result["emit_cost"] = {
                    name: {
                        "requests": len(values),
                        "p50_ms": statistics.median(values),
                        "p90_ms": percentile(values, 0.90),
                        "p99_ms": percentile(values, 0.99),
                    }
                    for name, values in timings.items()
                }
                expected = per_round * args.rounds + 20 + 1
                result["emit_cost_deliveries"] = wait_for_deliveries(hooks["emit"], expected)

            if "stream" in args.phases:
                # End to end through the API, and the same requests with no subscription as a baseline.
                started = time.time()
                asyncio.run(create_accounts(f"{base_url}/api/v3.1", quiet, args.api_events, args.api_concurrency))
                baseline_rate = args.api_events / (time.time() - started)
                started = asyncio.run(create_accounts(f"{base_url}/api/v3.1", streamed, args.api_events, args.api_concurrency))
                stats = wait_for_deliveries(hooks["stream"], args.api_events)
                result["end_to_end"] = {
                    "messages": args.api_events,
                    "clients": args.api_concurrency,
                    "messages_per_second": args.api_events / (stats["last"] - started),
                    "baseline_requests_per_second_without_subscription": baseline_rate,
                    "arrivals": stats["arrivals"],
                }

            if "sustained" in args.phases:
                profile = workdir / "sustained.prof" if args.profile else None
                with profiled(base_url, profile) if profile else contextlib.nullcontext():
                    result["sustained"] = sustained(url, steady, hooks["sustained"], args)
                if profile:
                    keep_profile(profile, args, database_url, "sustained", result)

    if "drain" in args.phases:
        # Drain: a backlog written while no server runs, delivered by a fresh one.
        asyncio.run(emit_backlog(url, drained["id"], args.messages))
        with uvicorn_server("tenantry.main:create_app", env=env, log_dir=workdir, cpus=SERVER_CPU) as base_url:
            profile = workdir / "drain.prof" if args.profile else None
            with profiled(base_url, profile) if profile else contextlib.nullcontext():
                stats = wait_for_deliveries(hooks["drain"], args.messages)
            if profile:
                keep_profile(profile, args, database_url, "drain", result)
        bodies = [json.dumps({"id": f"msg_{n}", "type": EVENT, "data": {"id": f"ca_{n:012d}"}}).encode() for n in range(args.messages)]
        bare_rate = asyncio.run(post_bare(hooks["bare"], bodies, args.outbox_concurrency or SERVER_DEFAULT_CONCURRENCY))
        result["drain"] = {
            "messages": args.messages,
            "messages_per_second": (args.messages - 1) / (stats["last"] - stats["first"]),
            "bare_client_messages_per_second": bare_rate,
            "arrivals": stats["arrivals"],
        }
    return result


def render(results: dict[str, Any]) -> str:
    sections = []
    steady = [
        [
            backend,
            f"{run['emitted_per_second']:.0f}",
            f"{run['delivered_per_second']:.0f}",
            f"{run['emit_to_delivery_p50_ms']:.0f}",
            f"{run['emit_to_delivery_p99_ms']:.0f}",
            f"{run['emit_to_delivery_max_ms']:.0f}",
            f"{run['messages']} / {run['arrivals']}",
        ]
        for backend, result in results.items()
        if (run := result.get("sustained"))
    ]
    if steady:
        sections.append(
            "sustained: events emitted at a steady rate by another process, delivered as they come\n\n"
            + markdown_table(
                ["database", "emitted/s", "delivered/s", "commit→arrival p50 ms", "p99 ms", "max ms", "messages / arrivals"], steady
            )
        )
    drains = [
        [
            backend,
            f"{drain['messages_per_second']:.0f}",
            f"{drain['bare_client_messages_per_second']:.0f}",
            f"{drain['messages_per_second'] / drain['bare_client_messages_per_second']:.2f}",
        ]
        for backend, result in results.items()
        if (drain := result.get("drain"))
    ]
    if drains:
        sections.append("drain: a backlog delivered by a server that starts\n\n" + markdown_table(["database", "drain msg/s", "bare client msg/s", "ratio"], drains))
    streams = [
        [
            backend,
            f"{stream['messages_per_second']:.0f}",
            f"{stream['baseline_requests_per_second_without_subscription']:.0f}",
            f"{stream['messages_per_second'] / stream['baseline_requests_per_second_without_subscription']:.2f}",
        ]
        for backend, result in results.items()
        if (stream := result.get("end_to_end"))
    ]
    if streams:
        sections.append(
            "end to end: accounts created through the API, each an event\n\n"
            + markdown_table(["database", "end-to-end msg/s", "same requests, no subscription req/s", "ratio"], streams)
        )
    for backend, result in results.items():
        if not (cost := result.get("emit_cost")):
            continue
        base = cost["no subscription"]
        rows = [
            [
                name,
                f"{values['p50_ms']:.2f}",
                f"{values['p90_ms']:.2f}",
                f"{values['p99_ms']:.2f}",
                f"{values['p50_ms'] - base['p50_ms']:+.2f}",
                f"{values['p50_ms'] / base['p50_ms']:.2f}",
            ]
            for name, values in cost.items()
        ]
        sections.append(
            f"{backend}: PATCH /connected_accounts/{{id}}/status (each an event)\n\n"
            + markdown_table(["project", "p50 ms", "p90 ms", "p99 ms", "added p50 ms", "p50 ratio"], rows)
        )
    return "\n\n".join(sections)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages in the drained backlog")
    parser.add_argument("--api-events", type=int, default=1000, help="accounts created through the API, end to end")
    parser.add_argument("--api-concurrency", type=int, default=16, help="concurrent API clients, end to end")
    parser.add_argument("--requests", type=int, default=300, help="status changes timed per project for the emit cost")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the emit cost")
    parser.add_argument("--gap", type=float, default=100.0, help="milliseconds between two timed status changes")
    parser.add_argument("--outbox-concurrency", type=int, default=None, help="the servers' TENANTRY_OUTBOX_CONCURRENCY (default: theirs)")
    parser.add_argument("--rate", type=float, default=1000.0, help="events a second emitted in the sustained phase")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds the sustained phase emits for")
    parser.add_argument("--tick", type=float, default=0.01, help="seconds between two of the sustained phase's transactions")
    parser.add_argument("--phases", default="emit,stream,sustained,drain", type=lambda text: sorted(set(text.split(","))), help="which measurements")
    parser.add_argument("--profile", action="store_true", help="sample the server with py-spy while it delivers (sustained and drain)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "webhooks.json")
    add_backend_arguments(parser)
    return parser.parse_args()


def main() -> int:
    args = parse_arguments()
    stop_cleanly_on_sigterm()
    measured = backends(args.postgres_url, args.no_postgres)
    results: dict[str, Any] = {}
    with temporary_directory("bench_webhooks_receiver_") as receiver_dir:
        receiver_env = {name: value for name, value in os.environ.items() if not name.startswith("TENANTRY_")}
        pin_this_process({int(RECEIVER_CPU)})
        with uvicorn_server("webhooks:receiver_app", env=receiver_env, log_dir=receiver_dir, app_dir=BENCH_DIR, cpus=RECEIVER_CPU) as receiver:
            for backend, admin_url in measured.items():
                print(f"== {backend}", file=sys.stderr)
                with temporary_directory(f"bench_webhooks_{backend}_") as workdir, scratch_database(admin_url, "bench_webhooks") as database_url:
                    results[backend] = run_backend(args, workdir, database_url, receiver)
                    print(json.dumps(results[backend], indent=2), file=sys.stderr)
    print(render(results))
    path = write_json(
        args.output,
        {
            "environment": environment(),
            "settings": {key: value for key, value in vars(args).items() if key not in ("output", "postgres_url")},
            "backends": results,
        },
    )
    print(f"\nraw results: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
