"""A worker keeps the credentials it unsealed (tenantry.tools.connections); no change may wait on that.

Each test makes one worker use an account, so that it holds the account's credential, then changes
the account (or its auth config) through the other worker, and checks the first worker's very
next call: it must see the change, with no poll interval to wait out.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import ProjectWithKey, create_org, create_project
from tests.fixtures.oauth_provider import Provider
from tests.tools.helpers import Account, connect, execute

TOOL = "LOCALKEYHEADER_GET_ITEM"


@pytest.fixture
async def other(other_server) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=f"{other_server.base_url}/api/v3.1", timeout=30) as http:
        yield http


async def used(client: httpx.AsyncClient, project: ProjectWithKey, account: Account, provider: Provider, **body: str) -> dict:
    """Executes the tool once with the account; what the API received."""
    marker = f"item-{secrets.token_hex(6)}"
    response = await execute(client, project, TOOL, {"item": marker}, **(body or {"connected_account_id": account.id}))
    assert response.status_code == 200 and response.json()["successful"] is True, response.text
    [received] = provider.api.received(marker)
    return received


async def auth_config_of(client: httpx.AsyncClient, project: ProjectWithKey, account: Account) -> str:
    detail = (await client.get(f"/connected_accounts/{account.id}", headers=project.headers)).json()
    return str(detail["auth_config"]["id"])


class TestAChangeInAnotherWorker:
    async def test_new_credentials_are_sent_on_the_next_call(
        self, client: httpx.AsyncClient, other: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider
    ) -> None:
        account = await connect(client, project, "localkeyheader")
        assert (await used(client, project, account, oauth_provider))["headers"]["x-api-key"] == account.secrets[0]
        new_key = f"kh-{secrets.token_urlsafe(18)}"
        changes = {"connection": {"state": {"authScheme": "API_KEY", "val": {"api_key": new_key}}}}
        changed = await other.patch(f"/connected_accounts/{account.id}", json=changes, headers=project.headers)
        assert changed.status_code == 200, changed.text
        assert (await used(client, project, account, oauth_provider))["headers"]["x-api-key"] == new_key

    async def test_a_disabled_account_stops_at_once(
        self, client: httpx.AsyncClient, other: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider
    ) -> None:
        account = await connect(client, project, "localkeyheader")
        await used(client, project, account, oauth_provider)
        await other.patch(f"/connected_accounts/{account.id}/status", json={"enabled": False}, headers=project.headers)
        response = await execute(client, project, TOOL, {"item": "after"}, connected_account_id=account.id)
        assert response.json()["successful"] is False and "is INACTIVE" in response.json()["error"]

    @pytest.mark.parametrize("by", ["connected_account_id", "user_id"])
    async def test_a_deleted_account_stops_at_once(
        self, client: httpx.AsyncClient, other: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider, by: str
    ) -> None:
        account = await connect(client, project, "localkeyheader")
        chosen = {"connected_account_id": account.id} if by == "connected_account_id" else {"user_id": account.user_id}
        await used(client, project, account, oauth_provider, **chosen)
        assert (await other.delete(f"/connected_accounts/{account.id}", headers=project.headers)).status_code == 200
        marker = f"item-{secrets.token_hex(6)}"
        response = await execute(client, project, TOOL, {"item": marker}, **chosen)
        assert response.status_code in (400, 404) and oauth_provider.api.received(marker) == []

    async def test_a_disabled_auth_config_stops_at_once(
        self, client: httpx.AsyncClient, other: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider
    ) -> None:
        account = await connect(client, project, "localkeyheader")
        await used(client, project, account, oauth_provider)
        config_id = await auth_config_of(client, project, account)
        assert (await other.patch(f"/auth_configs/{config_id}/DISABLED", headers=project.headers)).status_code == 200
        response = await execute(client, project, TOOL, {"item": "after"}, connected_account_id=account.id)
        assert response.json()["successful"] is False and "is disabled" in response.json()["error"]

    async def test_a_narrowed_tool_list_is_enforced_at_once(
        self, client: httpx.AsyncClient, other: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider
    ) -> None:
        account = await connect(client, project, "localkeyheader")
        await used(client, project, account, oauth_provider)
        config_id = await auth_config_of(client, project, account)
        narrowed = {"type": "custom", "tool_access_config": {"tools_available_for_execution": ["LOCALKEYHEADER_LIST"]}}
        assert (await other.patch(f"/auth_configs/{config_id}", json=narrowed, headers=project.headers)).status_code == 200
        refused = await execute(client, project, TOOL, {"item": "after"}, connected_account_id=account.id)
        assert refused.status_code == 403 and refused.json()["error"]["slug"] == "ActionExecute_ToolNotAllowed"

    async def test_a_newer_account_of_the_user_is_chosen_at_once(
        self, client: httpx.AsyncClient, other: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider
    ) -> None:
        first = await connect(client, project, "localkeyheader")
        await used(client, project, first, oauth_provider, user_id=first.user_id)
        second = await connect(other, project, "localkeyheader", user_id=first.user_id)
        received = await used(client, project, second, oauth_provider, user_id=first.user_id)
        assert received["headers"]["x-api-key"] == second.secrets[0]


class TestIsolation:
    async def test_an_account_this_worker_holds_is_still_a_404_for_another_project(
        self, client: httpx.AsyncClient, project: ProjectWithKey, sessionmaker: async_sessionmaker[AsyncSession], oauth_provider: Provider
    ) -> None:
        account = await connect(client, project, "localkeyheader")
        await used(client, project, account, oauth_provider)
        intruder = await create_project(client, await create_org(sessionmaker))
        marker = f"item-{secrets.token_hex(6)}"
        for body in ({"connected_account_id": account.id}, {"connected_account_id": account.id, "user_id": account.user_id}):
            stolen = await execute(client, intruder, TOOL, {"item": marker}, **body)
            assert stolen.status_code == 404, stolen.text
        proxied = await client.post(
            "/tools/execute/proxy", json={"endpoint": f"/echo/{marker}", "method": "GET", "connected_account_id": account.id},
            headers=intruder.headers,
        )
        assert proxied.status_code == 404 and oauth_provider.api.received(marker) == []
