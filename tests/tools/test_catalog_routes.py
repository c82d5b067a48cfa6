"""The catalog's tools on the wire, and Composio's own client reading and running them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from composio_client import AsyncComposio, NotFoundError

from tests.factories import ProjectWithKey, create_auth_config
from tests.fixtures.oauth_provider import Provider
from tests.fixtures.server import Server
from tests.test_composio_client import assert_complete
from tests.tools.helpers import connect


@pytest.fixture
async def composio(server: Server, project: ProjectWithKey) -> AsyncIterator[AsyncComposio]:
    async with AsyncComposio(api_key=project.api_key, base_url=server.base_url, max_retries=0) as client:
        yield client


class TestList:
    async def test_filter_by_toolkit_and_paginate(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        first = (await client.get("/tools", params={"toolkit_slug": "localbearer", "limit": 3}, headers=project.headers)).json()
        assert first["total_items"] == 4 and first["total_pages"] == 2 and first["current_page"] == 1
        second = (await client.get("/tools", params={"toolkit_slug": "localbearer", "cursor": first["next_cursor"]}, headers=project.headers)).json()
        assert second["next_cursor"] is None and second["current_page"] == 2
        slugs = [item["slug"] for item in first["items"] + second["items"]]
        assert slugs == ["LOCALBEARER_GET_ITEM", "LOCALBEARER_CREATE_ITEM", "LOCALBEARER_FAIL", "LOCALBEARER_LIST"]

    async def test_tool_slugs_override_other_filters(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        listed = (await client.get("/tools", params={"tool_slugs": "LOCALBASIC_FAIL,localnoauth_list", "toolkit_slug": "github"}, headers=project.headers)).json()
        assert [item["slug"] for item in listed["items"]] == ["LOCALBASIC_FAIL", "LOCALNOAUTH_LIST"]

    async def test_search(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        listed = (await client.get("/tools", params={"query": "ANSWERS the STATUS"}, headers=project.headers)).json()
        assert listed["items"] and all(item["slug"].endswith("_FAIL") for item in listed["items"])

    async def test_auth_config_ids_give_their_toolkits_tools(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "localbearer", type="use_custom_auth", authScheme="BEARER_TOKEN")
        listed = (await client.get("/tools", params={"auth_config_ids": auth_config_id}, headers=project.headers)).json()
        assert {item["toolkit"]["slug"] for item in listed["items"]} == {"localbearer"}
        foreign = (await client.get("/tools", params={"auth_config_ids": "ac_000000000000"}, headers=project.headers)).json()
        assert foreign["items"] == []

    async def test_one_tool(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        tool = (await client.get("/tools/localkeyheader_get_item", headers=project.headers)).json()
        assert tool["slug"] == "LOCALKEYHEADER_GET_ITEM" and tool["input_parameters"]["required"] == ["item"]
        assert tool["toolkit"]["slug"] == "localkeyheader" and tool["no_auth"] is False
        missing = await client.get("/tools/NOPE_NOPE", headers=project.headers)
        assert missing.status_code == 404 and missing.json()["error"]["slug"] == "Tool_NotFound"

    async def test_enum(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        slugs = (await client.get("/tools/enum", headers=project.headers)).json()
        assert "LOCALNOAUTH_GET_ITEM" in slugs and len(slugs) == len(set(slugs))


class TestComposioClient:
    async def test_list_retrieve_execute_proxy(self, composio: AsyncComposio, client: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider) -> None:
        listed = await composio.tools.list(toolkit_slug="localbearer")
        assert_complete(listed)
        assert listed.total_items == 4
        retrieved = await composio.tools.retrieve("LOCALBEARER_GET_ITEM")
        assert_complete(retrieved)
        assert retrieved.deprecated.display_name == "Get an item"
        assert await composio.tools.retrieve_enum()
        with pytest.raises(NotFoundError):
            await composio.tools.retrieve("NOPE_NOPE")

        account = await connect(client, project, "localbearer")
        marker = f"cc-{secrets.token_hex(4)}"
        executed = await composio.tools.execute("LOCALBEARER_GET_ITEM", arguments={"item": marker}, connected_account_id=account.id)
        assert_complete(executed)
        assert executed.successful and executed.log_id and executed.data["echo"]["path"].endswith(marker)
        by_user = await composio.tools.execute("LOCALBEARER_GET_ITEM", arguments={"item": marker}, user_id=account.user_id)
        assert by_user.successful

        proxied = await composio.tools.proxy(endpoint=f"/echo/{marker}", method="GET", connected_account_id=account.id)
        assert_complete(proxied)
        assert proxied.status == 200 and account.secrets[0] not in str(proxied.data)
