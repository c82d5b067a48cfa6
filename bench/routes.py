"""Benchmark 6: every route of the API against a bare FastAPI handler, and concurrent writes.

Part 1, sequential latency. The route table is read from the app itself; every API route must
have an entry in SAMPLES below (a request to time, or the benchmark that measures it instead),
and the run fails before measuring anything when one has none, so no new route escapes it.
Each sampled route is timed one request at a time on one keep-alive connection, against a bare
FastAPI app (bench/bare_apps.py: a GET answering fixed bytes, a POST echoing its JSON body)
measured in the same round with the same client. Requests without a body are compared with the
bare GET, requests with one with the bare POST. Writes are real: creates create, deletes delete
an entity made for them beforehand, untimed; a status change alternates between two states.

The servers (one uvicorn worker each) are pinned to CPU 0 with taskset and this process, the
load generator, to CPU 1, so the client never takes the server's core. The client is a minimal
HTTP/1.1 writer and reader on a raw socket, so its own cost per request is a few microseconds.

Part 2, concurrency: `POST /connected_accounts` from 16 wrk connections (one wrk thread, not
pinned: the servers use both cores), on SQLite with one worker and on PostgreSQL with two.

Targets (issue 17): every read route <= 2x the bare GET/POST at p50, every write <= 3x,
/healthz <= 1.2x; account creates >= 400/s on SQLite (1 worker), >= 800/s on PostgreSQL (2).

    .venv/bin/python bench/routes.py [--requests 300] [--rounds 3] [--no-postgres] [--strict]

Prints markdown tables and writes the raw numbers to bench/results/routes.json.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from harness import (
    BENCH_DIR,
    RESULTS_DIR,
    BenchmarkError,
    add_backend_arguments,
    backends,
    environment,
    expect,
    markdown_table,
    parse_wrk,
    pin_this_process,
    profiled,
    top_frames,
    safe_url,
    scratch_database,
    stop_cleanly_on_sigterm,
    temporary_directory,
    tenantry_cli,
    tenantry_env,
    uvicorn_server,
    write_json,
)

PREFIX = "/api/v3.1"
SERVER_CPU = "0"
CLIENT_CPUS = {1}
READ_TARGET, WRITE_TARGET, HEALTH_TARGET = 2.0, 3.0, 1.2
CONCURRENT_TARGETS = {"sqlite": 400.0, "postgresql": 800.0}
TOKEN = "bench-token-0123456789abcdef"
# What GET /org/project/config answers for a project created with no `config` (bench/hot_path.py).
DEFAULT_CONFIG = {
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
BARE_POST_BODY = {"name": "bench", "config": {"enabled": True, "count": 3}, "tags": ["a", "b"]}


# --- a minimal HTTP/1.1 client ----------------------------------------------------------------


class Wire:
    """One keep-alive connection; `call` sends a request and reads the whole response."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.netloc
        self.socket = socket.create_connection((parts.hostname, parts.port))
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def call(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.host}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None:
            lines += ["content-type: application/json", f"content-length: {len(body)}"]
        self.socket.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        fields = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            return status, self._read_exactly(int(fields["content-length"]))
        if fields.get("transfer-encoding") == "chunked":
            chunks = []
            while size := int(self._read_until(b"\r\n"), 16):
                chunks.append(self._read_exactly(size))
                self._read_until(b"\r\n")
            self._read_until(b"\r\n")
            return status, b"".join(chunks)
        return status, b""

    def _fill(self) -> None:
        data = self.socket.recv(65536)
        if not data:
            raise BenchmarkError("the server closed the connection")
        self.buffer += data

    def _read_until(self, marker: bytes) -> bytes:
        while (index := self.buffer.find(marker)) < 0:
            self._fill()
        found, self.buffer = self.buffer[:index], self.buffer[index + len(marker) :]
        return found

    def _read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        found, self.buffer = self.buffer[:size], self.buffer[size:]
        return found

    def close(self) -> None:
        self.socket.close()


class HttpxWire:
    """The same calls through httpx, the HTTP client of Composio's SDKs (what a user's client pays)."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=30)

    def call(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
        if body is not None:
            headers = {**headers, "content-type": "application/json"}
        response = self.client.request(method, path, headers=headers, content=body)
        return response.status_code, response.content

    def close(self) -> None:
        self.client.close()


CLIENTS = {"httpx": HttpxWire, "raw": Wire}


# --- what each route is asked ------------------------------------------------------------------


@dataclass
class World:
    """The organization, projects and entities the samples act on, made through the API."""

    http: httpx.Client
    org_key: str
    org_id: str
    user_key: str
    project_id: str
    project_key: str
    # A second project for the routes that would disturb the first (its key rotation, its webhook).
    spare_project_id: str
    spare_key: str
    auth_config_id: str
    account_id: str
    mcp_server_id: str
    subscription_id: str
    message_id: str
    log_id: str
    member_id: str
    receiver_url: str
    counter: itertools.count = field(default_factory=itertools.count)

    def headers(self, key: str) -> dict[str, str]:
        return {
            "project": {"x-api-key": self.project_key},
            "spare": {"x-api-key": self.spare_key},
            "org": {"x-org-api-key": self.org_key},
            "user": {"x-user-api-key": self.user_key},
            "none": {},
        }[key]

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{next(self.counter)}"

    def post(self, path: str, body: Any, key: str = "project", status: int = 201) -> dict[str, Any]:
        return expect(self.http.post(PREFIX + path, json=body, headers=self.headers(key)), status, f"POST {path}").json()  # type: ignore[no-any-return]

    def delete(self, path: str, key: str = "project") -> None:
        expect(self.http.delete(PREFIX + path, headers=self.headers(key)), 200, f"DELETE {path}")


Value = Callable[[World, Any], Any]


@dataclass(frozen=True)
class Sample:
    """One request to time. `path` and `body` may be functions of the world and of what the
    untimed `before` made for this request; `after` (untimed) undoes what a create made, where a
    limit would otherwise stop the run (one webhook subscription per project, 50 keys)."""

    key: str
    path: str | Value
    body: Any = None
    kind: str | None = None  # "read" or "write"; by default GET is a read and the rest writes
    before: Callable[[World], Any] | None = None
    after: Callable[[World, Any, dict[str, Any]], None] | None = None


@dataclass(frozen=True)
class Elsewhere:
    """A route this benchmark does not time, and what measures it instead (or why nothing can)."""

    reason: str


def _value(value: Any, world: World, made: Any) -> Any:
    return value(world, made) if callable(value) else value


def _account_body(world: World, user_id: str = "bench") -> dict[str, Any]:
    return {
        "auth_config": {"id": world.auth_config_id},
        "connection": {"user_id": user_id, "state": {"authScheme": "BEARER_TOKEN", "val": {"status": "ACTIVE", "token": TOKEN}}},
    }


def _new_account(world: World) -> str:
    return str(world.post("/connected_accounts", _account_body(world))["id"])


def _new_auth_config(world: World) -> str:
    body = {"toolkit": {"slug": "bench"}, "auth_config": {"type": "use_custom_auth", "authScheme": "BEARER_TOKEN", "name": world.unique("ac")}}
    return str(world.post("/auth_configs", body)["auth_config"]["id"])


def _new_mcp_server(world: World) -> str:
    return str(world.post("/mcp/servers", {"name": world.unique("mcp"), "auth_config_ids": [world.auth_config_id]})["id"])


def _new_project(world: World) -> str:
    return str(world.post("/org/owner/project/new", {"name": world.unique("p")}, key="org", status=200)["id"])


def _deleted_project(world: World) -> str:
    project_id = _new_project(world)
    world.delete(f"/org/owner/project/{project_id}", key="org")
    return project_id


def _new_project_key(world: World) -> str:
    return str(world.post(f"/org/owner/project/{world.spare_project_id}/api_keys", {"name": world.unique("k")}, key="org", status=201)["id"])


def _new_org_key(world: World) -> str:
    return str(world.post("/org/owner/api_keys", {"name": world.unique("ok")}, key="org", status=201)["id"])


def _new_member(world: World) -> str:
    return str(world.post("/org/owner/members", {"email": f"{world.unique('m')}@example.com", "name": "Bench", "role": "developer"}, key="org")["id"])


def _webhook_body(world: World, _made: Any) -> dict[str, Any]:
    # The bare app acknowledges deliveries, so they cost what a healthy receiver's would.
    return {"webhook_url": world.receiver_url, "enabled_events": ["composio.connected_account.disabled", "composio.connected_account.active"]}


def _new_spare_subscription(world: World) -> str:
    return str(world.post("/webhook_subscriptions", _webhook_body(world, None), key="spare")["id"])


def _toggle(world: World, _made: Any) -> bool:
    return next(world.counter) % 2 == 0


def _spare_subscription_deleted(world: World, _made: Any, created: dict[str, Any]) -> None:
    world.delete(f"/webhook_subscriptions/{created['id']}", key="spare")


def _org_key_revoked(world: World, _made: Any, created: dict[str, Any]) -> None:
    world.delete(f"/org/owner/api_keys/{created['id']}", key="org")


def _project_key_revoked(world: World, _made: Any, created: dict[str, Any]) -> None:
    world.delete(f"/org/owner/project/{world.spare_project_id}/api_keys/{created['id']}", key="org")


_SEARCH = {"limit": 20}
_USAGE = {}

# (method, path template) -> what to time. Every route of the app under /api/v3.1, and /healthz.
SAMPLES: dict[tuple[str, str], Sample | Elsewhere] = {
    ("GET", "/healthz"): Sample("none", "/healthz"),
    # Project settings
    ("GET", "/org/project/config"): Sample("project", "/org/project/config"),
    ("PATCH", "/org/project/config"): Sample("project", "/org/project/config", lambda w, _: {"display_name": w.unique("name")}),
    # Tools and toolkits
    ("GET", "/tools"): Sample("project", "/tools?toolkit_slug=bench"),
    ("GET", "/tools/enum"): Sample("project", "/tools/enum"),
    ("GET", "/tools/{tool_slug}"): Sample("project", "/tools/BENCH_GET_ITEM"),
    ("POST", "/tools/execute/{tool_slug}"): Elsewhere("bench/tools.py times it against a loopback upstream"),
    ("POST", "/tools/execute/proxy"): Elsewhere("bench/tools.py times it against a loopback upstream"),
    ("GET", "/toolkits"): Sample("project", "/toolkits"),
    ("GET", "/toolkits/categories"): Sample("project", "/toolkits/categories"),
    ("GET", "/toolkits/{slug}"): Sample("project", "/toolkits/bench"),
    ("GET", "/toolkits/auth/callback"): Elsewhere("an OAuth provider's redirect of an end user's browser (tests/connected_accounts)"),
    # Connected accounts
    ("POST", "/connected_accounts"): Sample("project", "/connected_accounts", lambda w, _: _account_body(w)),
    ("POST", "/connected_accounts/link"): Sample(
        "project", "/connected_accounts/link", lambda w, _: {"auth_config_id": w.auth_config_id, "user_id": w.unique("u")}
    ),
    ("GET", "/connected_accounts"): Sample("project", "/connected_accounts?limit=20"),
    ("GET", "/connected_accounts/{nanoid}"): Sample("project", lambda w, _: f"/connected_accounts/{w.account_id}"),
    ("PATCH", "/connected_accounts/{nanoid}"): Sample(
        "project", lambda w, _: f"/connected_accounts/{w.account_id}", lambda w, _: {"alias": w.unique("alias")}
    ),
    ("DELETE", "/connected_accounts/{nanoid}"): Sample("project", lambda _, made: f"/connected_accounts/{made}", before=_new_account),
    ("PATCH", "/connected_accounts/{nanoid}/status"): Sample(
        "project", lambda w, _: f"/connected_accounts/{w.account_id}/status", lambda w, made: {"enabled": _toggle(w, made)}
    ),
    ("POST", "/connected_accounts/{nanoid}/refresh"): Elsewhere(
        "restarts an OAuth flow, so it needs an OAuth toolkit and provider (tests/connected_accounts)"
    ),
    # Auth configs
    ("POST", "/auth_configs"): Sample(
        "project",
        "/auth_configs",
        lambda w, _: {"toolkit": {"slug": "bench"}, "auth_config": {"type": "use_custom_auth", "authScheme": "BEARER_TOKEN", "name": w.unique("ac")}},
    ),
    ("GET", "/auth_configs"): Sample("project", "/auth_configs?limit=20"),
    ("GET", "/auth_configs/{nanoid}"): Sample("project", lambda w, _: f"/auth_configs/{w.auth_config_id}"),
    ("PATCH", "/auth_configs/{nanoid}"): Sample(
        "project", lambda w, _: f"/auth_configs/{w.auth_config_id}", lambda w, _: {"type": "custom", "name": w.unique("ac")}
    ),
    ("DELETE", "/auth_configs/{nanoid}"): Sample("project", lambda _, made: f"/auth_configs/{made}", before=_new_auth_config),
    ("PATCH", "/auth_configs/{nanoid}/{status}"): Sample(
        "project", lambda w, made: f"/auth_configs/{w.auth_config_id}/{'ENABLED' if _toggle(w, made) else 'DISABLED'}"
    ),
    # MCP servers
    ("GET", "/mcp/servers"): Sample("project", "/mcp/servers"),
    ("POST", "/mcp/servers"): Sample("project", "/mcp/servers", lambda w, _: {"name": w.unique("mcp"), "auth_config_ids": [w.auth_config_id]}),
    ("POST", "/mcp/servers/custom"): Sample("project", "/mcp/servers/custom", lambda w, _: {"name": w.unique("mcp"), "toolkits": ["bench"]}),
    ("POST", "/mcp/servers/generate"): Sample(
        "project", "/mcp/servers/generate", lambda w, _: {"mcp_server_id": w.mcp_server_id, "user_ids": ["bench"]}, kind="read"
    ),
    ("GET", "/mcp/{id}"): Sample("project", lambda w, _: f"/mcp/{w.mcp_server_id}"),
    ("PATCH", "/mcp/{id}"): Sample("project", lambda w, _: f"/mcp/{w.mcp_server_id}", lambda w, _: {"name": w.unique("mcp")}),
    ("DELETE", "/mcp/{id}"): Sample("project", lambda _, made: f"/mcp/{made}", before=_new_mcp_server),
    # Logs and usage
    ("POST", "/logs/tool_execution"): Sample("project", "/logs/tool_execution", _SEARCH, kind="read"),
    ("GET", "/logs/tool_execution/{id}"): Sample("project", lambda w, _: f"/logs/tool_execution/{w.log_id}"),
    ("POST", "/project/usage/summary"): Sample("project", "/project/usage/summary", _USAGE, kind="read"),
    ("POST", "/project/usage/{entity_type}"): Sample("project", "/project/usage/tool_calls", _USAGE, kind="read"),
    ("POST", "/org/usage/summary"): Sample("org", "/org/usage/summary", _USAGE, kind="read"),
    ("POST", "/org/usage/{entity_type}"): Sample("org", "/org/usage/tool_calls", _USAGE, kind="read"),
    # Webhooks (one subscription per project: creates and deletes use the spare project)
    ("POST", "/webhook_subscriptions"): Sample("spare", "/webhook_subscriptions", _webhook_body, after=_spare_subscription_deleted),
    ("GET", "/webhook_subscriptions"): Sample("project", "/webhook_subscriptions"),
    ("GET", "/webhook_subscriptions/event_types"): Sample("project", "/webhook_subscriptions/event_types"),
    ("GET", "/webhook_subscriptions/{id}"): Sample("project", lambda w, _: f"/webhook_subscriptions/{w.subscription_id}"),
    ("PATCH", "/webhook_subscriptions/{id}"): Sample(
        "project", lambda w, _: f"/webhook_subscriptions/{w.subscription_id}", lambda w, made: {"enabled": True}
    ),
    ("DELETE", "/webhook_subscriptions/{id}"): Sample("spare", lambda _, made: f"/webhook_subscriptions/{made}", before=_new_spare_subscription),
    ("POST", "/webhook_subscriptions/{id}/rotate_secret"): Sample(
        "project", lambda w, _: f"/webhook_subscriptions/{w.subscription_id}/rotate_secret", {}
    ),
    ("GET", "/webhook_subscriptions/{id}/messages"): Sample("project", lambda w, _: f"/webhook_subscriptions/{w.subscription_id}/messages"),
    ("GET", "/webhook_subscriptions/{id}/messages/{message_id}"): Sample(
        "project", lambda w, _: f"/webhook_subscriptions/{w.subscription_id}/messages/{w.message_id}"
    ),
    ("POST", "/webhook_subscriptions/{id}/messages/{message_id}/resend"): Sample(
        "project", lambda w, _: f"/webhook_subscriptions/{w.subscription_id}/messages/{w.message_id}/resend", {}
    ),
    ("POST", "/webhook_subscriptions/{id}/recover"): Sample(
        "project", lambda w, _: f"/webhook_subscriptions/{w.subscription_id}/recover", {"since": "2026-01-01T00:00:00Z"}
    ),
    # Projects and their keys (organization key)
    ("POST", "/org/owner/project/new"): Sample("org", "/org/owner/project/new", lambda w, _: {"name": w.unique("p")}),
    ("GET", "/org/owner/project/list"): Sample("org", "/org/owner/project/list?limit=10"),
    ("GET", "/org/owner/project/{nano_id}"): Sample("org", lambda w, _: f"/org/owner/project/{w.project_id}"),
    ("DELETE", "/org/owner/project/{nano_id}"): Sample("org", lambda _, made: f"/org/owner/project/{made}", before=_new_project),
    ("POST", "/org/owner/project/{nano_id}/restore"): Sample("org", lambda _, made: f"/org/owner/project/{made}/restore", {}, before=_deleted_project),
    ("POST", "/org/owner/project/{nano_id}/regenerate_api_key"): Sample(
        "org", lambda _, made: f"/org/owner/project/{made}/regenerate_api_key", {}, before=_new_project
    ),
    ("POST", "/org/owner/project/{nano_id}/api_keys"): Sample(
        "org", lambda w, _: f"/org/owner/project/{w.spare_project_id}/api_keys", lambda w, _: {"name": w.unique("k")}, after=_project_key_revoked
    ),
    ("GET", "/org/owner/project/{nano_id}/api_keys"): Sample("org", lambda w, _: f"/org/owner/project/{w.project_id}/api_keys"),
    ("DELETE", "/org/owner/project/{nano_id}/api_keys/{key_id}"): Sample(
        "org", lambda w, made: f"/org/owner/project/{w.spare_project_id}/api_keys/{made}", before=_new_project_key
    ),
    ("GET", "/org/owner/project/{nano_id}/rate_limit"): Sample("org", lambda w, _: f"/org/owner/project/{w.project_id}/rate_limit"),
    ("PATCH", "/org/owner/project/{nano_id}/rate_limit"): Sample(
        "org", lambda w, _: f"/org/owner/project/{w.spare_project_id}/rate_limit", lambda w, _: {"requests_per_window": 10**8 + next(w.counter)}
    ),
    # The organization: its keys, audit log, members
    ("GET", "/org/owner/audit_log"): Sample("org", "/org/owner/audit_log?limit=20"),
    ("GET", "/org/owner/api_keys"): Sample("org", "/org/owner/api_keys"),
    ("POST", "/org/owner/api_keys"): Sample("org", "/org/owner/api_keys", lambda w, _: {"name": w.unique("ok")}, after=_org_key_revoked),
    ("DELETE", "/org/owner/api_keys/{key_id}"): Sample("org", lambda _, made: f"/org/owner/api_keys/{made}", before=_new_org_key),
    ("GET", "/org/list"): Sample("user", "/org/list"),
    ("GET", "/org/project/list"): Sample("user", lambda w, _: f"/org/project/list?org_id={w.org_id}"),
    ("GET", "/org/owner/members"): Sample("org", "/org/owner/members"),
    ("POST", "/org/owner/members"): Sample(
        "org", "/org/owner/members", lambda w, _: {"email": f"{w.unique('m')}@example.com", "name": "Bench", "role": "developer"}
    ),
    ("PATCH", "/org/owner/members/{member_id}"): Sample(
        "org", lambda w, _: f"/org/owner/members/{w.member_id}", lambda w, made: {"role": "admin" if _toggle(w, made) else "developer"}
    ),
    ("DELETE", "/org/owner/members/{member_id}"): Sample("org", lambda _, made: f"/org/owner/members/{made}", before=_new_member),
    ("POST", "/org/owner/members/{member_id}/invitation"): Sample("org", lambda w, _: f"/org/owner/members/{w.member_id}/invitation", {}),
}

# Routes outside the JSON API, each measured by something else or not a server's hot work.
OUTSIDE_THE_API = {
    "/docs": "FastAPI's own documentation pages",
    "/redoc": "FastAPI's own documentation pages",
    "/openapi.json": "built once and cached by FastAPI",
    "/dashboard": "browser pages, rendered from templates (tests/dashboard drive them)",
    "/v3/mcp": "the MCP endpoint, an ASGI app of the official SDK (tests/mcp)",
    "/link": "end users' browser pages of connection flows (tests/connected_accounts)",
    "/api/v3/": "the previous prefix, served by the same route objects as /api/v3.1",
}


def route_table() -> list[tuple[str, str]]:
    """(method, path below /api/v3.1, or /healthz) of every route the app serves."""
    from fastapi.routing import iter_route_contexts

    from tenantry.main import create_app

    table = []
    for route in iter_route_contexts(create_app().routes):
        path = route.path
        if path.startswith(PREFIX + "/"):
            path = path.removeprefix(PREFIX)
        elif path != "/healthz":
            if not any(path.startswith(outside) for outside in OUTSIDE_THE_API):
                raise BenchmarkError(f"{path} is neither under {PREFIX} nor named in OUTSIDE_THE_API")
            continue
        table += [(method, path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return table


def check_samples(table: list[tuple[str, str]]) -> None:
    missing = [route for route in table if route not in SAMPLES]
    stale = [route for route in SAMPLES if route not in table]
    if missing or stale:
        raise BenchmarkError(
            "SAMPLES must name exactly the app's routes: "
            + (f"no entry for {missing}; " if missing else "")
            + (f"entries for routes that are gone: {stale}" if stale else "")
        )


# --- part 1: sequential latency ----------------------------------------------------------------


def time_route(wire: Wire | HttpxWire, world: World, method: str, sample: Sample, count: int, warmup: int) -> list[float]:
    """Milliseconds of `count` requests, after `warmup` unmeasured ones."""
    timings = []
    headers = world.headers(sample.key)
    for index in range(warmup + count):
        made = sample.before(world) if sample.before else None
        path = _value(sample.path, world, made)
        body = _value(sample.body, world, made)
        payload = json.dumps(body).encode() if body is not None else None
        target = path if path == "/healthz" else PREFIX + path
        started = time.perf_counter()
        status, answer = wire.call(method, target, headers, payload)
        elapsed = (time.perf_counter() - started) * 1000
        if not 200 <= status < 300:
            raise BenchmarkError(f"{method} {target} answered {status}: {answer[:500]!r}")
        if sample.after:
            sample.after(world, made, json.loads(answer))
        if index >= warmup:
            timings.append(elapsed)
    return timings


def time_bare(wire: Wire | HttpxWire, method: str, count: int, warmup: int) -> list[float]:
    payload = json.dumps(BARE_POST_BODY).encode() if method == "POST" else None
    timings = []
    for index in range(warmup + count):
        started = time.perf_counter()
        status, _ = wire.call(method, "/bare", {}, payload)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise BenchmarkError(f"the bare app answered {status}")
        if index >= warmup:
            timings.append(elapsed)
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def sequential(args: argparse.Namespace, base_url: str, bare_url: str, world: World) -> dict[str, Any]:
    samples = {route: sample for route, sample in SAMPLES.items() if isinstance(sample, Sample)}
    rounds: list[dict[str, Any]] = []
    client = CLIENTS[args.client]
    real, bare = client(base_url), client(bare_url)
    try:
        for number in range(args.rounds):
            measured: dict[str, Any] = {}
            for method in ("GET", "POST"):
                timings = time_bare(bare, method, args.requests, args.warmup)
                measured[f"bare {method}"] = {"p50": percentile(timings, 0.5), "p99": percentile(timings, 0.99)}
            routes = list(samples.items())
            shift = number * len(routes) // max(1, args.rounds)
            for (method, path), sample in routes[shift:] + routes[:shift]:
                timings = time_route(real, world, method, sample, args.requests, args.warmup)
                measured[f"{method} {path}"] = {"p50": percentile(timings, 0.5), "p99": percentile(timings, 0.99)}
            rounds.append(measured)
            print(f"  round {number + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        real.close()
        bare.close()
    report = {}
    for (method, path), sample in samples.items():
        name = f"{method} {path}"
        baseline = "bare POST" if sample.body is not None else "bare GET"
        kind = sample.kind or ("read" if method == "GET" else "write")
        target = HEALTH_TARGET if path == "/healthz" else READ_TARGET if kind == "read" else WRITE_TARGET
        ratio = statistics.median(r[name]["p50"] / r[baseline]["p50"] for r in rounds)
        report[name] = {
            "key": sample.key,
            "kind": kind,
            "baseline": baseline,
            "p50_ms": statistics.median(r[name]["p50"] for r in rounds),
            "p99_ms": statistics.median(r[name]["p99"] for r in rounds),
            "ratio_p50": ratio,
            "added_p50_ms": statistics.median(r[name]["p50"] - r[baseline]["p50"] for r in rounds),
            "target": target,
            "pass": ratio <= target,
        }
    baselines = {name: {"p50_ms": statistics.median(r[name]["p50"] for r in rounds)} for name in ("bare GET", "bare POST")}
    return {"routes": report, "baselines": baselines, "rounds": rounds}


# --- part 2: concurrent creates ----------------------------------------------------------------


def concurrent_creates(args: argparse.Namespace, base_url: str, world: World, workdir: Path) -> dict[str, Any]:
    body = json.dumps(_account_body(world, "concurrent"))
    script = workdir / "create.lua"
    script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\nwrk.headers["content-type"] = "application/json"\n')
    command = ["wrk", "-t1", f"-c{args.connections}", "--latency", "--timeout", "10s", "-s", str(script), "-H", f"x-api-key: {world.project_key}"]
    results = []
    for seconds, measured in ((args.concurrent_warmup, False), (args.concurrent_duration, True)):
        completed = subprocess.run([*command, f"-d{seconds}s", f"{base_url}{PREFIX}/connected_accounts"], capture_output=True, text=True)
        if completed.returncode != 0:
            raise BenchmarkError(f"wrk failed:\n{completed.stderr}")
        result = parse_wrk(completed.stdout)
        if result.non_2xx_responses or any(result.socket_errors.values()):
            raise BenchmarkError(f"wrk saw {result.non_2xx_responses} non-2xx answers and {result.socket_errors}")
        if measured:
            results.append(result)
    return {"requests_per_second": results[0].requests_per_second, "p50_ms": results[0].latency_p50_ms, "p99_ms": results[0].latency_p99_ms}


# --- the run -----------------------------------------------------------------------------------


def toolkit_file() -> str:
    return '''
[toolkits.bench]
name = "Bench API"
base_url = "http://127.0.0.1:9/v1"
auth_schemes = [{ mode = "BEARER_TOKEN", name = "bench_token" }]

[[toolkits.bench.tools]]
slug = "BENCH_GET_ITEM"
name = "Get an item"
input_parameters = { type = "object", required = ["item"], properties = { item = { type = "string" } } }
request = { method = "GET", path = "/items/{item}" }
'''


def build_world(http: httpx.Client, env: dict[str, str], receiver_url: str) -> World:
    organization = json.loads(tenantry_cli("org", "create", "bench", "--json", env=env))
    member = json.loads(tenantry_cli("member", "create", organization["id"], "owner@example.com", "--name", "Owner", "--role", "admin", "--json", env=env))
    org = {"x-org-api-key": organization["api_key"]}

    def project(name: str) -> dict[str, Any]:
        created = http.post(f"{PREFIX}/org/owner/project/new", json={"name": name, "should_create_api_key": True}, headers=org)
        return expect(created, 200, "creating a project").json()  # type: ignore[no-any-return]

    main, spare = project("bench"), project("spare")
    world = World(
        http=http, org_key=organization["api_key"], org_id=organization["id"], user_key=member["api_key"],
        project_id=main["id"], project_key=main["api_key"], spare_project_id=spare["id"], spare_key=spare["api_key"],
        auth_config_id="", account_id="", mcp_server_id="", subscription_id="", message_id="", log_id="", member_id="",
        receiver_url=receiver_url,
    )  # fmt: skip
    world.auth_config_id = _new_auth_config(world)
    world.account_id = _new_account(world)
    world.mcp_server_id = _new_mcp_server(world)
    world.member_id = _new_member(world)
    world.subscription_id = str(world.post("/webhook_subscriptions", _webhook_body(world, None))["id"])
    # A failed execution (the upstream at port 9 refuses) still writes its log.
    execute = http.post(f"{PREFIX}/tools/execute/BENCH_GET_ITEM", json={"connected_account_id": world.account_id, "arguments": {"item": "1"}}, headers=world.headers("project"))
    logs = world.post("/logs/tool_execution", {"limit": 1}, status=200)["logs"]
    if not logs:
        raise BenchmarkError(f"the execution wrote no log: {execute.status_code} {execute.text}")
    world.log_id = logs[0]["id"]
    # An account status change emits an event, so the subscription has a message.
    expect(http.patch(f"{PREFIX}/connected_accounts/{world.account_id}/status", json={"enabled": False}, headers=world.headers("project")), 200, "disabling")
    messages = expect(http.get(f"{PREFIX}/webhook_subscriptions/{world.subscription_id}/messages", headers=world.headers("project")), 200, "messages").json()
    if not messages["items"]:
        raise BenchmarkError(f"no webhook message to read: {messages}")
    world.message_id = messages["items"][0]["id"]
    return world


def run_backend(args: argparse.Namespace, workdir: Path, database_url: str | None, backend: str) -> dict[str, Any]:
    env = tenantry_env(workdir / "data", database_url)
    toolkits = workdir / "toolkits.toml"
    toolkits.write_text(toolkit_file())
    env |= {"TENANTRY_TOOLKITS_FILE": str(toolkits), "TENANTRY_WEBHOOK_ALLOW_PRIVATE_URLS": "true", "TENANTRY_WEBHOOK_ALLOW_HTTP": "true"}
    # The bare GET answers the bytes the settings route answers for a new project.
    body_file = workdir / "body.json"
    body_file.write_text(json.dumps(DEFAULT_CONFIG, separators=(",", ":")))
    tenantry_cli("db", "upgrade", env=env)
    result: dict[str, Any] = {}
    bare_env = {**env, "BENCH_BODY_FILE": str(body_file)}
    with uvicorn_server("bare_apps:create_fastapi_echo_app", env=bare_env, log_dir=workdir, app_dir=BENCH_DIR, cpus=SERVER_CPU) as bare_url:
        with uvicorn_server("tenantry.main:create_app", env=env, log_dir=workdir, cpus=SERVER_CPU) as base_url:
            with httpx.Client(base_url=base_url, timeout=30) as http:
                # The bare app also receives the webhook deliveries, acknowledging them as a healthy receiver would.
                world = build_world(http, env, f"{bare_url}/bare")
                config = expect(http.get(f"{PREFIX}/org/project/config", headers=world.headers("project")), 200, "config")
                if len(config.content) != body_file.stat().st_size:
                    raise BenchmarkError(f"the settings route answered {config.text}, not {body_file.read_text()}")
                if not args.only_concurrent:
                    result["sequential"] = sequential(args, base_url, bare_url, world)
        if not args.no_concurrent:
            workers = 2 if backend == "postgresql" else 1
            with uvicorn_server("tenantry.main:create_app", env=env, log_dir=workdir, workers=workers) as base_url:
                profile = workdir / "concurrent.txt" if args.profile and workers == 1 else None
                with profiled(base_url, profile) if profile else contextlib.nullcontext():
                    measured = concurrent_creates(args, base_url, world, workdir)
                target = CONCURRENT_TARGETS[backend]
                result["concurrent_creates"] = measured | {
                    "workers": workers, "connections": args.connections, "target": target, "pass": measured["requests_per_second"] >= target,
                }  # fmt: skip
                if profile:
                    result["concurrent_creates"]["top_frames"] = top_frames(profile)
                    # The collapsed stacks themselves (not committed), for a closer look.
                    Path(args.output).with_suffix(f".{backend}.concurrent.prof").write_bytes(profile.read_bytes())
                # The same creates with no subscription to tell: what the events and their delivery cost.
                expect(httpx.delete(f"{base_url}{PREFIX}/webhook_subscriptions/{world.subscription_id}", headers=world.headers("project")), 200, "unsubscribing")
                result["concurrent_creates_without_webhook"] = concurrent_creates(args, base_url, world, workdir)
    return result


def _routes_table(backend: str, sequential_result: dict[str, Any], args: argparse.Namespace) -> list[str]:
    baselines = sequential_result["baselines"]
    rows = [
        [name, info["key"], info["kind"], f"{info['p50_ms']:.3f}", f"{info['p99_ms']:.3f}", f"+{info['added_p50_ms']:.3f}", f"{info['ratio_p50']:.2f}×", f"≤ {info['target']}×", "PASS" if info["pass"] else "FAIL"]
        for name, info in sorted(sequential_result["routes"].items(), key=lambda item: -item[1]["ratio_p50"])
    ]
    return [
        f"Routes on {backend}, sequential, one {args.client} connection (bare GET p50 {baselines['bare GET']['p50_ms']:.3f} ms, "
        f"bare POST p50 {baselines['bare POST']['p50_ms']:.3f} ms)",
        "",
        markdown_table(["route", "key", "kind", "p50 ms", "p99 ms", "added p50 ms", "p50 / bare", "target", ""], rows),
        "",
    ]


def render(results: dict[str, Any], args: argparse.Namespace) -> str:
    parts = []
    for backend, result in results.items():
        sequential_result = result.get("sequential")
        if sequential_result is not None:
            parts += _routes_table(backend, sequential_result, args)
        concurrent = result.get("concurrent_creates")
        if concurrent:
            frames = [f"    {own:5.1f}% self {total:5.1f}% total  {frame}" for frame, own, total in concurrent.get("top_frames", [])]
            parts += [
                f"Connected account creates on {backend}, {concurrent['connections']} connections, {concurrent['workers']} worker(s): "
                f"{concurrent['requests_per_second']:,.0f}/s, p50 {concurrent['p50_ms']:.1f} ms, p99 {concurrent['p99_ms']:.1f} ms "
                f"(target ≥ {concurrent['target']:.0f}/s: {'PASS' if concurrent['pass'] else 'FAIL'})",
                *(["", "Most sampled frames of the worker (py-spy):", *frames] if frames else []),
                "",
            ]
        alone = result.get("concurrent_creates_without_webhook")
        if alone:
            parts += [
                f"The same with no webhook subscription: {alone['requests_per_second']:,.0f}/s, p50 {alone['p50_ms']:.1f} ms, p99 {alone['p99_ms']:.1f} ms",
                "",
            ]
    return "\n".join(parts)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per route and round")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured requests before each")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every route (medians reported)")
    parser.add_argument(
        "--client", choices=sorted(CLIENTS), default="httpx",
        help="httpx (as Composio's SDKs; the targets' measure) or raw (a socket: the server's own cost shows more)",
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections for the concurrent creates")
    parser.add_argument("--concurrent-duration", type=int, default=10, help="seconds of measured concurrent creates")
    parser.add_argument("--concurrent-warmup", type=int, default=2, help="seconds of unmeasured concurrent creates")
    parser.add_argument("--no-concurrent", action="store_true", help="skip part 2")
    parser.add_argument("--only-concurrent", action="store_true", help="skip part 1")
    parser.add_argument("--profile", action="store_true", help="sample the server's stacks (py-spy) during part 2 on one worker")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "routes.json")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    add_backend_arguments(parser, "an existing PostgreSQL database; a bench_routes_* database is created beside it")
    return parser.parse_args()


def main() -> int:
    args = parse_arguments()
    stop_cleanly_on_sigterm()
    check_samples(route_table())
    measured_on = environment()
    pin_this_process(CLIENT_CPUS)
    results = {}
    for backend, admin_url in backends(args.postgres_url, args.no_postgres).items():
        print(f"== {backend}", file=sys.stderr)
        with temporary_directory(f"bench_routes_{backend}_") as workdir, scratch_database(admin_url, "bench_routes") as database_url:
            results[backend] = run_backend(args, workdir, database_url, backend)
    print(render(results, args))
    settings = {key: value for key, value in vars(args).items() if key != "output"} | {"postgres_url": safe_url(args.postgres_url)}
    path = write_json(args.output, {"environment": measured_on, "settings": settings, "results": results})
    print(f"\nraw results: {path}", file=sys.stderr)
    passed = all(
        all(info["pass"] for info in result.get("sequential", {"routes": {}})["routes"].values())
        and result.get("concurrent_creates", {}).get("pass", True)
        for result in results.values()
    )
    return 0 if passed or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
