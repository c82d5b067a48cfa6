"""Connected accounts over real HTTP (reference §3–§5): create, read masked, filter, change, delete."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.factories import Org, ProjectWithKey, create_api_key_account, create_auth_config, create_project


@pytest.fixture
async def stripe(client: httpx.AsyncClient, project: ProjectWithKey) -> str:
    return await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")


async def create_account(client: httpx.AsyncClient, project: ProjectWithKey, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/connected_accounts", json=body, headers=project.headers)


class TestCreate:
    async def test_api_key_account_is_active_and_masked(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        body = {"auth_config": {"id": stripe}, "connection": {"user_id": "user-123", "state": {"authScheme": "API_KEY", "val": {"status": "ACTIVE", "api_key": "sk_live_abcdefgh"}}}}
        response = await create_account(client, project, body)
        assert response.status_code == 201
        created = response.json()
        assert re.fullmatch(r"ca_[A-Za-z0-9]{12}", created["id"])
        assert created["status"] == "ACTIVE"
        assert created["connectionData"] == {"authScheme": "API_KEY", "val": {"status": "ACTIVE", "api_key": "sk_l..."}}
        assert created["redirect_url"] is None

    @pytest.mark.parametrize(
        ("toolkit", "scheme", "val", "shown"),
        [
            ("github", "BEARER_TOKEN", {"token": "ghp_0123456789"}, {"token": "ghp_..."}),
            ("twilio", "BASIC", {"username": "AC123", "password": "abc"}, {"username": "AC123", "password": "REDACTED"}),
            ("hackernews", "NO_AUTH", {}, {}),
        ],
    )
    async def test_other_schemes(
        self, client: httpx.AsyncClient, project: ProjectWithKey, toolkit: str, scheme: str, val: dict[str, str], shown: dict[str, str]
    ) -> None:
        auth_config_id = await create_auth_config(client, project, toolkit, type="use_custom_auth", authScheme=scheme)
        body = {"auth_config": {"id": auth_config_id}, "connection": {"state": {"authScheme": scheme, "val": val}}}
        response = await create_account(client, project, body)
        assert response.status_code == 201, response.text
        assert response.json()["connectionData"]["val"] == {"status": "ACTIVE", **shown}

    async def test_missing_credential_field(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        body = {"auth_config": {"id": stripe}, "connection": {"state": {"authScheme": "API_KEY", "val": {}}}}
        response = await create_account(client, project, body)
        assert response.status_code == 400
        assert response.json()["error"]["errors"] == ["connection.state.val.api_key: required"]

    async def test_wrong_scheme(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        body = {"auth_config": {"id": stripe}, "connection": {"state": {"authScheme": "BASIC", "val": {"username": "u"}}}}
        response = await create_account(client, project, body)
        assert response.status_code == 400
        assert response.json()["error"]["errors"][0].startswith("connection.state.authScheme:")

    async def test_wrong_auth_config_id(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await create_account(client, project, {"auth_config": {"id": "ac_000000000000"}, "connection": {}})
        assert response.status_code == 404
        assert response.json()["error"]["errors"] == ["auth_config.id: no such auth config"]

    async def test_disabled_auth_config(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        await client.patch(f"/auth_configs/{stripe}/DISABLED", headers=project.headers)
        body = {"auth_config": {"id": stripe}, "connection": {"state": {"authScheme": "API_KEY", "val": {"api_key": "sk_live_abcdefgh"}}}}
        response = await create_account(client, project, body)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["errors"][0].startswith("auth_config.id:") and "disabled" in error["message"]

    async def test_duplicate_alias_is_a_final_409(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", alias="work")
        body = {"auth_config": {"id": stripe}, "connection": {"user_id": "user-1", "alias": "work", "state": {"authScheme": "API_KEY", "val": {"api_key": "sk_live_other123"}}}}
        response = await create_account(client, project, body)
        assert response.status_code == 409 and response.headers["x-should-retry"] == "false"
        await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", user_id="user-2", alias="work")

    async def test_bad_callback_url(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        body = {"auth_config": {"id": stripe}, "connection": {"callback_url": "javascript:alert(1)", "state": {"authScheme": "API_KEY", "val": {"api_key": "sk_live_abcdefgh"}}}}
        response = await create_account(client, project, body)
        assert response.status_code == 400 and response.json()["error"]["errors"][0].startswith("connection.callback_url:")


class TestMasking:
    async def test_masked_by_default_whole_when_turned_off(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        account_id = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh")
        masked = (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).json()
        for container in (masked["state"]["val"], masked["data"], masked["params"]):
            assert container["api_key"] == "sk_l..."
        assert "sk_live_abcdefgh" not in str(masked)
        await client.patch("/org/project/config", json={"mask_secret_keys_in_connected_account": False}, headers=project.headers)
        whole = (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).json()
        for container in (whole["state"]["val"], whole["data"], whole["params"]):
            assert container["api_key"] == "sk_live_abcdefgh"
        listed = (await client.get("/connected_accounts", headers=project.headers)).json()
        assert listed["items"][0]["state"]["val"]["api_key"] == "sk_live_abcdefgh"
        assert "params" not in listed["items"][0]

    async def test_identifiers_are_never_masked(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "twilio", type="use_custom_auth", authScheme="BASIC")
        body = {"auth_config": {"id": auth_config_id}, "connection": {"state": {"authScheme": "BASIC", "val": {"username": "AC0123456789", "password": "twilio-token-1"}}}}
        account_id = (await create_account(client, project, body)).json()["id"]
        detail = (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).json()
        assert detail["state"]["val"] == {"status": "ACTIVE", "username": "AC0123456789", "password": "twil..."}
        assert detail["id"] == account_id and detail["auth_config"]["id"] == auth_config_id


class TestRead:
    async def test_detail_shape(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        account_id = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", user_id="alice", alias="main")
        body = (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).json()
        assert {"toolkit", "auth_config", "id", "word_id", "alias", "user_id", "status", "created_at", "updated_at",
                "state", "data", "status_reason", "is_disabled", "params"} <= set(body)
        assert body["toolkit"] == {"slug": "stripe"}
        assert body["auth_config"] == {"id": stripe, "auth_scheme": "API_KEY", "is_composio_managed": False, "is_disabled": False}
        assert (body["user_id"], body["alias"], body["status"], body["is_disabled"]) == ("alice", "main", "ACTIVE", False)
        assert body["word_id"].startswith("stripe_")

    async def test_list_filters_arrive_comma_joined(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        github = await create_auth_config(client, project, "github", type="use_custom_auth", authScheme="BEARER_TOKEN")
        alice = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", user_id="alice")
        bob = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", user_id="bob")
        carol = (await create_account(client, project, {"auth_config": {"id": github}, "connection": {"user_id": "carol", "state": {"authScheme": "BEARER_TOKEN", "val": {"token": "ghp_0123456789"}}}})).json()["id"]
        await client.patch(f"/connected_accounts/{bob}/status", json={"enabled": False}, headers=project.headers)

        async def ids(**params: str) -> list[str]:
            response = await client.get("/connected_accounts", params=params, headers=project.headers)
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        assert await ids() == [carol, bob, alice]
        assert await ids(order_direction="asc") == [alice, bob, carol]
        assert await ids(user_ids="alice,carol") == [carol, alice]
        assert await ids(statuses="INACTIVE") == [bob]
        assert await ids(statuses="ACTIVE,INACTIVE", toolkit_slugs="stripe") == [bob, alice]
        assert await ids(auth_config_ids=github) == [carol]
        assert await ids(connected_account_ids=f"{alice},{carol}") == [carol, alice]
        assert await ids(order_by="updated_at") == [bob, carol, alice]
        response = await client.get("/connected_accounts", params={"statuses": "ASLEEP"}, headers=project.headers)
        assert response.status_code == 400 and response.json()["error"]["errors"][0].startswith("statuses:")

    async def test_pages(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        created = [await create_api_key_account(client, project, stripe, "sk_live_abcdefgh") for _ in range(5)]
        seen, cursor, totals = [], None, set()
        while True:
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/connected_accounts", params=params, headers=project.headers)).json()
            seen += [item["id"] for item in page["items"]]
            totals.add((page["total_items"], page["total_pages"]))
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == created[::-1] and totals == {(5, 3)}


class TestChange:
    async def test_patch_alias_and_credentials(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "openai", type="use_custom_auth", authScheme="API_KEY")
        body = {"auth_config": {"id": auth_config_id}, "connection": {"state": {"authScheme": "API_KEY", "val": {"api_key": "sk-old-000000", "organization": "org-1"}}}}
        account_id = (await create_account(client, project, body)).json()["id"]
        changes = {"alias": "renamed", "connection": {"state": {"authScheme": "API_KEY", "val": {"api_key": "sk-new-111111", "organization": None}}}}
        response = await client.patch(f"/connected_accounts/{account_id}", json=changes, headers=project.headers)
        assert response.status_code == 200
        assert response.json() == {"success": True, "id": account_id, "status": "ACTIVE"}
        await client.patch("/org/project/config", json={"mask_secret_keys_in_connected_account": False}, headers=project.headers)
        detail = (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).json()
        assert detail["alias"] == "renamed"
        assert detail["state"]["val"] == {"status": "ACTIVE", "api_key": "sk-new-111111"}

    async def test_patch_cannot_drop_a_required_field(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        account_id = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh")
        changes = {"connection": {"state": {"authScheme": "API_KEY", "val": {"api_key": None}}}}
        response = await client.patch(f"/connected_accounts/{account_id}", json=changes, headers=project.headers)
        assert response.status_code == 400 and response.json()["error"]["errors"] == ["connection.state.val.api_key: required"]

    async def test_enable_disable(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        account_id = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh")
        response = await client.patch(f"/connected_accounts/{account_id}/status", json={"enabled": False}, headers=project.headers)
        assert response.status_code == 200 and response.json() == {"success": True}
        detail = (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).json()
        assert (detail["status"], detail["is_disabled"], detail["state"]["val"]["status"]) == ("INACTIVE", True, "INACTIVE")
        await client.patch(f"/connected_accounts/{account_id}/status", json={"enabled": True}, headers=project.headers)
        assert (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).json()["status"] == "ACTIVE"

    async def test_api_key_accounts_cannot_be_reinitiated(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        account_id = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh")
        response = await client.post(f"/connected_accounts/{account_id}/refresh", json={}, headers=project.headers)
        assert response.status_code == 409 and response.headers["x-should-retry"] == "false"

    async def test_delete(self, client: httpx.AsyncClient, project: ProjectWithKey, stripe: str) -> None:
        account_id = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh")
        response = await client.delete(f"/connected_accounts/{account_id}", headers={**project.headers, "content-type": "application/json"})
        assert response.status_code == 200 and response.json() == {"success": True}
        assert (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).status_code == 404
        assert (await client.get("/connected_accounts", headers=project.headers)).json()["total_items"] == 0


class TestOtherProjects:
    async def test_an_account_of_another_project_is_not_found(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey, stripe: str) -> None:
        sibling = await create_project(client, org)
        account_id = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh")
        assert (await client.get(f"/connected_accounts/{account_id}", headers=sibling.headers)).status_code == 404
        body = {"auth_config": {"id": stripe}, "connection": {"state": {"authScheme": "API_KEY", "val": {"api_key": "sk_live_abcdefgh"}}}}
        assert (await create_account(client, sibling, body)).status_code == 404
