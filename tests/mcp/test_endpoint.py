"""The MCP endpoint and its gate, driven by the official `mcp` client over Streamable HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tenantry.kit import keys
from tenantry.kit.keys import KeyKind
from tests.factories import Org, ProjectWithKey, create_auth_config, create_project
from tests.mcp.helpers import INITIALIZE, MCP_HEADERS, mcp_session


@pytest.fixture
async def mcp_url(client: httpx.AsyncClient, project: ProjectWithKey) -> str:
    auth_config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
    response = await client.post("/mcp/servers", json={"name": "Gatekeeper", "auth_config_ids": [auth_config_id]}, headers=project.headers)
    return str(response.json()["mcp_url"])


async def post_initialize(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **(headers or {})})


def assert_401(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == 401 and error["slug"] == "Auth_InvalidApiKey"
    return error


class TestGateOn:
    """Organizations created from 2026-03-05 require the project's key by default."""

    async def test_the_projects_key_opens_a_session(self, mcp_url: str, project: ProjectWithKey) -> None:
        async with mcp_session(f"{mcp_url}?user_id=alice", project.headers) as session:
            assert (await session.list_tools()).tools == []

    async def test_no_key(self, mcp_url: str) -> None:
        assert "x-api-key" in assert_401(await post_initialize(mcp_url))["message"]

    async def test_unknown_key(self, mcp_url: str) -> None:
        assert_401(await post_initialize(mcp_url, {"x-api-key": keys.generate(KeyKind.project)}))

    async def test_another_projects_key(self, client: httpx.AsyncClient, org: Org, other_org: Org, mcp_url: str) -> None:
        sibling, stranger = await create_project(client, org), await create_project(client, other_org)
        for intruder in (sibling, stranger):
            assert_401(await post_initialize(mcp_url, intruder.headers))

    async def test_revoked_key(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey, mcp_url: str) -> None:
        assert (await post_initialize(mcp_url, project.headers)).status_code == 200
        await client.post(f"/org/owner/project/{project.id}/regenerate_api_key", headers=org.headers)
        assert_401(await post_initialize(mcp_url, project.headers))

    async def test_an_org_key_is_the_wrong_kind(self, org: Org, mcp_url: str) -> None:
        assert_401(await post_initialize(mcp_url, {"x-api-key": org.api_key}))


class TestGateOff:
    async def test_the_url_is_the_capability(self, client: httpx.AsyncClient, project: ProjectWithKey, mcp_url: str) -> None:
        await client.patch("/org/project/config", json={"require_mcp_api_key": False}, headers=project.headers)
        async with mcp_session(f"{mcp_url}?user_id=bob") as session:
            assert (await session.list_tools()).tools == []

    async def test_turning_it_on_takes_effect_on_the_next_request(self, client: httpx.AsyncClient, project: ProjectWithKey, mcp_url: str) -> None:
        await client.patch("/org/project/config", json={"require_mcp_api_key": False}, headers=project.headers)
        assert (await post_initialize(mcp_url)).status_code == 200
        await client.patch("/org/project/config", json={"require_mcp_api_key": True}, headers=project.headers)
        assert_401(await post_initialize(mcp_url))


class TestServerUrl:
    async def test_unknown_and_deleted_servers_are_404(self, client: httpx.AsyncClient, project: ProjectWithKey, mcp_url: str) -> None:
        server_id = mcp_url.rsplit("/", 1)[1]
        await client.delete(f"/mcp/{server_id}", headers=project.headers)
        for url in (mcp_url, mcp_url.replace(server_id, "00000000-0000-0000-0000-000000000000")):
            response = await post_initialize(url, project.headers)
            assert response.status_code == 404 and response.json()["error"]["slug"] == "Mcp_ServerNotFound"

    async def test_sessions_make_instances(self, client: httpx.AsyncClient, project: ProjectWithKey, mcp_url: str) -> None:
        for user in ("u1", "u2", "u1"):
            assert (await post_initialize(f"{mcp_url}?user_id={user}", project.headers)).status_code == 200
        server_id = mcp_url.rsplit("/", 1)[1]
        assert (await client.get(f"/mcp/{server_id}", headers=project.headers)).json()["server_instance_count"] == 2
