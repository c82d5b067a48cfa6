"""MCP server configuration over real HTTP (reference §7.1)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.factories import ProjectWithKey, create_auth_config


@pytest.fixture
async def stripe(client: httpx.AsyncClient, project: ProjectWithKey) -> str:
    return await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")


async def create_server(client: httpx.AsyncClient, project: ProjectWithKey, **body: object) -> httpx.Response:
    return await client.post("/mcp/servers", json=body, headers=project.headers)


class TestCreate:
    async def test_full_object(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str, server) -> None:  # type: ignore[no-untyped-def]
        response = await create_server(client, project, name="Payments Bot", auth_config_ids=[stripe])
        assert response.status_code == 201
        body = response.json()
        uuid.UUID(body["id"])
        assert body["mcp_url"] == f"{server.base_url}/v3/mcp/{body['id']}"
        assert (body["name"], body["auth_config_ids"], body["toolkits"], body["allowed_tools"]) == ("Payments Bot", [stripe], ["stripe"], [])
        assert body["toolkit_icons"]["stripe"].startswith("https://")
        assert body["commands"]["cursor"] == f'npx @composio/mcp@latest setup "{body["mcp_url"]}" --client cursor'
        assert body["server_instance_count"] == 0 and body["managed_auth_via_composio"] is False
        assert {"created_at", "updated_at"} <= set(body)

    @pytest.mark.parametrize("name", ["abc", "x" * 31, "under_score", "emoji 🙂"])
    async def test_name_rules(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str, name: str) -> None:
        response = await create_server(client, project, name=name, auth_config_ids=[stripe])
        assert response.status_code == 400 and response.json()["error"]["errors"][0].startswith("name:")

    async def test_unknown_auth_config(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await create_server(client, project, name="Nope server", auth_config_ids=["ac_000000000000"])
        assert response.status_code == 400 and response.json()["error"]["errors"][0].startswith("auth_config_ids[0]:")

    async def test_unknown_tool(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        response = await create_server(client, project, name="Tools server", auth_config_ids=[stripe], allowed_tools=["GITHUB_NOT_HERE"])
        assert response.status_code == 400 and response.json()["error"]["errors"][0].startswith("allowed_tools[0]:")

    async def test_duplicate_name_is_a_final_409(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        await create_server(client, project, name="Twin", auth_config_ids=[stripe])
        response = await create_server(client, project, name="Twin", auth_config_ids=[stripe])
        assert response.status_code == 409 and response.headers["x-should-retry"] == "false"

    async def test_custom_create_as_the_sdk_calls_it(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await client.post("/mcp/servers/custom", json={"name": "From toolkits", "toolkits": ["hackernews"]}, headers=project.headers)
        assert response.status_code == 201
        body = response.json()
        assert set(body) == {"id", "name", "auth_config_ids", "allowed_tools", "mcp_url", "commands"}
        detail = (await client.get(f"/mcp/{body['id']}", headers=project.headers)).json()
        assert detail["toolkits"] == ["hackernews"] and detail["deleted"] is False


class TestReadAndChange:
    async def test_list_filters_and_pages(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        ids = [(await create_server(client, project, name=f"Server {n}", auth_config_ids=[stripe])).json()["id"] for n in range(3)]
        other = (await client.post("/mcp/servers/custom", json={"name": "News only", "toolkits": ["hackernews"]}, headers=project.headers)).json()["id"]
        page = (await client.get("/mcp/servers", params={"limit": 2}, headers=project.headers)).json()
        assert set(page) == {"items", "total_pages", "current_page"}
        assert (page["total_pages"], page["current_page"], len(page["items"])) == (2, 1, 2)
        assert [item["id"] for item in page["items"]] == [other, ids[2]]
        second = (await client.get("/mcp/servers", params={"limit": 2, "page_no": 2}, headers=project.headers)).json()
        assert [item["id"] for item in second["items"]] == [ids[1], ids[0]]
        by_toolkit = (await client.get("/mcp/servers", params={"toolkits": "hackernews"}, headers=project.headers)).json()
        assert [item["id"] for item in by_toolkit["items"]] == [other]
        by_config = (await client.get("/mcp/servers", params={"auth_config_ids": stripe}, headers=project.headers)).json()
        assert len(by_config["items"]) == 3
        by_name = (await client.get("/mcp/servers", params={"name": "news"}, headers=project.headers)).json()
        assert [item["id"] for item in by_name["items"]] == [other]

    async def test_patch_and_delete(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        server_id = (await create_server(client, project, name="Before", auth_config_ids=[stripe])).json()["id"]
        patched = await client.patch(f"/mcp/{server_id}", json={"name": "After", "toolkits": ["hackernews"]}, headers=project.headers)
        assert patched.status_code == 200
        assert (patched.json()["name"], patched.json()["toolkits"]) == ("After", ["stripe", "hackernews"])
        deleted = await client.delete(f"/mcp/{server_id}", headers=project.headers)
        assert deleted.json() == {"id": server_id, "deleted": True}
        assert (await client.get(f"/mcp/{server_id}", headers=project.headers)).status_code == 404

    async def test_generate_urls(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        server_id = (await create_server(client, project, name="Per user", auth_config_ids=[stripe])).json()["id"]
        response = await client.post(
            "/mcp/servers/generate", json={"mcp_server_id": server_id, "user_ids": ["alice", "bob smith"], "connected_account_ids": ["ca_x"]}, headers=project.headers
        )
        body = response.json()
        assert body["user_ids_url"] == [f"{body['mcp_url']}?user_id=alice", f"{body['mcp_url']}?user_id=bob+smith"]
        assert body["connected_account_urls"] == [f"{body['mcp_url']}?connected_account_ids=ca_x"]
        missing = await client.post("/mcp/servers/generate", json={"mcp_server_id": str(uuid.uuid4())}, headers=project.headers)
        assert missing.status_code == 404
