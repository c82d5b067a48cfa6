"""Tools over MCP: listed with their schemas, called through the execution path, metered and logged."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.factories import ProjectWithKey, create_api_key_account, create_auth_config
from tests.fixtures.oauth_provider import Provider
from tests.mcp.helpers import mcp_session

API_KEY = "mcp-secret-key-0042"


@pytest.fixture
async def mcp_url(client: httpx.AsyncClient, project: ProjectWithKey) -> str:
    auth_config_id = await create_auth_config(client, project, "localkeyheader", type="use_custom_auth", authScheme="API_KEY")
    await create_api_key_account(client, project, auth_config_id, API_KEY, user_id="alice")
    response = await client.post(
        "/mcp/servers",
        json={"name": "Item tools", "auth_config_ids": [auth_config_id], "allowed_tools": ["LOCALKEYHEADER_GET_ITEM", "LOCALKEYHEADER_FAIL"]},
        headers=project.headers,
    )
    return str(response.json()["mcp_url"])


class TestTools:
    async def test_list_shows_the_allowed_tools_with_their_schemas(self, mcp_url: str, project: ProjectWithKey) -> None:
        async with mcp_session(f"{mcp_url}?user_id=alice", project.headers) as session:
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(tools) == {"LOCALKEYHEADER_GET_ITEM", "LOCALKEYHEADER_FAIL"}
        assert tools["LOCALKEYHEADER_GET_ITEM"].input_schema["required"] == ["item"]

    async def test_call_injects_the_users_credential_and_never_shows_it(
        self, mcp_url: str, project: ProjectWithKey, oauth_provider: Provider
    ) -> None:
        async with mcp_session(f"{mcp_url}?user_id=alice", project.headers) as session:
            result = await session.call_tool("LOCALKEYHEADER_GET_ITEM", {"item": "mcp-item-7"})
        assert result.is_error is False
        [received] = oauth_provider.api.received("mcp-item-7")
        assert received["headers"]["x-api-key"] == API_KEY
        text = result.content[0].text  # type: ignore[union-attr]
        assert "mcp-item-7" in text and API_KEY not in text and API_KEY not in json.dumps(result.structured_content)

    async def test_a_user_without_an_account_gets_advice_not_a_crash(self, mcp_url: str, project: ProjectWithKey) -> None:
        async with mcp_session(f"{mcp_url}?user_id=nobody", project.headers) as session:
            result = await session.call_tool("LOCALKEYHEADER_GET_ITEM", {"item": "x"})
        assert result.is_error is True
        assert "connected_accounts/link" in result.content[0].text  # type: ignore[union-attr]

    async def test_a_tool_outside_the_server_is_refused(self, mcp_url: str, project: ProjectWithKey) -> None:
        async with mcp_session(f"{mcp_url}?user_id=alice", project.headers) as session:
            result = await session.call_tool("LOCALKEYHEADER_CREATE_ITEM", {"item": "x"})
        assert result.is_error is True and "tools/list" in result.content[0].text  # type: ignore[union-attr]

    async def test_sessions_and_calls_are_metered_and_logged(self, client: httpx.AsyncClient, mcp_url: str, project: ProjectWithKey) -> None:
        for _ in range(2):
            async with mcp_session(f"{mcp_url}?user_id=alice", project.headers) as session:
                await session.call_tool("LOCALKEYHEADER_GET_ITEM", {"item": "metered"})
        usage = (await client.post("/project/usage/summary", json={}, headers=project.headers)).json()["entities"]
        assert usage["sessions"]["event_count"] == 2 and usage["tool_calls"]["event_count"] == 2
        logs = (await client.post("/logs/tool_execution", json={}, headers=project.headers)).json()["logs"]
        assert len(logs) == 2
