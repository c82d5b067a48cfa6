"""Proxy calls: any endpoint of the account's toolkit API, the credential added by the server."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import httpx
import pytest

from tests.factories import Org, ProjectWithKey, create_project
from tests.fixtures.oauth_provider import Provider
from tests.tools.helpers import connect

SCHEMES = ["localkeyheader", "localkeyquery", "localbearer", "localbasic", "localtoolsoauth"]


async def proxy(client: httpx.AsyncClient, project: ProjectWithKey, **body: Any) -> httpx.Response:
    return await client.post("/tools/execute/proxy", json=body, headers=project.headers)


class TestEachScheme:
    @pytest.mark.parametrize("toolkit", SCHEMES)
    async def test_credential_in_the_request_never_in_the_answer(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider, toolkit: str
    ) -> None:
        account = await connect(client, project, toolkit)
        if toolkit == "localtoolsoauth":
            account.secrets.append(oauth_provider.issued_access_tokens[-1])
        marker = f"px-{secrets.token_hex(5)}"
        response = await proxy(
            client, project, endpoint=f"/echo/{marker}", method="PUT", connected_account_id=account.id,
            body={"name": "n"}, parameters=[{"name": "X-Caller", "type": "header", "value": "c"}, {"name": "page", "type": "query", "value": "2"}],
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["status"] == 200 and answer["binary_data"] is None
        [received] = oauth_provider.api.received(marker)
        assert received["method"] == "PUT" and received["body"] == {"name": "n"}
        assert received["headers"]["x-caller"] == "c" and ["page", "2"] in received["query"]
        sent = " ".join([*received["headers"].values(), *(value for _, value in received["query"])])
        for secret in account.secrets:
            assert secret in sent or toolkit == "localbasic"
            assert secret not in response.text
        assert answer["data"]["echo"]["path"] == received["path"]
        assert answer["headers"]["content-type"] == "application/json"


class TestTheCallersPart:
    async def test_the_caller_cannot_replace_the_credential(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider
    ) -> None:
        header_account = await connect(client, project, "localkeyheader")
        query_account = await connect(client, project, "localkeyquery")
        marker = f"px-{secrets.token_hex(5)}"
        await proxy(client, project, endpoint=f"/echo/{marker}", method="GET", connected_account_id=header_account.id,
                    parameters=[{"name": "x-api-key", "type": "header", "value": "forged"}])
        await proxy(client, project, endpoint=f"/echo/q{marker}", method="GET", connected_account_id=query_account.id,
                    parameters=[{"name": "api_key", "type": "query", "value": "forged"}])
        [by_header] = [seen for seen in oauth_provider.api.received(marker) if seen["path"].endswith(f"/echo/{marker}")]
        [by_query] = oauth_provider.api.received(f"q{marker}")
        assert by_header["headers"]["x-api-key"] == header_account.secrets[0]
        assert by_query["query"] == [["api_key", query_account.secrets[0]]]

    async def test_an_apis_cookie_never_travels_with_a_later_call(
        self, client: httpx.AsyncClient, project: ProjectWithKey, other_org: Org, oauth_provider: Provider
    ) -> None:
        # One account's session cookie must not reach the API with another account's call.
        other_project = await create_project(client, other_org)
        first = await connect(client, project, "localkeyheader")
        second = await connect(client, other_project, "localkeyheader")
        marker = f"px-{secrets.token_hex(5)}"
        given = await proxy(client, project, endpoint=f"/cookie-{marker}", method="GET", connected_account_id=first.id)
        assert given.status_code == 200 and "set-cookie" not in given.json()["headers"]
        for account, owner in ((first, project), (second, other_project)):
            await proxy(client, owner, endpoint=f"/echo/{marker}-{account.id}", method="GET", connected_account_id=account.id)
            [received] = oauth_provider.api.received(f"{marker}-{account.id}")
            assert "cookie" not in received["headers"]

    async def test_an_absolute_url_on_another_host_is_refused(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider
    ) -> None:
        account = await connect(client, project, "localkeyheader")
        port = httpx.URL(oauth_provider.base_url).port
        refused = await proxy(client, project, endpoint=f"http://localhost:{port}/api/keyheader/echo/x", method="GET", connected_account_id=account.id)
        assert refused.status_code == 400 and refused.json()["error"]["errors"][0].startswith("endpoint:")
        allowed = await proxy(client, project, endpoint=f"{oauth_provider.base_url}/api/keyheader/echo/abs", method="GET", connected_account_id=account.id)
        assert allowed.json()["status"] == 200

    async def test_a_host_the_operator_allows(self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider) -> None:
        account = await connect(client, project, "localbearer")
        port = httpx.URL(oauth_provider.base_url).port
        marker = f"px-{secrets.token_hex(5)}"
        allowed = await proxy(client, project, endpoint=f"http://localhost:{port}/api/bearer/echo/{marker}", method="GET", connected_account_id=account.id)
        assert allowed.json()["status"] == 200
        [received] = oauth_provider.api.received(marker)
        assert received["headers"]["host"] == f"localhost:{port}"
        assert received["headers"]["authorization"] == f"Bearer {account.secrets[0]}"

    async def test_binary_in_and_out(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        account = await connect(client, project, "localbearer")
        response = await proxy(client, project, endpoint="/binary", method="POST", connected_account_id=account.id,
                               binary_body={"base64": base64.b64encode(b"\x00\x01tail").decode(), "content_type": "application/octet-stream"})
        binary = response.json()["binary_data"]
        assert binary["content_type"] == "application/octet-stream" and binary["size"] == 256 + 6
        assert base64.b64decode(binary["url"].split(",", 1)[1]) == bytes(range(256)) + b"\x00\x01tail"

    async def test_an_account_is_required_and_must_be_active(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        missing = await proxy(client, project, endpoint="/echo/x", method="GET")
        assert missing.status_code == 400
        account = await connect(client, project, "localbearer")
        await client.patch(f"/connected_accounts/{account.id}/status", json={"enabled": False}, headers=project.headers)
        inactive = await proxy(client, project, endpoint="/echo/x", method="GET", connected_account_id=account.id)
        assert inactive.status_code == 400 and inactive.json()["error"]["slug"] == "ConnectedAccount_NotActive"
        unknown = await proxy(client, project, endpoint="/echo/x", method="GET", connected_account_id="ca_000000000000")
        assert unknown.status_code == 404
