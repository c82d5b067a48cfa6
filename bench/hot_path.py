"""Benchmark 1: the authenticated hot path against bare FastAPI and bare Starlette.

`GET /api/v3.1/org/project/config` with a project key is what every request of a project
will pay for (key lookup, settings read). It is served three ways, one server at a time, on
the same uvicorn settings:

  real       Tenantry itself on the embedded SQLite, authenticating the x-api-key header;
  fastapi    bench/bare_apps.py: one FastAPI route answering the same bytes, nothing else;
  starlette  bench/bare_apps.py: one Starlette route answering the same bytes.

Each is loaded with wrk after a warm-up; the three run interleaved for several rounds and the
medians are reported, because the machine is shared and noisy. Targets: the real app keeps at
least 90% of bare FastAPI's throughput, and its p99 latency stays under 10 ms on one worker.

    .venv/bin/python bench/hot_path.py [--duration 10] [--rounds 3]

Prints a markdown table and writes the raw numbers to bench/results/hot_path.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx

from harness import (
    BENCH_DIR,
    RESULTS_DIR,
    BenchmarkError,
    WrkResult,
    environment,
    expect,
    markdown_table,
    median_paired_ratio,
    median_result,
    stop_cleanly_on_sigterm,
    temporary_directory,
    tenantry_cli,
    tenantry_env,
    uvicorn_server,
    write_json,
    wrk,
)

PATH = "/api/v3.1/org/project/config"

# What a project created with no `config` answers. require_mcp_api_key is on because the
# organization is created today, after Composio's cut-over date (tenantry.settings.service).
EXPECTED_CONFIG = {
    "is_2FA_enabled": False,
    "logo_url": None,
    "display_name": None,
    "mask_secret_keys_in_connected_account": True,
    "log_visibility_setting": "show_all",
    "require_mcp_api_key": True,
    "is_composio_link_enabled_for_managed_auth": False,
    "signed_url_file_expiry_in_seconds": 3600,
    "oauth_callback_verifier_url": None,
    "theme": None,
}

THROUGHPUT_TARGET = 0.9  # real app requests/s as a fraction of bare FastAPI's
P99_TARGET_MS = 10.0

APPS = ("real", "fastapi", "starlette")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load per app and round")
    parser.add_argument(
        "--warmup", type=int, default=3, help="seconds of unmeasured load before each measurement"
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over the three apps")
    parser.add_argument("--connections", type=int, default=32, help="concurrent wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_DIR / "hot_path.json",
        help="where to write the raw results (JSON)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args()


def main() -> int:
    args = parse_arguments()
    stop_cleanly_on_sigterm()
    measured_on = environment()  # the date and the machine's load as the run starts
    with temporary_directory("bench_hot_path_") as workdir:
        env = tenantry_env(workdir / "data")
        api_key, body = prepare_real_app(env, workdir)
        body_file = workdir / "body.json"
        body_file.write_bytes(body)
        bare_env = {**env, "BENCH_BODY_FILE": str(body_file)}

        servers: dict[str, Callable[[], AbstractContextManager[str]]] = {
            "real": lambda: uvicorn_server("tenantry.main:create_app", env=env, log_dir=workdir),
            "fastapi": lambda: uvicorn_server(
                "bare_apps:create_fastapi_app", env=bare_env, log_dir=workdir, app_dir=BENCH_DIR
            ),
            "starlette": lambda: uvicorn_server(
                "bare_apps:create_starlette_app", env=bare_env, log_dir=workdir, app_dir=BENCH_DIR
            ),
        }
        headers = {"x-api-key": api_key}
        runs: dict[str, list[WrkResult]] = {app: [] for app in APPS}
        for round_number, order in enumerate(rotations(APPS, args.rounds), start=1):
            for app in order:
                with servers[app]() as base_url:
                    # Every app must answer the very bytes the real app answered, or the
                    # comparison would weigh different payloads.
                    response = expect(httpx.get(base_url + PATH, headers=headers), 200, f"{app} app")
                    if response.content != body:
                        raise BenchmarkError(f"the {app} app answered {response.content!r}, not {body!r}")
                    result = wrk(
                        base_url + PATH,
                        headers=headers,
                        duration=args.duration,
                        warmup=args.warmup,
                        connections=args.connections,
                        threads=args.threads,
                    )
                runs[app].append(result)
                print(
                    f"round {round_number}/{args.rounds} {app:9} {result.requests_per_second:9.0f} req/s  "
                    f"p50 {result.latency_p50_ms:6.2f} ms  p99 {result.latency_p99_ms:6.2f} ms",
                    file=sys.stderr,
                )

    report = summarize(runs)
    print(render(report, args))
    path = write_json(
        args.output,
        {
            "environment": measured_on,
            "settings": {
                "path": PATH,
                "duration_s": args.duration,
                "warmup_s": args.warmup,
                "rounds": args.rounds,
                "connections": args.connections,
                "wrk_threads": args.threads,
                "response_bytes": len(body),
            },
            "runs": runs,
            **report,
        },
    )
    print(f"\nraw results: {path}", file=sys.stderr)
    passed = all(target["pass"] for target in report["targets"].values())
    return 0 if passed or not args.strict else 1


def prepare_real_app(env: dict[str, str], workdir: Path) -> tuple[str, bytes]:
    """Creates an organization and a project with a key; returns the key and the hot path's body.

    Also proves the hot path works before anything is measured: the right key gets 200 and the
    expected settings, a wrong key of the same shape gets 401.
    """
    organization = json.loads(tenantry_cli("org", "create", "bench", "--json", env=env))
    with uvicorn_server("tenantry.main:create_app", env=env, log_dir=workdir) as base_url:
        created = expect(
            httpx.post(
                base_url + "/api/v3.1/org/owner/project/new",
                headers={"x-org-api-key": organization["api_key"]},
                json={"name": "bench", "should_create_api_key": True},
            ),
            200,
            "creating the project",
        ).json()
        api_key = created["api_key"]
        response = expect(httpx.get(base_url + PATH, headers={"x-api-key": api_key}), 200, "the hot path")
        if response.json() != EXPECTED_CONFIG:
            raise BenchmarkError(f"the hot path answered {response.text}, not the default settings")
        wrong_key = api_key[:-1] + ("A" if api_key[-1] != "A" else "B")
        expect(httpx.get(base_url + PATH, headers={"x-api-key": wrong_key}), 401, "a wrong key")
        return api_key, response.content


def rotations(apps: tuple[str, ...], rounds: int) -> Iterator[tuple[str, ...]]:
    """The apps in a different order each round, so no app always runs first (or last)."""
    for number in range(rounds):
        shift = number % len(apps)
        yield apps[shift:] + apps[:shift]


def summarize(runs: dict[str, list[WrkResult]]) -> dict[str, Any]:
    medians = {app: median_result(results) for app, results in runs.items()}
    real = medians["real"]
    ratios = {
        f"real/{baseline}": {
            "requests_per_second": real["requests_per_second"] / medians[baseline]["requests_per_second"],
            "latency_p50_ms": real["latency_p50_ms"] / medians[baseline]["latency_p50_ms"],
            "latency_p99_ms": real["latency_p99_ms"] / medians[baseline]["latency_p99_ms"],
        }
        for baseline in ("fastapi", "starlette")
    }
    throughput_ratio = ratios["real/fastapi"]["requests_per_second"]
    return {
        "medians": medians,
        "ratios": ratios,
        "paired_throughput_ratios": {
            f"real/{baseline}": median_paired_ratio(runs["real"], runs[baseline])
            for baseline in ("fastapi", "starlette")
        },
        "targets": {
            "throughput_vs_fastapi": {
                "target": f">= {THROUGHPUT_TARGET}",
                "measured": throughput_ratio,
                "pass": throughput_ratio >= THROUGHPUT_TARGET,
            },
            "real_p99_ms": {
                "target": f"< {P99_TARGET_MS}",
                "measured": real["latency_p99_ms"],
                "pass": real["latency_p99_ms"] < P99_TARGET_MS,
            },
        },
    }


def render(report: dict[str, Any], args: argparse.Namespace) -> str:
    medians, ratios = report["medians"], report["ratios"]
    rows = [
        [app, f"{m['requests_per_second']:,.0f}", f"{m['latency_p50_ms']:.2f}", f"{m['latency_p99_ms']:.2f}"]
        for app, m in medians.items()
    ]
    rows += [
        [
            name,
            f"{r['requests_per_second']:.2f}×",
            f"{r['latency_p50_ms']:.2f}×",
            f"{r['latency_p99_ms']:.2f}×",
        ]
        for name, r in ratios.items()
    ]
    table = markdown_table(["app", "requests/s", "p50 ms", "p99 ms"], rows)
    paired = [
        f"- {name} requests/s, median of per-round ratios: {ratio:.2f}×"
        for name, ratio in report["paired_throughput_ratios"].items()
    ]
    verdicts = [
        f"- {name}: {target['measured']:.2f} (target {target['target']}): "
        + ("PASS" if target["pass"] else "FAIL")
        for name, target in report["targets"].items()
    ]
    title = (
        f"Hot path, medians of {args.rounds} rounds of {args.duration} s "
        f"(wrk -t{args.threads} -c{args.connections}, 1 uvicorn worker)"
    )
    return "\n".join([title, "", table, "", *paired, "", "Targets:", *verdicts])


if __name__ == "__main__":
    sys.exit(main())
