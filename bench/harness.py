"""What both benchmarks share: starting servers, running wrk, reading its output, writing results.

Every server runs as its own uvicorn process with the same settings, so that the apps being
compared differ only in the application code. Servers and temporary directories are context
managers, so a failing benchmark still stops what it started and removes what it created.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
import importlib.util
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
# The console scripts of the venv this benchmark runs in (the `tenantry` CLI lives there).
VENV_BIN = Path(sys.executable).parent

# One worker and one event-loop/HTTP implementation for every app, so that only the app differs.
UVICORN_SETTINGS = (
    "--loop", "uvloop",
    "--http", "httptools",
    "--no-access-log",
    "--log-level", "warning",
)  # fmt: skip


class ServerUrl(str):
    """A server's base URL, carrying the pid of the process that serves it (for a profiler)."""

    pid: int


class BenchmarkError(RuntimeError):
    """The benchmark cannot produce a trustworthy number (a server error, a wrong body, ...)."""


def stop_cleanly_on_sigterm() -> None:
    """Turns SIGTERM into SystemExit, so `finally` blocks stop servers and remove temp dirs.

    (Python's default SIGTERM handling ends the process without running them.)
    """
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(128 + signal.SIGTERM))


# --- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def temporary_directory(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def tenantry_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of a Tenantry server or CLI run: ours only, whatever the caller exported."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TENANTRY_")}
    env["TENANTRY_DATA_DIR"] = str(data_dir)
    env["TENANTRY_SECRET_KEY"] = secrets.token_urlsafe(32)
    # Every request is still counted against the organization's rate limit (that cost is part of
    # what is measured), but a load generator must never reach it.
    env["TENANTRY_RATE_LIMIT_REQUESTS"] = str(10**9)
    if database_url is not None:
        env["TENANTRY_DATABASE_URL"] = database_url
    return env


def tenantry_cli(*args: str, env: Mapping[str, str]) -> str:
    """Runs the `tenantry` command of this venv and returns what it printed on stdout."""
    completed = subprocess.run(
        [str(VENV_BIN / "tenantry"), *args], env=env, capture_output=True, text=True, timeout=120
    )
    if completed.returncode != 0:
        raise BenchmarkError(f"tenantry {' '.join(args)} failed:\n{completed.stderr}")
    return completed.stdout


@contextlib.contextmanager
def uvicorn_server(
    factory: str,
    *,
    env: Mapping[str, str],
    log_dir: Path,
    app_dir: Path | None = None,
    workers: int = 1,
    cpus: str | None = None,
) -> Iterator[ServerUrl]:
    """Serves the app factory `module:function` on a free port; yields its base URL.

    `cpus` ("0", "0-1") pins the server with taskset, so that a load generator pinned to the
    other core (pin_this_process) does not take the server's CPU. The server is stopped
    (SIGTERM, then SIGKILL if it hangs) however the block ends.
    """
    port = free_port()
    command = ["taskset", "-c", cpus] if cpus is not None else []
    command += [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port)]
    if app_dir is not None:
        command += ["--app-dir", str(app_dir)]
    command += ["--workers", str(workers), *UVICORN_SETTINGS]
    log_path = log_dir / f"uvicorn-{factory.replace(':', '-')}-{port}.log"
    with open(log_path, "wb") as log:
        # Its own session, so a Ctrl-C in the terminal reaches only us and we stop it in order.
        process = subprocess.Popen(
            command, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base_url = ServerUrl(f"http://127.0.0.1:{port}")
    base_url.pid = process.pid
    try:
        _wait_until_listening(process, port, log_path)
        yield base_url
    finally:
        _stop(process)


@contextlib.contextmanager
def profiled(server: ServerUrl, output: Path) -> Iterator[None]:
    """Samples the server's Python stacks with py-spy while the block runs (collapsed stacks to `output`)."""
    command = ["py-spy", "record", "--pid", str(server.pid), "--rate", "250", "--format", "raw", "--output", str(output)]
    process = subprocess.Popen([str(VENV_BIN / "py-spy"), *command[1:]], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1)  # py-spy attaches before the load starts
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def top_frames(collapsed: Path, count: int = 25) -> list[tuple[str, float, float]]:
    """(frame, self %, total %) of the frames most often on top of the stack in py-spy's collapsed
    stacks, idle excluded: where the time goes, line by line."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, weight = line.rpartition(" ")
        frames = stack.split(";")
        # The event loop waiting for I/O is not work.
        if "select (selectors.py" in frames[-1] or "run_forever" in frames[-1] and len(frames) < 4:
            continue
        samples += int(weight)
        own[frames[-1]] = own.get(frames[-1], 0) + int(weight)
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + int(weight)
    ranked = sorted(own, key=lambda frame: -own[frame])
    return [(frame, 100 * own[frame] / samples, 100 * total[frame] / samples) for frame in ranked[:count]]


def pin_this_process(cpus: set[int]) -> None:
    """Runs this process (the load generator) on `cpus` only; see uvicorn_server's `cpus`."""
    os.sched_setaffinity(0, cpus)


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchmarkError(f"the server exited at start-up:\n{log_path.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.1)
    raise BenchmarkError(f"the server did not listen within 30 s:\n{log_path.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- wrk -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    latency_p50_ms: float
    latency_p75_ms: float
    latency_p90_ms: float
    latency_p99_ms: float
    requests: int
    non_2xx_responses: int
    socket_errors: dict[str, int]


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise BenchmarkError(f"unexpected wrk latency {text!r}")
    return float(match[1]) * _UNIT_MS[match[2]]


def parse_wrk(output: str) -> WrkResult:
    """Reads wrk's --latency report; raises when a number we rely on is missing."""
    percentiles = {
        int(p): _milliseconds(value) for p, value in re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", output, re.M)
    }
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if rate is None or total is None or not {50, 75, 90, 99} <= percentiles.keys():
        raise BenchmarkError(f"could not read wrk's output:\n{output}")
    # wrk prints these two lines only when the count is not zero.
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = dict.fromkeys(("connect", "read", "write", "timeout"), 0)
    if errors:
        socket_errors = dict(zip(socket_errors, map(int, errors.groups()), strict=True))
    return WrkResult(
        requests_per_second=float(rate[1]),
        latency_p50_ms=percentiles[50],
        latency_p75_ms=percentiles[75],
        latency_p90_ms=percentiles[90],
        latency_p99_ms=percentiles[99],
        requests=int(total[1]),
        non_2xx_responses=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=socket_errors,
    )


def wrk(
    url: str,
    *,
    headers: Mapping[str, str],
    duration: int,
    connections: int,
    threads: int = 2,
    warmup: int = 0,
) -> WrkResult:
    """Loads `url` for `duration` seconds after `warmup` unmeasured seconds.

    Fails when any response was not 2xx or any socket error happened: a benchmark that
    measures error responses would report a fast server that does not work.
    """
    base = ["wrk", f"-t{threads}", f"-c{connections}", "--latency"]
    for name, value in headers.items():
        base += ["-H", f"{name}: {value}"]
    if warmup > 0:
        _run_wrk([*base, f"-d{warmup}s", url])
    result = parse_wrk(_run_wrk([*base, f"-d{duration}s", url]))
    if result.non_2xx_responses or any(result.socket_errors.values()):
        raise BenchmarkError(
            f"wrk saw {result.non_2xx_responses} non-2xx responses and socket errors "
            f"{result.socket_errors} on {url}; the numbers would not measure a working server"
        )
    return result


def _run_wrk(command: Sequence[str]) -> str:
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise BenchmarkError(f"{' '.join(command)} failed:\n{completed.stderr}")
    return completed.stdout


def median_result(results: Sequence[WrkResult]) -> dict[str, float]:
    """Per-metric medians over rounds (each metric on its own: the machine is noisy)."""
    return {
        "requests_per_second": statistics.median(r.requests_per_second for r in results),
        "latency_p50_ms": statistics.median(r.latency_p50_ms for r in results),
        "latency_p99_ms": statistics.median(r.latency_p99_ms for r in results),
    }


def median_paired_ratio(numerators: Sequence[WrkResult], denominators: Sequence[WrkResult]) -> float:
    """The median over rounds of one round's throughput divided by the other's in the same round.

    Both were measured minutes apart at most, under much the same background load, so this
    ratio moves less with the machine's noise than the ratio of the two medians does.
    """
    if len(numerators) != len(denominators):
        raise BenchmarkError("paired ratios need one measurement of each side per round")
    return statistics.median(
        top.requests_per_second / bottom.requests_per_second
        for top, bottom in zip(numerators, denominators, strict=True)
    )


# --- HTTP checks -----------------------------------------------------------------------------


def expect(response: httpx.Response, status: int, what: str) -> httpx.Response:
    if response.status_code != status:
        raise BenchmarkError(f"{what}: expected HTTP {status}, got {response.status_code}: {response.text}")
    return response


# --- reporting -------------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    """What the numbers were measured on, recorded beside them."""
    versions = {}
    for package in (
        "fastapi",
        "starlette",
        "uvicorn",
        "uvloop",
        "httptools",
        "pydantic",
        "sqlalchemy",
        "aiosqlite",
        "asyncpg",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("[")[0]
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "wrk": wrk_version.strip(),
        "command": _command_line(),
        "source": _source_state(),
    }


def _source_state() -> dict[str, Any]:
    """Which code was measured: where `tenantry` is imported from, and the repository's commit.

    The servers inherit this process's PYTHONPATH, so they import the same copy.
    """

    def git(*args: str) -> str:
        completed = subprocess.run(["git", "-C", str(REPO_DIR), *args], capture_output=True, text=True)
        return completed.stdout.strip() if completed.returncode == 0 else "unknown"

    spec = importlib.util.find_spec("tenantry")
    package = Path(spec.origin).parent if spec and spec.origin else None
    state: dict[str, Any] = {
        "tenantry_imported_from": str(package),
        "repository_commit": git("rev-parse", "HEAD"),
    }
    if package is not None and package.is_relative_to(REPO_DIR):
        state["src_uncommitted_changes"] = bool(git("status", "--porcelain", "--", "src"))
    return state


def _command_line() -> str:
    """How this run was started, with the interpreter and script relative to the repository."""

    def shown(path: str) -> str:
        absolute = Path(os.path.abspath(path))  # normalized, but symlinks (the venv's python) kept
        return absolute.relative_to(REPO_DIR).as_posix() if absolute.is_relative_to(REPO_DIR) else path

    return " ".join([shown(sys.executable), shown(sys.argv[0]), *sys.argv[1:]])


def write_json(path: Path, payload: Mapping[str, Any]) -> Path:
    """Writes the results whole (via a .tmp file beside them), so a crash leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")
    temporary.replace(path)
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, WrkResult):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# --- scratch PostgreSQL databases ------------------------------------------------------------


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def _administer(admin_url: str, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    # CREATE/DROP DATABASE cannot run inside a transaction.
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def postgres_reachable(url: str) -> bool:
    try:
        await _administer(url, "SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - any failure to connect means "not reachable"
        return False


DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def add_backend_arguments(parser: Any, postgres_help: str = "an existing PostgreSQL database to connect to") -> None:
    """`--postgres-url` and `--no-postgres`, as every benchmark that measures both backends takes them."""
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help=postgres_help)
    parser.add_argument("--no-postgres", action="store_true", help="measure the embedded SQLite only")


def backends(postgres_url: str, no_postgres: bool) -> dict[str, str | None]:
    """The backends to measure: SQLite always, PostgreSQL at `postgres_url` unless refused or unreachable."""
    chosen: dict[str, str | None] = {"sqlite": None}
    if no_postgres:
        return chosen
    if asyncio.run(postgres_reachable(postgres_url)):
        chosen["postgresql"] = postgres_url
    else:
        print(f"PostgreSQL at {safe_url(postgres_url)} is not reachable: SQLite only", file=sys.stderr)
    return chosen


@contextlib.contextmanager
def scratch_database(admin_url: str | None, prefix: str) -> Iterator[str | None]:
    """A new, empty PostgreSQL database `prefix_…` beside `admin_url`, dropped afterwards; None for SQLite."""
    import asyncio

    from sqlalchemy.engine import make_url

    if admin_url is None:
        yield None
        return
    name = f"{prefix}_{secrets.token_hex(4)}"
    asyncio.run(_administer(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_administer(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
