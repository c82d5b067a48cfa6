"""Auth configs over real HTTP (reference §1): validation against the catalog, merge, obfuscation."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.factories import ProjectWithKey, create_api_key_account, create_auth_config

OAUTH = {"type": "use_custom_auth", "authScheme": "OAUTH2", "name": "My GitHub", "credentials": {"client_id": "Iv1.abcdef", "client_secret": "supersecretvalue123", "scopes": ["repo"]}}


class TestCreate:
    async def test_custom_oauth2(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await client.post("/auth_configs", json={"toolkit": {"slug": "github"}, "auth_config": OAUTH}, headers=project.headers)
        assert response.status_code == 201
        body = response.json()
        assert body["toolkit"] == {"slug": "github"}
        assert re.fullmatch(r"ac_[A-Za-z0-9]{12}", body["auth_config"]["id"])
        assert body["auth_config"]["auth_scheme"] == "OAUTH2"
        assert body["auth_config"]["is_composio_managed"] is False

    @pytest.mark.parametrize(
        ("toolkit", "scheme", "credentials"),
        [("stripe", "API_KEY", {}), ("github", "BEARER_TOKEN", {}), ("twilio", "BASIC", {}), ("hackernews", "NO_AUTH", {})],
    )
    async def test_other_schemes(self, client: httpx.AsyncClient, project: ProjectWithKey, toolkit: str, scheme: str, credentials: dict[str, str]) -> None:
        spec = {"type": "use_custom_auth", "authScheme": scheme, "credentials": credentials}
        response = await client.post("/auth_configs", json={"toolkit": {"slug": toolkit}, "auth_config": spec}, headers=project.headers)
        assert response.status_code == 201, response.text
        assert response.json()["auth_config"]["auth_scheme"] == scheme

    async def test_unknown_toolkit_names_the_field(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await client.post("/auth_configs", json={"toolkit": {"slug": "nope"}, "auth_config": OAUTH}, headers=project.headers)
        assert response.status_code == 400
        assert response.json()["error"]["errors"][0].startswith("toolkit.slug:")

    async def test_scheme_the_toolkit_lacks(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        spec = {"type": "use_custom_auth", "authScheme": "BASIC", "credentials": {}}
        response = await client.post("/auth_configs", json={"toolkit": {"slug": "stripe"}, "auth_config": spec}, headers=project.headers)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["errors"][0].startswith("auth_config.authScheme:") and "API_KEY" in error["message"]

    async def test_missing_credential_field(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        spec = {"type": "use_custom_auth", "authScheme": "OAUTH2", "credentials": {"client_id": "x"}}
        response = await client.post("/auth_configs", json={"toolkit": {"slug": "github"}, "auth_config": spec}, headers=project.headers)
        assert response.status_code == 400
        assert response.json()["error"]["errors"] == ["auth_config.credentials.client_secret: required"]

    async def test_managed_auth_without_a_managed_app(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await client.post("/auth_configs", json={"toolkit": {"slug": "github"}}, headers=project.headers)
        assert response.status_code == 400
        error = response.json()["error"]
        assert "managed app" in error["message"] and "use_custom_auth" in error["suggested_fix"]

    async def test_managed_auth_with_the_operators_app(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await client.post("/auth_configs", json={"toolkit": {"slug": "localmanaged"}}, headers=project.headers)
        assert response.status_code == 201
        assert response.json()["auth_config"]["is_composio_managed"] is True
        detail = (await client.get(f"/auth_configs/{response.json()['auth_config']['id']}", headers=project.headers)).json()
        assert detail["type"] == "default"
        assert "local-client-secret" not in str(detail)

    async def test_unknown_field(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await client.post("/auth_configs", json={"toolkit": {"slug": "github"}, "auth_config": {**OAUTH, "colour": 1}}, headers=project.headers)
        assert response.status_code == 400
        assert any("colour" in item for item in response.json()["error"]["errors"])


class TestRead:
    async def test_secrets_are_obfuscated_whatever_the_setting(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "github", **OAUTH)
        await client.patch("/org/project/config", json={"mask_secret_keys_in_connected_account": False}, headers=project.headers)
        body = (await client.get(f"/auth_configs/{auth_config_id}", headers=project.headers)).json()
        assert body["credentials"]["client_id"] == "Iv1.abcdef"
        assert body["credentials"]["client_secret"] == "supe..."
        assert body["credentials"]["scopes"] == ["repo"]
        assert "supersecretvalue123" not in str(body)
        assert body["type"] == "custom" and body["status"] == "ENABLED" and body["name"] == "My GitHub"
        assert body["toolkit"]["slug"] == "github" and body["toolkit"]["logo"]
        assert body["no_of_connections"] == 0
        assert body["tool_access_config"] == {"tools_for_connected_account_creation": [], "tools_available_for_execution": []}

    async def test_connection_count_and_expected_fields(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        await create_api_key_account(client, project, auth_config_id, "sk_test_1234567890")
        body = (await client.get(f"/auth_configs/{auth_config_id}", headers=project.headers)).json()
        assert body["no_of_connections"] == 1
        [field] = body["expected_input_fields"]
        assert field["name"] == "api_key" and field["required"] is True and field["is_secret"] is True

    async def test_missing_is_404(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await client.get("/auth_configs/ac_000000000000", headers=project.headers)
        assert response.status_code == 404
        assert response.json()["error"]["slug"] == "AuthConfig_ResourceNotFound"


class TestList:
    async def test_filters_and_pages(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        github = await create_auth_config(client, project, "github", **OAUTH)
        stripe = [await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY") for _ in range(3)]
        everything = (await client.get("/auth_configs", headers=project.headers)).json()
        assert [item["id"] for item in everything["items"]] == [*stripe[::-1], github]
        assert everything["total_items"] == 4
        only_stripe = (await client.get("/auth_configs", params={"toolkit_slug": "stripe"}, headers=project.headers)).json()
        assert {item["id"] for item in only_stripe["items"]} == set(stripe)
        both = (await client.get("/auth_configs", params={"toolkit_slug": "stripe,github"}, headers=project.headers)).json()
        assert both["total_items"] == 4
        searched = (await client.get("/auth_configs", params={"search": "My Git"}, headers=project.headers)).json()
        assert [item["id"] for item in searched["items"]] == [github]
        seen, cursor = [], None
        while True:
            params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/auth_configs", params=params, headers=project.headers)).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [*stripe[::-1], github]

    async def test_disabled_hidden_unless_asked(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "github", **OAUTH)
        response = await client.patch(f"/auth_configs/{auth_config_id}/DISABLED", headers={**project.headers, "content-type": "application/json"})
        assert response.status_code == 200 and response.json()["success"] is True
        assert (await client.get("/auth_configs", headers=project.headers)).json()["items"] == []
        shown = (await client.get("/auth_configs", params={"show_disabled": "true"}, headers=project.headers)).json()
        assert [item["status"] for item in shown["items"]] == ["DISABLED"]

    async def test_malformed_cursor(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await client.get("/auth_configs", params={"cursor": "%%%"}, headers=project.headers)
        assert response.status_code == 400 and response.json()["error"]["errors"] == ["cursor: invalid"]


class TestUpdate:
    async def test_rotating_only_the_client_secret_keeps_the_rest(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "github", **OAUTH)
        response = await client.patch(
            f"/auth_configs/{auth_config_id}", json={"type": "custom", "credentials": {"client_secret": "rotatedsecret999"}}, headers=project.headers
        )
        assert response.status_code == 200 and response.json()["success"] is True
        body = (await client.get(f"/auth_configs/{auth_config_id}", headers=project.headers)).json()
        assert body["credentials"]["client_id"] == "Iv1.abcdef"
        assert body["credentials"]["client_secret"] == "rota..."
        assert body["name"] == "My GitHub"

    async def test_cannot_remove_a_required_credential(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "github", **OAUTH)
        response = await client.patch(
            f"/auth_configs/{auth_config_id}", json={"type": "custom", "credentials": {"client_secret": None}}, headers=project.headers
        )
        assert response.status_code == 400
        assert response.json()["error"]["errors"] == ["credentials.client_secret: required"]

    async def test_wrong_type_for_the_config(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "github", **OAUTH)
        response = await client.patch(f"/auth_configs/{auth_config_id}", json={"type": "default", "scopes": "x"}, headers=project.headers)
        assert response.status_code == 400 and response.json()["error"]["errors"][0].startswith("type:")

    async def test_managed_scopes(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "localmanaged", type="use_composio_managed_auth")
        await client.patch(f"/auth_configs/{auth_config_id}", json={"type": "default", "scopes": ["read", "admin"]}, headers=project.headers)
        assert (await client.get(f"/auth_configs/{auth_config_id}", headers=project.headers)).json()["credentials"]["scopes"] == ["read", "admin"]

    async def test_bad_status(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "github", **OAUTH)
        response = await client.patch(f"/auth_configs/{auth_config_id}/PAUSED", headers=project.headers)
        assert response.status_code == 400 and response.json()["error"]["errors"][0].startswith("status:")


class TestDelete:
    async def test_soft_delete_takes_its_connections(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        account_id = await create_api_key_account(client, project, auth_config_id, "sk_test_1234567890")
        response = await client.delete(f"/auth_configs/{auth_config_id}", headers=project.headers)
        assert response.status_code == 200 and response.json()["success"] is True
        assert (await client.get(f"/auth_configs/{auth_config_id}", headers=project.headers)).status_code == 404
        assert (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).status_code == 404
        assert (await client.delete(f"/auth_configs/{auth_config_id}", headers=project.headers)).status_code == 404
