"""Benchmark 4: what tool execution adds to a call of the toolkit's API, and what metering costs.

A loopback API (bench/tool_api.py, one bearer-authenticated GET) is called three ways, on the
same uvicorn settings, interleaved for several rounds (medians reported):

  direct     wrk straight at the API, with the bearer token;
  execute    POST /api/v3.1/tools/execute/BENCH_GET_ITEM through Tenantry with a connected account:
             account lookup, credential unsealing, the call, the log and its usage event;
  proxy      POST /api/v3.1/tools/execute/proxy for the same endpoint.

Pinning, so that the load generator never takes the measured server's core: Tenantry runs on
CPU 0, and so does the API that `direct` calls; wrk runs on CPU 1 with a second copy of the API,
the one Tenantry's toolkit calls (PostgreSQL is not pinned). Each measured server has a core of
its own, and what Tenantry adds is measured against the same API given the same core.

Then, in this process against the same database, the writes of execution logs (each with its
usage event) are timed two ways: one log per transaction, and the queue's way (tenantry.logs.queue),
a batch of 100 per transaction, reported per log.

    .venv/bin/python bench/tools.py [--duration 10] [--rounds 3] [--no-postgres] [--no-metering]

Prints markdown tables and writes the raw numbers to bench/results/tools.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from harness import (
    BENCH_DIR,
    RESULTS_DIR,
    BenchmarkError,
    WrkResult,
    environment,
    expect,
    markdown_table,
    median_result,
    parse_wrk,
    profiled,
    stop_cleanly_on_sigterm,
    temporary_directory,
    tenantry_cli,
    tenantry_env,
    top_frames,
    uvicorn_server,
    write_json,
)
from harness import add_backend_arguments, backends, safe_url, scratch_database
from tenantry.db import create_engine, create_sessionmaker, unit_of_work
from tenantry.kit.time import utcnow
from tenantry.logs import service as logs
from tenantry.logs.repository import Entry, LogWriter

TOKEN = "bench-token-0123456789abcdef"
MODES = ("direct", "execute", "proxy")
# The measured servers' core, and the load generator's (with the API Tenantry calls).
SERVER_CPU, CLIENT_CPU = "0", "1"
BATCH = 100


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds of measured load per mode and round")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of unmeasured load before each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over the three modes")
    parser.add_argument("--connections", type=int, default=16, help="concurrent wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--transactions", type=int, default=2000, help="logs written per way")
    parser.add_argument("--profile", action="store_true", help="sample Tenantry with py-spy during the last round's execute load")
    parser.add_argument("--no-metering", action="store_true", help="skip timing the log writes (for a source without the queue)")
    add_backend_arguments(parser)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "tools.json")
    return parser.parse_args()


def main() -> int:
    args = parse_arguments()
    stop_cleanly_on_sigterm()
    measured = backends(args.postgres_url, args.no_postgres)
    results = {}
    for backend, admin_url in measured.items():
        with temporary_directory(f"bench_tools_{backend}_") as workdir, scratch_database(admin_url, "bench_tools") as database_url:
            results[backend] = run_backend(args, workdir, database_url)
    print(render(results, args))
    path = write_json(
        args.output,
        {
            "environment": environment(),
            "settings": {key: value for key, value in vars(args).items() if key != "output"}
            | {"postgres_url": safe_url(args.postgres_url)},
            "results": results,
        },
    )
    print(f"\nraw results: {path}", file=sys.stderr)
    return 0


def run_backend(args: argparse.Namespace, workdir: Path, database_url: str | None) -> dict[str, Any]:
    with tool_apis(workdir, database_url) as (direct_url, api_url, env, organization):
        runs: dict[str, list[WrkResult]] = {mode: [] for mode in MODES}
        with uvicorn_server("tenantry.main:create_app", env=env, log_dir=workdir, cpus=SERVER_CPU) as base_url:
            project_id, targets = prepare(base_url, api_url, direct_url, organization)
            for round_number in range(1, args.rounds + 1):
                shift = (round_number - 1) % len(MODES)
                for mode in MODES[shift:] + MODES[:shift]:
                    url, headers, body = targets[mode]
                    profile = workdir / "execute.prof" if args.profile and mode == "execute" and round_number == args.rounds else None
                    with profiled(base_url, profile) if profile else contextlib.nullcontext():
                        result = wrk_request(url, headers, body, args, workdir)
                    if profile:
                        execute_frames = top_frames(profile)
                        # The collapsed stacks themselves, for a flame graph or a closer look.
                        kept = Path(args.output).with_suffix(f".{'sqlite' if database_url is None else 'postgresql'}.execute.prof")
                        kept.write_bytes(profile.read_bytes())
                    runs[mode].append(result)
                    print(
                        f"{'sqlite' if database_url is None else 'postgresql'} round {round_number}/{args.rounds} {mode:8} "
                        f"{result.requests_per_second:8.0f} req/s  p50 {result.latency_p50_ms:6.2f} ms  p99 {result.latency_p99_ms:6.2f} ms",
                        file=sys.stderr,
                    )
        url = database_url or f"sqlite+aiosqlite:///{(workdir / 'data' / 'tenantry.db').resolve()}"
        metering = None if args.no_metering else asyncio.run(time_metering(url, project_id, args.transactions))
    medians = {mode: median_result(results) for mode, results in runs.items()}
    measured = {"runs": runs, "medians": medians, "ratios": ratios(medians), "metering": metering}
    if args.profile:
        measured["execute_top_frames"] = execute_frames
    return measured


@contextlib.contextmanager
def tool_apis(workdir: Path, database_url: str | None) -> Iterator[tuple[str, str, dict[str, str], dict[str, str]]]:
    """The loopback API twice (the copy `direct` calls on the server's core, the copy Tenantry
    calls on the load generator's), and the environment and organization of a Tenantry that
    calls it: (direct URL, API URL, env, organization)."""
    api_env = {**tenantry_env(workdir / "api"), "BENCH_API_TOKEN": TOKEN}
    with (
        uvicorn_server("tool_api:create_tool_api", env=api_env, log_dir=workdir, app_dir=BENCH_DIR, cpus=SERVER_CPU) as direct_url,
        uvicorn_server("tool_api:create_tool_api", env=api_env, log_dir=workdir, app_dir=BENCH_DIR, cpus=CLIENT_CPU) as api_url,
    ):
        env = tenantry_env(workdir / "data", database_url)
        toolkits = workdir / "toolkits.toml"
        toolkits.write_text(toolkit_file(api_url))
        env["TENANTRY_TOOLKITS_FILE"] = str(toolkits)
        organization = json.loads(tenantry_cli("org", "create", "bench", "--json", env=env))
        yield direct_url, api_url, env, organization


def toolkit_file(api_url: str) -> str:
    return f'''
[toolkits.bench]
name = "Bench API"
base_url = "{api_url}/v1"
auth_schemes = [{{ mode = "BEARER_TOKEN", name = "bench_token" }}]

[[toolkits.bench.tools]]
slug = "BENCH_GET_ITEM"
name = "Get an item"
input_parameters = {{ type = "object", required = ["item"], properties = {{ item = {{ type = "string" }} }} }}
request = {{ method = "GET", path = "/items/{{item}}" }}
'''


def prepare(
    base_url: str, api_url: str, direct_url: str, organization: dict[str, str]
) -> tuple[str, dict[str, tuple[str, dict[str, str], str | None]]]:
    """A project, a bearer-token account, and proof that every mode answers the same item."""
    with httpx.Client(base_url=f"{base_url}/api/v3.1", timeout=30) as client:
        project = expect(
            client.post("/org/owner/project/new", json={"name": "bench", "should_create_api_key": True}, headers={"x-org-api-key": organization["api_key"]}),
            200, "creating the project",
        ).json()
        headers = {"x-api-key": project["api_key"], "content-type": "application/json"}
        auth_config = expect(
            client.post("/auth_configs", json={"toolkit": {"slug": "bench"}, "auth_config": {"type": "use_custom_auth", "authScheme": "BEARER_TOKEN"}}, headers=headers),
            201, "creating the auth config",
        ).json()["auth_config"]["id"]
        account = expect(
            client.post("/connected_accounts", headers=headers, json={
                "auth_config": {"id": auth_config},
                "connection": {"user_id": "bench", "state": {"authScheme": "BEARER_TOKEN", "val": {"status": "ACTIVE", "token": TOKEN}}},
            }),
            201, "connecting the account",
        ).json()["id"]
        execute_body = json.dumps({"connected_account_id": account, "arguments": {"item": "42"}})
        proxy_body = json.dumps({"connected_account_id": account, "endpoint": "/items/42", "method": "GET"})
        direct = expect(httpx.get(f"{direct_url}/v1/items/42", headers={"authorization": f"Bearer {TOKEN}"}), 200, "the API").json()
        executed = expect(client.post("/tools/execute/BENCH_GET_ITEM", content=execute_body, headers=headers), 200, "execute").json()
        proxied = expect(client.post("/tools/execute/proxy", content=proxy_body, headers=headers), 200, "proxy").json()
        if not executed["successful"] or executed["data"] != direct or proxied["data"] != direct:
            raise BenchmarkError(f"the modes disagree: {direct} / {executed} / {proxied}")
        if TOKEN in json.dumps(executed) + json.dumps(proxied):
            raise BenchmarkError("the token reached the caller")
    return project["id"], {
        "direct": (f"{direct_url}/v1/items/42", {"authorization": f"Bearer {TOKEN}"}, None),
        "execute": (f"{base_url}/api/v3.1/tools/execute/BENCH_GET_ITEM", headers, execute_body),
        "proxy": (f"{base_url}/api/v3.1/tools/execute/proxy", headers, proxy_body),
    }


def wrk_request(url: str, headers: dict[str, str], body: str | None, args: argparse.Namespace, workdir: Path) -> WrkResult:
    """wrk against `url`, POSTing `body` when there is one; fails on any non-2xx answer."""
    # A 10 s timeout rather than wrk's 2 s: a slow answer is measured, not counted as an error.
    command = ["taskset", "-c", CLIENT_CPU, "wrk", f"-t{args.threads}", f"-c{args.connections}", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if body is not None:
        script = workdir / "post.lua"
        script.write_text(f"wrk.method = \"POST\"\nwrk.body = {json.dumps(body)}\n")
        command += ["-s", str(script)]
    for seconds, measured in ((args.warmup, False), (args.duration, True)):
        if seconds <= 0:
            continue
        completed = subprocess.run([*command, f"-d{seconds:g}s", url], capture_output=True, text=True)
        if completed.returncode != 0:
            raise BenchmarkError(f"wrk failed:\n{completed.stderr}")
        if measured:
            result = parse_wrk(completed.stdout)
            if result.non_2xx_responses or any(result.socket_errors.values()):
                raise BenchmarkError(f"wrk saw {result.non_2xx_responses} non-2xx answers and {result.socket_errors} on {url}")
            return result
    raise BenchmarkError("nothing was measured")


async def time_metering(url: str, project_id: str, transactions: int) -> dict[str, Any]:
    """Writing execution logs with their usage events: one per transaction, and batched as the queue does."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def entry() -> Entry:
        return Entry(
            log_id=logs.new_log_id(), project_id=project_id, kind="tool", tool_slug="BENCH_GET_ITEM", toolkit_slug="bench",
            connected_account_id="ca_benchbenchbe", auth_config_id="ac_benchbenchbe", user_id="bench", session_id=None,
            request_id=None, started_at=utcnow(), duration_ms=3, status="success", message="BENCH_GET_ITEM succeeded",
            private_message="BENCH_GET_ITEM succeeded", http_status=200, source="bench",
            payload={"request": {"arguments": {"item": "42"}}, "response": {"data": {"id": "42", "name": "A benchmark item"}}},
        )

    async def one() -> int:
        async with unit_of_work(sessionmaker) as session:
            await LogWriter(session).add_many([entry()])
        return 1

    async def batched() -> int:
        async with unit_of_work(sessionmaker) as session:
            await LogWriter(session).add_many([entry() for _ in range(BATCH)])
        return BATCH

    ways: dict[str, Callable[[], Any]] = {"one log per transaction": one, f"{BATCH} logs per transaction": batched}
    report: dict[str, Any] = {}
    try:
        for _ in range(20):  # warm the pool and the statement caches
            await one()
            await batched()
        samples: dict[str, list[float]] = {name: [] for name in ways}
        counted: dict[str, int] = {}
        written = dict.fromkeys(ways, 0)
        # Alternate the two ways (a batch, then as many single logs) so drift in the machine's
        # load falls on both alike.
        for _ in range(max(1, transactions // BATCH)):
            for name, way in ways.items():
                while True:
                    before = len(statements)
                    started = time.perf_counter()
                    count = await way()
                    samples[name].append((time.perf_counter() - started) * 1000 / count)
                    counted[name] = len(statements) - before
                    written[name] += count
                    if written[name] % BATCH == 0:
                        break
        for name, values in samples.items():
            ordered = sorted(values)
            report[name] = {
                "logs": written[name],
                "mean_ms_per_log": statistics.fmean(values),
                "p50_ms_per_log": ordered[len(ordered) // 2],
                "statements_per_transaction": counted[name],
            }
    finally:
        await engine.dispose()
    report["ratio_p50"] = report["one log per transaction"]["p50_ms_per_log"] / report[f"{BATCH} logs per transaction"]["p50_ms_per_log"]
    return report


def ratios(medians: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    direct = medians["direct"]
    return {
        f"{mode}/direct": {
            "requests_per_second": medians[mode]["requests_per_second"] / direct["requests_per_second"],
            "latency_p50_ms": medians[mode]["latency_p50_ms"] / direct["latency_p50_ms"],
            "added_p50_ms": medians[mode]["latency_p50_ms"] - direct["latency_p50_ms"],
        }
        for mode in ("execute", "proxy")
    }


def render(results: dict[str, Any], args: argparse.Namespace) -> str:
    parts = []
    for backend, result in results.items():
        rows = [
            [mode, f"{m['requests_per_second']:,.0f}", f"{m['latency_p50_ms']:.2f}", f"{m['latency_p99_ms']:.2f}"]
            for mode, m in result["medians"].items()
        ]
        rows += [
            [name, f"{r['requests_per_second']:.2f}×", f"{r['latency_p50_ms']:.2f}× (+{r['added_p50_ms']:.2f} ms)", ""]
            for name, r in result["ratios"].items()
        ]
        for frame, own, total in result.get("execute_top_frames", []):
            parts.append(f"    {own:5.1f}% self {total:5.1f}% total  {frame}")
        parts += [
            f"Execution on {backend}, medians of {args.rounds} rounds of {args.duration:g} s "
            f"(wrk -t{args.threads} -c{args.connections} on CPU {CLIENT_CPU}, 1 uvicorn worker each, servers on CPU {SERVER_CPU})",
            "",
            markdown_table(["mode", "requests/s", "p50 ms", "p99 ms"], rows),
            "",
        ]
        metering = result["metering"]
        if metering is None:
            continue
        rows = [
            [name, str(m["logs"]), f"{m['mean_ms_per_log']:.3f}", f"{m['p50_ms_per_log']:.3f}", str(m["statements_per_transaction"])]
            for name, m in metering.items()
            if isinstance(m, dict)
        ]
        parts += [
            f"Writing execution logs with their usage on {backend}, alternated "
            f"(one per transaction / batched, per log at p50: {metering['ratio_p50']:.1f}×)",
            "",
            markdown_table(["way", "logs", "mean ms per log", "p50 ms per log", "statements"], rows),
            "",
        ]
    return "\n".join(parts)


if __name__ == "__main__":
    sys.exit(main())
