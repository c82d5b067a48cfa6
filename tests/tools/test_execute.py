"""Executing tools against a real API on loopback, with each credential scheme."""

from __future__ import annotations

import secrets

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.kit.time import utcnow
from tenantry.models import ConnectedAccount
from tests.factories import ProjectWithKey, create_org, create_project, without_request_id
from tests.fixtures.oauth_provider import Provider
from tests.tools.helpers import Account, connect, execute

SCHEMES = ["localkeyheader", "localkeyquery", "localbearer", "localbasic", "localtoolsoauth"]


def _marker() -> str:
    return f"item-{secrets.token_hex(6)}"


def _expected_credential(account: Account, received: dict, provider: Provider) -> None:
    """The credential the API must have received for this account's scheme."""
    headers, query = received["headers"], dict(received["query"])
    if account.toolkit == "localkeyheader":
        assert headers["x-api-key"] == account.secrets[0]
    elif account.toolkit == "localkeyquery":
        assert query["api_key"] == account.secrets[0] and "authorization" not in headers
    elif account.toolkit == "localbearer":
        assert headers["authorization"] == f"Bearer {account.secrets[0]}"
    elif account.toolkit == "localbasic":
        import base64

        user, _, password = base64.b64decode(headers["authorization"].removeprefix("Basic ")).decode().partition(":")
        assert password == account.secrets[0] and user.startswith("user-")
        assert received["path"].startswith("/api/basic/acme/")
    else:
        assert headers["authorization"] == f"Bearer {provider.issued_access_tokens[-1]}"
        account.secrets.append(provider.issued_access_tokens[-1])


class TestEachScheme:
    @pytest.mark.parametrize("toolkit", SCHEMES)
    async def test_the_api_gets_the_credential_and_the_caller_never_sees_it(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider, toolkit: str
    ) -> None:
        account = await connect(client, project, toolkit)
        marker = _marker()
        response = await execute(
            client, project, f"{toolkit.upper()}_CREATE_ITEM",
            {"item": marker, "verbose": True, "note": "hello", "trace": "t-1", "tags": ["a", "b"]},
            connected_account_id=account.id,
        )
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["successful"] is True and result["error"] is None and result["log_id"].startswith("log_")
        [received] = oauth_provider.api.received(marker)
        _expected_credential(account, received, oauth_provider)
        assert received["method"] == "POST" and received["path"].endswith(f"/echo/items/{marker}")
        assert [pair for pair in received["query"] if pair[0] != "api_key"] == [["verbose", "true"], ["tags", "a"], ["tags", "b"]]
        assert received["headers"]["x-trace"] == "t-1" and received["headers"]["x-api-version"] == "2"
        assert received["body"] == {"note": "hello"}
        # The API echoed everything it got, credential included; the caller sees it redacted.
        assert result["data"]["echo"]["path"] == received["path"]
        for secret in account.secrets:
            assert secret not in response.text
        assert "[REDACTED]" in response.text

    @pytest.mark.parametrize("toolkit", SCHEMES)
    async def test_user_id_picks_the_users_active_account(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider, toolkit: str
    ) -> None:
        account = await connect(client, project, toolkit)
        marker = _marker()
        response = await execute(client, project, f"{toolkit.upper()}_GET_ITEM", {"item": marker}, user_id=account.user_id)
        assert response.json()["successful"] is True, response.text
        [received] = oauth_provider.api.received(marker)
        _expected_credential(account, received, oauth_provider)


class TestNoAuth:
    async def test_runs_without_an_account(self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider) -> None:
        marker = _marker()
        response = await execute(client, project, "LOCALNOAUTH_GET_ITEM", {"item": marker})
        assert response.json()["successful"] is True, response.text
        [received] = oauth_provider.api.received(marker)
        assert "authorization" not in received["headers"]

    async def test_a_json_array_comes_back_under_response_data(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await execute(client, project, "LOCALNOAUTH_LIST")
        assert response.json()["data"] == {"response_data": [1, 2, 3]}


class TestRefusals:
    async def test_unknown_tool(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await execute(client, project, "NO_SUCH_TOOL")
        assert response.status_code == 404 and response.json()["error"]["slug"] == "Tool_NotFound"

    async def test_arguments_are_checked_against_the_schema_by_name(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        account = await connect(client, project, "localbearer")
        response = await execute(client, project, "LOCALBEARER_GET_ITEM", {"verbose": "very"}, connected_account_id=account.id)
        assert response.status_code == 400
        errors = response.json()["error"]["errors"]
        assert "arguments.item: is required" in errors and "arguments.verbose: must be of type boolean" in errors

    async def test_an_account_or_user_is_required(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await execute(client, project, "LOCALBEARER_GET_ITEM", {"item": "x"})
        assert response.status_code == 400
        assert response.json()["error"]["errors"][0].startswith("connected_account_id:")

    async def test_a_user_without_an_active_account(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        account = await connect(client, project, "localbearer")
        await client.patch(f"/connected_accounts/{account.id}/status", json={"enabled": False}, headers=project.headers)
        response = await execute(client, project, "LOCALBEARER_GET_ITEM", {"item": "x"}, user_id=account.user_id)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["slug"] == "ActionExecute_NoActiveConnection" and "1 INACTIVE" in error["message"]

    async def test_an_account_of_another_toolkit(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        account = await connect(client, project, "localbearer")
        response = await execute(client, project, "LOCALKEYHEADER_GET_ITEM", {"item": "x"}, connected_account_id=account.id)
        assert response.status_code == 400 and "localbearer account" in response.text

    async def test_another_projects_account_is_a_404_like_a_missing_one(
        self, client: httpx.AsyncClient, project: ProjectWithKey, sessionmaker: async_sessionmaker[AsyncSession], oauth_provider: Provider
    ) -> None:
        intruder = await create_project(client, await create_org(sessionmaker))
        account = await connect(client, project, "localbearer")
        marker = _marker()
        stolen = await execute(client, intruder, "LOCALBEARER_GET_ITEM", {"item": marker}, connected_account_id=account.id)
        missing = await execute(client, intruder, "LOCALBEARER_GET_ITEM", {"item": marker}, connected_account_id="ca_000000000000")
        assert stolen.status_code == missing.status_code == 404
        assert without_request_id(stolen.json()) | {"message": ""} == without_request_id(missing.json()) | {"message": ""}
        assert oauth_provider.api.received(marker) == []

    async def test_an_inactive_account_fails_the_execution_without_calling_the_api(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider
    ) -> None:
        account = await connect(client, project, "localkeyheader")
        await client.patch(f"/connected_accounts/{account.id}/status", json={"enabled": False}, headers=project.headers)
        marker = _marker()
        response = await execute(client, project, "LOCALKEYHEADER_GET_ITEM", {"item": marker}, connected_account_id=account.id)
        assert response.status_code == 200
        result = response.json()
        assert result["successful"] is False and "is INACTIVE" in result["error"] and result["log_id"]
        assert oauth_provider.api.received(marker) == []

    async def test_the_auth_configs_tool_list_is_enforced(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        account = await connect(client, project, "localbearer")
        detail = (await client.get(f"/connected_accounts/{account.id}", headers=project.headers)).json()
        config_id = detail["auth_config"]["id"]
        changed = await client.patch(
            f"/auth_configs/{config_id}",
            json={"type": "custom", "tool_access_config": {"tools_available_for_execution": ["LOCALBEARER_LIST"]}},
            headers=project.headers,
        )
        assert changed.status_code == 200, changed.text
        refused = await execute(client, project, "LOCALBEARER_GET_ITEM", {"item": "x"}, connected_account_id=account.id)
        assert refused.status_code == 403 and refused.json()["error"]["slug"] == "ActionExecute_ToolNotAllowed"
        allowed = await execute(client, project, "LOCALBEARER_LIST", connected_account_id=account.id)
        assert allowed.json()["successful"] is True


class TestTheApiFailing:
    async def test_an_error_status_is_an_unsuccessful_execution(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        account = await connect(client, project, "localbearer")
        response = await execute(client, project, "LOCALBEARER_FAIL", {"code": 422}, connected_account_id=account.id)
        assert response.status_code == 200
        result = response.json()
        assert result["successful"] is False and result["error"] == "The API answered HTTP 422: the API failed with 422"
        assert result["data"]["message"] == "the API failed with 422"
        assert account.secrets[0] not in response.text


class TestOAuth2:
    async def test_an_expired_token_is_refreshed_and_the_new_one_sent(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        account = await connect(client, project, "localtoolsoauth")
        first = oauth_provider.issued_access_tokens[-1]
        async with unit_of_work(sessionmaker) as session:
            await session.execute(update(ConnectedAccount).where(ConnectedAccount.id == account.id).values(token_expires_at=utcnow()))
        marker = _marker()
        response = await execute(client, project, "LOCALTOOLSOAUTH_GET_ITEM", {"item": marker}, connected_account_id=account.id)
        assert response.json()["successful"] is True, response.text
        [received] = oauth_provider.api.received(marker)
        refreshed = oauth_provider.issued_access_tokens[-1]
        assert refreshed != first and received["headers"]["authorization"] == f"Bearer {refreshed}"
        assert refreshed not in response.text and first not in response.text

    async def test_a_rejected_refresh_fails_the_execution_and_the_account_stays_expired(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        account = await connect(client, project, "localtoolsoauth")
        async with unit_of_work(sessionmaker) as session:
            await session.execute(update(ConnectedAccount).where(ConnectedAccount.id == account.id).values(token_expires_at=utcnow()))
        oauth_provider.revoke_refresh_tokens()
        marker = _marker()
        response = await execute(client, project, "LOCALTOOLSOAUTH_GET_ITEM", {"item": marker}, connected_account_id=account.id)
        assert response.status_code == 200
        result = response.json()
        assert result["successful"] is False and "is EXPIRED" in result["error"] and "refresh" in result["error"]
        assert oauth_provider.api.received(marker) == []
        detail = (await client.get(f"/connected_accounts/{account.id}", headers=project.headers)).json()
        assert detail["status"] == "EXPIRED"


class TestRedirects:
    async def test_same_origin_redirects_are_followed_with_the_credential(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider
    ) -> None:
        account = await connect(client, project, "localkeyquery")
        proxied = await client.post(
            "/tools/execute/proxy",
            json={"endpoint": "/redirect-same", "method": "GET", "connected_account_id": account.id},
            headers=project.headers,
        )
        assert proxied.status_code == 200, proxied.text
        assert proxied.json()["status"] == 200 and proxied.json()["data"]["echo"]["path"] == "/api/keyquery/echo/landed"
        landed = [seen for seen in oauth_provider.api.requests if seen["path"] == "/api/keyquery/echo/landed"][-1]
        assert dict(landed["query"])["api_key"] == account.secrets[0]
        assert account.secrets[0] not in proxied.text

    async def test_a_redirect_to_another_host_is_not_followed(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider
    ) -> None:
        account = await connect(client, project, "localbearer")
        before = len([seen for seen in oauth_provider.api.requests if seen["path"] == "/api/noauth/echo/away"])
        proxied = await client.post(
            "/tools/execute/proxy",
            json={"endpoint": "/redirect-away", "method": "GET", "connected_account_id": account.id},
            headers=project.headers,
        )
        assert proxied.json()["status"] == 302
        after = len([seen for seen in oauth_provider.api.requests if seen["path"] == "/api/noauth/echo/away"])
        assert after == before
