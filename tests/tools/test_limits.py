"""Time and size limits on calls to a toolkit's API, on a server configured tight."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.factories import ProjectWithKey, create_org, create_project
from tests.fixtures.server import Server, start_server
from tests.tools.helpers import connect, execute


@pytest.fixture(scope="module")
def tight(server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {**server_env, "TENANTRY_TOOL_TIMEOUT_SECONDS": "1", "TENANTRY_TOOL_MAX_RESPONSE_BYTES": "1000"}
    server = start_server(env, tmp_path_factory.mktemp("tight") / "server.log")
    yield server
    server.stop()
    assert "Traceback" not in server.log(), server.log()


@pytest.fixture
async def tight_client(tight: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{tight.base_url}/api/v3.1", timeout=30) as http:
        yield http


async def _proxy(http: httpx.AsyncClient, project: ProjectWithKey, account_id: str, endpoint: str) -> httpx.Response:
    return await http.post("/tools/execute/proxy", json={"endpoint": endpoint, "method": "GET", "connected_account_id": account_id}, headers=project.headers)


class TestLimits:
    async def test_a_slow_api_times_out(self, tight_client: httpx.AsyncClient, sessionmaker) -> None:  # type: ignore[no-untyped-def]
        project = await create_project(tight_client, await create_org(sessionmaker))
        account = await connect(tight_client, project, "localbearer")
        quick = await _proxy(tight_client, project, account.id, "/slow?seconds=0.1")
        assert quick.json()["status"] == 200
        slow = await _proxy(tight_client, project, account.id, "/slow?seconds=3")
        assert slow.status_code == 502 and "did not answer within 1 s" in slow.json()["error"]["message"]
        assert slow.headers["x-should-retry"] == "false"
        logged = (await tight_client.post("/logs/tool_execution", json={"limit": 1}, headers=project.headers)).json()["logs"][0]
        assert logged["status"] == "failed" and logged["type"] == "proxy.execution"

    async def test_a_large_answer_fails_the_call(self, tight_client: httpx.AsyncClient, sessionmaker) -> None:  # type: ignore[no-untyped-def]
        project = await create_project(tight_client, await create_org(sessionmaker))
        account = await connect(tight_client, project, "localbearer")
        small = await _proxy(tight_client, project, account.id, "/big?size=900")
        assert small.json()["data"] == "x" * 900
        large = await _proxy(tight_client, project, account.id, "/big?size=5000")
        assert large.status_code == 502 and "larger than 1000 bytes" in large.json()["error"]["message"]

    async def test_tool_executions_fail_cleanly_too(self, tight_client: httpx.AsyncClient, sessionmaker) -> None:  # type: ignore[no-untyped-def]
        project = await create_project(tight_client, await create_org(sessionmaker))
        response = await execute(tight_client, project, "LOCALNOAUTH_GET_ITEM", {"item": "x" * 2000})
        result = response.json()
        assert response.status_code == 200 and result["successful"] is False
        assert "larger than 1000 bytes" in result["error"] and result["log_id"]
