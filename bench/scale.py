"""Benchmark 2: what a request costs does not depend on how many projects an organization has.

One server holds two organizations, one with 10 projects and one with 100,000, and the same
requests are timed against each in the same run:

  hot path      GET /api/v3.1/org/project/config with a project key of that organization;
  list page 1   GET /api/v3.1/org/owner/project/list?limit=10 with the org key;
  list page 100 the same with the `next_cursor` that 99 pages of following lead to (the
                10-project organization has a single page, so its page 1 is the baseline).

The large organization is seeded with direct inserts through the models (the API would take
many minutes for 100,000 creates); each organization's last project, the one whose key the hot
path uses, is created through the API. The benchmark runs on the embedded SQLite and, when it
is reachable, on PostgreSQL, and prints the plan of the page query on each: an index range scan
that stops after a page is what makes page 100 cost what page 1 costs.

    .venv/bin/python bench/scale.py [--duration 6] [--rounds 5] [--no-postgres]

Prints markdown tables and writes the raw numbers to bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import event, insert, text, update

from harness import (
    RESULTS_DIR,
    add_backend_arguments,
    backends,
    safe_url,
    scratch_database,
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
from tenantry.auth.principal import Principal
from tenantry.config import Settings
from tenantry.db import create_engine, create_sessionmaker, unit_of_work
from tenantry.kit import ids
from tenantry.kit.keys import KeyKind
from tenantry.kit.time import utcnow
from tenantry.models import Organization, Project, ProjectSettings
from tenantry.projects import service as projects_service
from tenantry.settings.service import defaults_for

CONFIG_PATH = "/api/v3.1/org/project/config"
LIST_PATH = "/api/v3.1/org/owner/project/list"
PAGE_SIZE = 10
DEEP_PAGE = 100
SMALL = 10
INSERT_BATCH = 5_000
# The partial index on live projects (org_id, created_at, id) that the page query should walk.
PAGINATION_INDEX = "ix_projects_org_id_live_created_at"

METRICS = ("requests_per_second", "latency_p50_ms", "latency_p99_ms")
# What is measured; within a round each endpoint runs against both organizations back to back.
ENDPOINTS = ("hot path", "list page 1", f"list page {DEEP_PAGE}")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds of measured load per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds over all measurements")
    parser.add_argument("--connections", type=int, default=8, help="concurrent wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_DIR / "scale.json",
        help="where to write the raw results (JSON)",
    )
    parser.add_argument("--projects", type=int, default=100_000, help="projects of the large organization")
    add_backend_arguments(
        parser, "an existing PostgreSQL database to connect to; a bench_scale_* database is created beside it"
    )
    return parser.parse_args()


def main() -> int:
    args = parse_arguments()
    stop_cleanly_on_sigterm()
    measured_on = environment()  # the date and the machine's load as the run starts
    if args.projects <= PAGE_SIZE * DEEP_PAGE:
        raise SystemExit(f"--projects must exceed {PAGE_SIZE * DEEP_PAGE} so that page {DEEP_PAGE} exists")
    measured = backends(args.postgres_url, args.no_postgres)

    results: dict[str, Any] = {}
    for backend, admin_url in measured.items():
        print(f"== {backend}", file=sys.stderr)
        with (
            temporary_directory(f"bench_scale_{backend}_") as workdir,
            scratch_database(admin_url, "bench_scale") as database_url,
        ):
            results[backend] = run_backend(args, workdir, database_url)

    print(render(results, args))
    path = write_json(
        args.output,
        {
            "environment": measured_on,
            "settings": {
                "duration_s": args.duration,
                "warmup_s": args.warmup,
                "rounds": args.rounds,
                "connections": args.connections,
                "wrk_threads": args.threads,
                "sizes": [SMALL, args.projects],
                "page_size": PAGE_SIZE,
                "deep_page": DEEP_PAGE,
                "postgres": safe_url(measured["postgresql"]) if "postgresql" in measured else None,
            },
            "backends": results,
        },
    )
    print(f"\nraw results: {path}", file=sys.stderr)
    return 0


def run_backend(args: argparse.Namespace, workdir: Path, database_url: str | None) -> dict[str, Any]:
    env = tenantry_env(workdir / "data", database_url)
    url = Settings(data_dir=workdir / "data", database_url=database_url).resolved_database_url
    tenantry_cli("db", "upgrade", env=env)
    sizes = (SMALL, args.projects)
    organizations = {
        size: json.loads(tenantry_cli("org", "create", f"scale-{size}", "--json", env=env)) for size in sizes
    }
    for size, organization in organizations.items():
        # One project fewer than the size: the last one is created through the API below.
        seconds = asyncio.run(seed(url, organization["id"], size - 1))
        print(f"seeded {size - 1:,} projects in {seconds:.1f} s", file=sys.stderr)

    with uvicorn_server("tenantry.main:create_app", env=env, log_dir=workdir) as base_url:
        targets, deep_cursors = {}, {}
        for size, organization in organizations.items():
            targets[size], deep_cursors[size] = prepare_targets(base_url, organization, size)
        deep_cursor = deep_cursors[args.projects]
        assert deep_cursor is not None
        plans = asyncio.run(explain_page_query(url, organizations[args.projects]["id"], deep_cursor))

        runs: dict[str, dict[int, list[WrkResult]]] = {endpoint: {} for endpoint in ENDPOINTS}
        for round_number in range(1, args.rounds + 1):
            # Alternate which organization goes first, so a drift in the machine's load
            # during a pair does not always favour the same size.
            order = sizes if round_number % 2 else sizes[::-1]
            for endpoint in ENDPOINTS:
                for size in order:
                    if endpoint not in targets[size]:
                        continue
                    headers, target_url = targets[size][endpoint]
                    result = wrk(
                        target_url,
                        headers=headers,
                        duration=args.duration,
                        warmup=args.warmup,
                        connections=args.connections,
                        threads=args.threads,
                    )
                    runs[endpoint].setdefault(size, []).append(result)
                    print(
                        f"round {round_number}/{args.rounds} {endpoint:13} {size:>7,} projects "
                        f"{result.requests_per_second:7.0f} req/s  p50 {result.latency_p50_ms:6.2f} ms  "
                        f"p99 {result.latency_p99_ms:6.2f} ms",
                        file=sys.stderr,
                    )
    return {
        "database_version": asyncio.run(database_version(url)),
        "plans": plans,
        "runs": runs,
        **summarize(runs, args.projects),
    }


# --- databases -------------------------------------------------------------------------------


async def database_version(url: str) -> str:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                return f"SQLite {await connection.scalar(text('SELECT sqlite_version()'))}"
            return f"PostgreSQL {await connection.scalar(text('SHOW server_version'))}"
    finally:
        await engine.dispose()


async def seed(url: str, org_id: str, count: int) -> float:
    """Inserts `count` live projects (with their settings rows) into the organization.

    Rows go in with bulk INSERTs in batches, bypassing the API but not the schema: ids, names,
    settings defaults and the organization's live_project_count are what the API would write.
    Each project has its own created_at, so the newest-first order is fully determined.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    engine = create_engine(url)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            organization = await session.get(Organization, org_id)
            assert organization is not None
            oldest = utcnow() - timedelta(milliseconds=count + 1)
            for first in range(0, count, INSERT_BATCH):
                projects, settings = [], []
                for number in range(first, min(first + INSERT_BATCH, count)):
                    project_id = ids.nano_id("pr")
                    moment = oldest + timedelta(milliseconds=number)
                    projects.append(
                        {
                            "id": project_id,
                            "org_id": org_id,
                            "name": f"seeded-{number:07d}",
                            "email": f"{project_id.lower()}@projects.tenantry.local",
                            "created_at": moment,
                            "updated_at": moment,
                        }
                    )
                    settings.append(_settings_row(project_id, organization.created_at))
                await session.execute(insert(Project), projects)
                await session.execute(insert(ProjectSettings), settings)
            await session.execute(
                update(Organization).where(Organization.id == org_id).values(live_project_count=count)
            )
        if engine.dialect.name == "postgresql":
            # Autovacuum analyzes a freshly loaded table within about a minute; doing it now
            # makes the planner's choice the same on every run instead of depending on timing.
            # (Without statistics PostgreSQL guesses 3 rows per organization and plans page 1
            # as a scan of all the organization's rows plus a top-N sort.) ANALYZE is
            # transactional: it must be committed, hence begin() rather than connect().
            async with engine.begin() as connection:
                await connection.execute(text("ANALYZE projects"))
                await connection.execute(text("ANALYZE project_settings"))
    finally:
        await engine.dispose()
    return loop.time() - started


def _settings_row(project_id: str, org_created_at: Any) -> dict[str, Any]:
    """The settings a project created through the API gets (tenantry.settings.service)."""
    row = defaults_for(project_id, org_created_at)
    return {column.key: getattr(row, column.key) for column in ProjectSettings.__table__.columns}


async def explain_page_query(url: str, org_id: str, deep_cursor: str) -> dict[str, dict[str, Any]]:
    """The plans of the SQL the list endpoint runs for page 1 and for page DEEP_PAGE.

    The SQL is captured while the endpoint's own service function builds and runs it, so the
    plan is that of the query the server runs, not of a hand-written copy.
    """
    engine = create_engine(url)
    captured: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if "FROM projects" in statement and "ORDER BY" in statement:
            captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    principal = Principal(key_id="bench", kind=KeyKind.organization, org_id=org_id, project_id=None)
    plans = {}
    try:
        for name, cursor in (("page 1", None), (f"page {DEEP_PAGE}", deep_cursor)):
            async with unit_of_work(create_sessionmaker(engine)) as session:
                captured.clear()
                await projects_service.list_page(session, principal, limit=PAGE_SIZE, cursor=cursor)
                if len(captured) != 1:
                    raise BenchmarkError(f"expected one page query, captured {len(captured)}: {captured}")
                statement, parameters = captured[0]
                connection = await session.connection()
                if engine.dialect.name == "sqlite":
                    explain = "EXPLAIN QUERY PLAN "
                    rows = (await connection.exec_driver_sql(explain + statement, parameters)).all()
                    lines = [str(row[-1]) for row in rows]
                    # SQLite names a sort it has to do "USE TEMP B-TREE FOR ORDER BY".
                    sorts = any("TEMP B-TREE" in line for line in lines)
                else:
                    explain = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
                    rows = (await connection.exec_driver_sql(explain + statement, parameters)).all()
                    lines = [str(row[0]) for row in rows]
                    sorts = any(line.lstrip(" ->").startswith(("Sort", "Incremental Sort")) for line in lines)
            plans[name] = {
                "sql": " ".join(statement.split()),
                "explain": explain.strip(),
                "text": "\n".join(lines),
                "uses_pagination_index": any(PAGINATION_INDEX in line for line in lines),
                "sorts": sorts,
            }
    finally:
        await engine.dispose()
    return plans


# --- the requests ------------------------------------------------------------------------------


Target = tuple[dict[str, str], str]  # the headers and the URL wrk loads an endpoint with


def prepare_targets(
    base_url: str, organization: dict[str, str], size: int
) -> tuple[dict[str, Target], str | None]:
    """Creates the organization's last project through the API and checks every endpoint answers
    what it should; returns the Target of each endpoint, and the cursor of page DEEP_PAGE when
    the organization has that many pages."""
    org_headers = {"x-org-api-key": organization["api_key"]}
    with httpx.Client(base_url=base_url, timeout=30) as client:
        created = expect(
            client.post(
                "/api/v3.1/org/owner/project/new",
                headers=org_headers,
                json={"name": f"hot-{size}", "should_create_api_key": True},
            ),
            200,
            "creating the hot path's project",
        ).json()
        project_headers = {"x-api-key": created["api_key"]}
        expect(client.get(CONFIG_PATH, headers=project_headers), 200, "the hot path")

        targets = {
            "hot path": (project_headers, base_url + CONFIG_PATH),
            "list page 1": (org_headers, f"{base_url}{LIST_PATH}?{urlencode({'limit': PAGE_SIZE})}"),
        }
        page = _list_page(client, org_headers, None)
        if page["total_items"] != size or page["data"][0]["id"] != created["id"]:
            raise BenchmarkError(f"page 1 of the {size}-project organization is wrong: {page}")
        if size <= PAGE_SIZE * (DEEP_PAGE - 1):
            return targets, None

        # Page N is only reachable by following next_cursor from page N-1, as a client would.
        seen = {row["id"] for row in page["data"]}
        for _ in range(DEEP_PAGE - 1):
            cursor = page["next_cursor"]
            page = _list_page(client, org_headers, cursor)
            seen.update(row["id"] for row in page["data"])
        if page["current_page"] != DEEP_PAGE or len(seen) != PAGE_SIZE * DEEP_PAGE:
            raise BenchmarkError(f"following next_cursor did not lead to page {DEEP_PAGE}: {page}")
        query = urlencode({"limit": PAGE_SIZE, "cursor": cursor})
        targets[f"list page {DEEP_PAGE}"] = (org_headers, f"{base_url}{LIST_PATH}?{query}")
        return targets, cursor


def _list_page(client: httpx.Client, headers: dict[str, str], cursor: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": PAGE_SIZE}
    if cursor is not None:
        params["cursor"] = cursor
    page = expect(client.get(LIST_PATH, headers=headers, params=params), 200, "the project list").json()
    if len(page["data"]) != PAGE_SIZE:
        raise BenchmarkError(
            f"a page of the project list holds {len(page['data'])} projects, not {PAGE_SIZE}"
        )
    return page  # type: ignore[no-any-return]


# --- report ------------------------------------------------------------------------------------


def summarize(runs: dict[str, dict[int, list[WrkResult]]], large: int) -> dict[str, Any]:
    medians = {
        endpoint: {size: median_result(results) for size, results in by_size.items()}
        for endpoint, by_size in runs.items()
    }
    ratios, paired = {}, {}
    for endpoint, by_size in medians.items():
        # The small organization has no deep page: its only page is the baseline for it.
        baseline = SMALL if SMALL in by_size else None
        baseline_median = medians[endpoint][SMALL] if baseline else medians["list page 1"][SMALL]
        baseline_runs = runs[endpoint][SMALL] if baseline else runs["list page 1"][SMALL]
        ratios[endpoint] = {
            metric: by_size[large][metric] / baseline_median[metric] for metric in baseline_median
        }
        paired[endpoint] = median_paired_ratio(runs[endpoint][large], baseline_runs)
    return {
        "medians": medians,
        "ratios_large_over_small": ratios,
        "paired_throughput_ratio_large_over_small": paired,
    }


def render(results: dict[str, Any], args: argparse.Namespace) -> str:
    sections = []
    for backend, result in results.items():
        rows = []
        for endpoint in ENDPOINTS:
            by_size, ratio = result["medians"][endpoint], result["ratios_large_over_small"][endpoint]
            small = by_size.get(SMALL)
            large = by_size[args.projects]
            rows.append(
                [
                    endpoint,
                    _cell(small) if small else "— (one page only; baseline: list page 1)",
                    _cell(large),
                    " / ".join(f"{ratio[metric]:.2f}×" for metric in METRICS),
                    f"{result['paired_throughput_ratio_large_over_small'][endpoint]:.2f}×",
                ]
            )
        header = [
            "endpoint",
            f"{SMALL} projects: req/s, p50, p99",
            f"{args.projects:,} projects: req/s, p50, p99",
            f"{args.projects // 1000}k/{SMALL}: req/s / p50 / p99",
            f"{args.projects // 1000}k/{SMALL} req/s, per round",
        ]
        plans = []
        for name, plan in result["plans"].items():
            verdict = (
                "index range scan, no sort"
                if plan["uses_pagination_index"] and not plan["sorts"]
                else "NOT an index range scan without a sort"
            )
            plans += [
                f"Page query, {name} ({plan['explain']}): {verdict}",
                "",
                "```",
                plan["text"],
                "```",
                "",
            ]
        title = f"### {backend} ({result['database_version']})"
        sections.append("\n".join([title, "", markdown_table(header, rows), "", *plans]).rstrip())
    title = (
        f"Scale, medians of {args.rounds} rounds of {args.duration} s "
        f"(wrk -t{args.threads} -c{args.connections}, 1 uvicorn worker)"
    )
    return "\n\n".join([title, *sections])


def _cell(median: dict[str, float]) -> str:
    return (
        f"{median['requests_per_second']:,.0f} req/s, "
        f"{median['latency_p50_ms']:.2f} ms, {median['latency_p99_ms']:.2f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
