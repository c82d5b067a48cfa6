"""Usage: exact totals under concurrent executions on two workers, at project and organization level."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.usage import service as usage
from tests.factories import Org, ProjectWithKey, create_org, create_project
from tests.fixtures.server import Server
from tests.tools.helpers import Account, connect, execute

DAY_MS = 86_400_000


async def run_concurrently(clients: list[httpx.AsyncClient], project: ProjectWithKey, plan: list[tuple[str, dict[str, Any], Account | None]]) -> list[dict[str, Any]]:
    """Runs every planned execution at once, alternating between the two workers."""
    calls = []
    for (tool, arguments, account), http in zip(plan, itertools.cycle(clients)):
        extra = {"connected_account_id": account.id} if account else {}
        calls.append(execute(http, project, tool, arguments, **extra))
    responses = await asyncio.gather(*calls)
    assert all(response.status_code == 200 for response in responses), [r.text for r in responses if r.status_code != 200]
    return [response.json() for response in responses]


def expected(plan: list[tuple[str, dict[str, Any], Account | None]], key: str) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for tool, _, account in plan:
        counts[{
            "tool_slug": tool,
            "toolkit_slug": tool.split("_")[0].lower(),
            "connected_account_id": account.id if account else "",
            "user_id": account.user_id if account else "",
            "session_id": "",
        }[key]] += 1
    return dict(counts)


async def report(client: httpx.AsyncClient, path: str, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post(path, json=body, headers=headers)


@pytest.fixture(scope="module")
async def world(server: Server, other_server: Server, sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[dict[str, Any]]:
    """Two projects of one organization, with executions made at once through two workers; read-only after."""
    async with (
        httpx.AsyncClient(base_url=f"{server.base_url}/api/v3.1", timeout=60) as client,
        httpx.AsyncClient(base_url=f"{other_server.base_url}/api/v3.1", timeout=60) as other_client,
    ):
        yield await _world(client, other_client, sessionmaker)


async def _world(client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    org = await create_org(sessionmaker)
    first, second = await create_project(client, org), await create_project(client, org)
    bearer = await connect(client, first, "localbearer", user_id="alice")
    keyed = await connect(client, first, "localkeyheader", user_id="bob")
    other = await connect(client, second, "localbearer", user_id="carol")
    plan_first = (
        [("LOCALBEARER_GET_ITEM", {"item": "i"}, bearer)] * 17
        + [("LOCALBEARER_FAIL", {"code": 500}, bearer)] * 5
        + [("LOCALKEYHEADER_LIST", {}, keyed)] * 11
        + [("LOCALNOAUTH_LIST", {}, None)] * 7
    )
    plan_second = [("LOCALBEARER_LIST", {}, other)] * 9
    results = await run_concurrently([client, other_client], first, plan_first)
    assert sum(not result["successful"] for result in results) == 5
    await run_concurrently([client, other_client], second, plan_second)
    return {"org": org, "first": first, "second": second, "plan_first": plan_first, "plan_second": plan_second}


class TestProjectUsage:
    async def test_summary_counts_every_execution(self, client: httpx.AsyncClient, world: dict[str, Any]) -> None:
        first: ProjectWithKey = world["first"]
        summary = (await report(client, "/project/usage/summary", first.headers)).json()
        assert summary == {"entities": {
            "tool_calls": {"unit": "count", "total_quantity": "40", "event_count": 40},
            "sessions": {"unit": "count", "total_quantity": "0", "event_count": 0},
        }}

    @pytest.mark.parametrize("group_by", ["tool_slug", "toolkit_slug", "connected_account_id", "user_id", "session_id"])
    async def test_every_group_by(self, client: httpx.AsyncClient, world: dict[str, Any], group_by: str) -> None:
        first: ProjectWithKey = world["first"]
        breakdown = (await report(client, "/project/usage/tool_calls", first.headers, group_by=group_by)).json()
        assert breakdown["entity_type"] == "tool_calls" and breakdown["event_count"] == 40 and breakdown["total_quantity"] == "40"
        assert {group["key"]: group["event_count"] for group in breakdown["groups"]} == expected(world["plan_first"], group_by)
        counts = [group["event_count"] for group in breakdown["groups"]]
        assert counts == sorted(counts, reverse=True)

    async def test_order_limit_and_filters(self, client: httpx.AsyncClient, world: dict[str, Any]) -> None:
        first: ProjectWithKey = world["first"]
        by_key = (await report(client, "/project/usage/tool_calls", first.headers, group_by="tool_slug", order_by="key", order_direction="asc", limit=2)).json()
        assert [group["key"] for group in by_key["groups"]] == ["LOCALBEARER_FAIL", "LOCALBEARER_GET_ITEM"]
        assert by_key["event_count"] == 40
        alice = (await report(client, "/project/usage/summary", first.headers, filters={"user_id": "alice"})).json()
        assert alice["entities"]["tool_calls"]["event_count"] == 22
        default = (await report(client, "/project/usage/tool_calls", first.headers)).json()
        assert default["groups"][0] == {"key": "LOCALBEARER_GET_ITEM", "total_quantity": "17", "event_count": 17}

    async def test_ranges(self, client: httpx.AsyncClient, world: dict[str, Any]) -> None:
        first: ProjectWithKey = world["first"]
        now = int(time.time() * 1000)
        later = (await report(client, "/project/usage/summary", first.headers, **{"from": now + 60_000, "to": now + 120_000})).json()
        assert later["entities"]["tool_calls"]["event_count"] == 0
        earlier = (await report(client, "/project/usage/summary", first.headers, **{"from": now - DAY_MS, "to": now + 60_000})).json()
        assert earlier["entities"]["tool_calls"]["event_count"] == 40
        too_long = await report(client, "/project/usage/summary", first.headers, **{"from": now - 367 * DAY_MS, "to": now})
        assert too_long.status_code == 400 and "366 days" in too_long.text
        backwards = await report(client, "/project/usage/summary", first.headers, **{"from": now, "to": now - 1})
        assert backwards.status_code == 400

    async def test_unknown_entity_types_and_groups(self, client: httpx.AsyncClient, world: dict[str, Any]) -> None:
        first: ProjectWithKey = world["first"]
        assert (await report(client, "/project/usage/widgets", first.headers)).status_code == 400
        assert (await report(client, "/project/usage/summary", first.headers, entity_types=["widgets"])).status_code == 400
        wrong = await report(client, "/project/usage/tool_calls", first.headers, group_by="project_id")
        assert wrong.status_code == 400 and wrong.json()["error"]["errors"][0].startswith("group_by:")

    async def test_sessions_are_metered(self, client: httpx.AsyncClient, project: ProjectWithKey, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        async with unit_of_work(sessionmaker) as session:
            for user in ("alice", "alice", "bob"):
                await usage.meter_session(session, project.id, user_id=user, session_id=f"s-{user}")
        sessions = (await report(client, "/project/usage/sessions", project.headers)).json()
        assert {group["key"]: group["event_count"] for group in sessions["groups"]} == {"alice": 2, "bob": 1}
        summary = (await report(client, "/project/usage/summary", project.headers, entity_types=["sessions"])).json()
        assert summary == {"entities": {"sessions": {"unit": "count", "total_quantity": "3", "event_count": 3}}}


class TestOrgUsage:
    async def test_every_project_or_some(self, client: httpx.AsyncClient, world: dict[str, Any]) -> None:
        org: Org = world["org"]
        first, second = world["first"], world["second"]
        summary = (await report(client, "/org/usage/summary", org.headers, entity_types=["tool_calls"])).json()
        assert summary["entities"]["tool_calls"]["event_count"] == 49
        by_project = (await report(client, "/org/usage/tool_calls", org.headers, group_by="project_id")).json()
        assert {group["key"]: group["event_count"] for group in by_project["groups"]} == {first.id: 40, second.id: 9}
        only_second = (await report(client, "/org/usage/tool_calls", org.headers, group_by="user_id", filters={"project_id": [second.id]})).json()
        assert only_second["groups"] == [{"key": "carol", "total_quantity": "9", "event_count": 9}]

    @pytest.mark.parametrize("group_by", ["tool_slug", "toolkit_slug", "connected_account_id", "user_id"])
    async def test_every_group_by(self, client: httpx.AsyncClient, world: dict[str, Any], group_by: str) -> None:
        breakdown = (await report(client, "/org/usage/tool_calls", world["org"].headers, group_by=group_by, limit=1000)).json()
        wanted = Counter(expected(world["plan_first"], group_by)) + Counter(expected(world["plan_second"], group_by))
        assert {group["key"]: group["event_count"] for group in breakdown["groups"]} == dict(wanted)

    async def test_another_orgs_project_is_a_404(self, client: httpx.AsyncClient, world: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        stranger = await create_org(sessionmaker)
        refused = await report(client, "/org/usage/summary", stranger.headers, filters={"project_id": [world["first"].id]})
        assert refused.status_code == 404
        own = (await report(client, "/org/usage/summary", stranger.headers)).json()
        assert own["entities"]["tool_calls"]["event_count"] == 0

    async def test_a_project_key_cannot_read_org_usage(self, client: httpx.AsyncClient, world: dict[str, Any]) -> None:
        assert (await report(client, "/org/usage/summary", world["first"].headers)).status_code == 401
