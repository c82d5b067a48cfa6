"""How many SQL statements each route sends, so that the count can only go down.

Every statement is a round trip (a thread hop on SQLite before it ran inline, a network round
trip on PostgreSQL), so a write that grows from four statements to six is slower for everyone.
The app runs in this process so that its engine can be watched; only statements sent by the
request's own task are counted (the background workers have their own contexts). BEGIN, COMMIT
and ROLLBACK are not statements the code writes, so they are left out.

When a change lowers a count, lower its budget here; a change that raises one needs a reason
good enough to raise the budget in the same commit.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tenantry.main import create_app
from tests.factories import Org

_counting: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("statements", default=None)


def _count(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    seen = _counting.get()
    if seen is not None and statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
        seen.append(statement)


@contextlib.asynccontextmanager
async def _app_client() -> AsyncIterator[httpx.AsyncClient]:
    """The app in this process, on the database the `server` fixture migrated."""
    event.listen(Engine, "before_cursor_execute", _count)
    app = create_app()
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://tenantry/api/v3.1") as client:
                yield client
    finally:
        event.remove(Engine, "before_cursor_execute", _count)


async def _statements(client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, list[str]]:
    seen: list[str] = []
    token = _counting.set(seen)
    try:
        response = await client.request(method, path, headers=headers, content=json.dumps(body) if body is not None else None)
    finally:
        _counting.reset(token)
    assert response.status_code < 300, response.text
    return len(seen), seen


async def test_routes_keep_their_statement_budgets(server: Any, org: Org) -> None:
    async with _app_client() as app_client:
        await _count_routes(app_client, org)


async def _count_routes(app_client: httpx.AsyncClient, org: Org) -> None:
    project = (await app_client.post("/org/owner/project/new", json={"name": "statements", "should_create_api_key": True}, headers=org.headers)).json()
    key = {"x-api-key": project["api_key"], "content-type": "application/json"}
    org_key = {**org.headers, "content-type": "application/json"}
    auth_config = (await app_client.post("/auth_configs", json={"toolkit": {"slug": "stripe"}, "auth_config": {"type": "use_custom_auth", "authScheme": "API_KEY"}}, headers=key)).json()["auth_config"]["id"]
    account_body = {"auth_config": {"id": auth_config}, "connection": {"user_id": "u", "state": {"authScheme": "API_KEY", "val": {"status": "ACTIVE", "api_key": "k" * 20}}}}
    account = (await app_client.post("/connected_accounts", json=account_body, headers=key)).json()["id"]
    # Each route once before counting, so that caches (keys, settings) hold what they hold in steady state.
    routes: list[tuple[str, str, dict[str, str], Any, int]] = [
        ("GET", "/org/project/config", key, None, 0),
        ("PATCH", "/org/project/config", key, {"display_name": "Counted"}, 4),
        ("GET", "/auth_configs", key, None, 3),
        ("GET", f"/auth_configs/{auth_config}", key, None, 2),
        ("POST", "/auth_configs", key, {"toolkit": {"slug": "stripe"}, "auth_config": {"type": "use_custom_auth", "authScheme": "API_KEY"}}, 2),
        ("GET", "/connected_accounts", key, None, 3),
        ("GET", f"/connected_accounts/{account}", key, None, 2),
        ("POST", "/connected_accounts", key, account_body, 3),
        ("PATCH", f"/connected_accounts/{account}/status", key, {"enabled": True}, 1),
        ("GET", "/org/owner/project/list", org_key, None, 2),
        ("GET", f"/org/owner/project/{project['id']}", org_key, None, 2),
    ]
    over: list[str] = []
    for method, path, headers, body, budget in routes:
        await _statements(app_client, method, path, headers, body)
        # The fewest of three: a cache dropped by the poller meanwhile (an earlier route changed
        # settings) is refilled once, and that refill is not the route's own cost.
        count, seen = min([await _statements(app_client, method, path, headers, body) for _ in range(3)], key=lambda counted: counted[0])
        if count > budget:
            over.append(f"{method} {path}: {count} statements, budget {budget}:\n  " + "\n  ".join(s.split("\n")[0][:120] for s in seen))
    assert not over, "\n".join(over)
