"""Benchmark: the memory of one worker while it executes tools, from its first call to the 100,000th.

The same set-up as bench/tools.py (a loopback API, a bearer-token account, Tenantry pinned to
CPU 0 and wrk with the API it calls on CPU 1), then `POST /tools/execute/{slug}` in back-to-back
wrk runs until `--executes` calls have been answered. The server's resident set (VmRSS, and its
high-water mark VmHWM, from /proc) is read before the first call, after the warm-up, and after
each run, so growth shows as a slope: a cache without a bound, or a log queue that never drains,
would grow with the count; a flat line after the warm-up is what a long-running worker needs.

    .venv/bin/python bench/memory.py [--executes 100000] [--segment 10] [--no-postgres]

Prints a markdown table per database and writes the raw numbers to bench/results/memory.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness import (
    RESULTS_DIR,
    add_backend_arguments,
    backends,
    environment,
    markdown_table,
    safe_url,
    scratch_database,
    stop_cleanly_on_sigterm,
    temporary_directory,
    uvicorn_server,
    write_json,
)
from tools import SERVER_CPU, prepare, tool_apis, wrk_request


def resident_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of process `pid`, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def run_backend(args: argparse.Namespace, workdir: Path, database_url: str | None) -> list[dict[str, Any]]:
    with tool_apis(workdir, database_url) as (direct_url, api_url, env, organization):
        with uvicorn_server("tenantry.main:create_app", env=env, log_dir=workdir, cpus=SERVER_CPU) as base_url:
            samples = [{"executes": 0, **resident_kib(base_url.pid)}]
            _, targets = prepare(base_url, api_url, direct_url, organization)
            url, headers, body = targets["execute"]
            done = 0
            while done < args.executes:
                load = argparse.Namespace(threads=2, connections=args.connections, warmup=0, duration=args.segment)
                done += wrk_request(url, headers, body, load, workdir).requests
                samples.append({"executes": done, **resident_kib(base_url.pid)})
                print(f"{'sqlite' if database_url is None else 'postgresql'}: {samples[-1]}", file=sys.stderr)
    return samples


def render(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> str:
    sections = []
    for backend, samples in results.items():
        # The first sample after the warm-up is the baseline the rest is compared with.
        base = samples[1] if len(samples) > 1 else samples[0]
        rows = [
            [
                f"{sample['executes']:,}",
                f"{sample['VmRSS'] / 1024:.1f}",
                f"{sample['VmHWM'] / 1024:.1f}",
                f"{(sample['VmRSS'] - base['VmRSS']) / 1024:+.1f}",
            ]
            for sample in samples
        ]
        sections.append(
            f"{backend}: one worker's memory, {args.connections} connections\n\n"
            + markdown_table(["executes answered", "RSS MiB", "peak RSS MiB", "RSS vs first run"], rows)
        )
    return "\n\n".join(sections)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executes", type=int, default=100_000, help="tool calls to answer before stopping")
    parser.add_argument("--segment", type=float, default=10, help="seconds of each wrk run between two readings")
    parser.add_argument("--connections", type=int, default=16, help="concurrent wrk connections")
    add_backend_arguments(parser)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "memory.json")
    args = parser.parse_args()
    stop_cleanly_on_sigterm()
    results = {}
    for backend, admin_url in backends(args.postgres_url, args.no_postgres).items():
        with temporary_directory(f"bench_memory_{backend}_") as workdir, scratch_database(admin_url, "bench_memory") as database_url:
            results[backend] = run_backend(args, workdir, database_url)
    print(render(results, args))
    settings = {key: value for key, value in vars(args).items() if key != "output"} | {"postgres_url": safe_url(args.postgres_url)}
    path = write_json(args.output, {"environment": environment(), "settings": settings, "results": results})
    print(f"\nraw results: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
