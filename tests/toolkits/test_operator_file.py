"""A server started with TENANTRY_TOOLKITS_FILE: added toolkits, overrides, removals, managed apps."""

from __future__ import annotations

from typing import Any

import httpx
from composio_client import AsyncComposio
from composio_client.types.toolkit_retrieve_response import ToolkitRetrieveResponse

from tests.factories import ProjectWithKey
from tests.fixtures.server import Server
from tests.toolkits.helpers import BUILTIN_ORDER, MANAGED_CLIENT_SECRET, every_slug, fields_by_name

OPERATOR_ORDER = [slug for slug in BUILTIN_ORDER if slug not in ("stripe", "sendgrid")] + ["acme"]


async def retrieve(client: httpx.AsyncClient, project: ProjectWithKey, slug: str) -> dict[str, Any]:
    response = await client.get(f"/toolkits/{slug}", headers=project.headers)
    assert response.status_code == 200, response.text
    return response.json()


class TestAddedToolkit:
    async def test_listed_after_the_builtins(self, operator_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        assert await every_slug(operator_client, project.headers, limit=7) == OPERATOR_ORDER

    async def test_the_official_client_reads_it(self, operator_composio: AsyncComposio) -> None:
        acme = await operator_composio.toolkits.retrieve("acme")
        assert acme.name == "Acme CRM" and acme.type == "native"
        assert acme.meta.logo == "https://assets.acme.example/logo.svg"
        assert acme.meta.tools_count == 2
        assert acme.meta.version == "20261201_00" and acme.meta.created_at.startswith("2026-12-01T")
        assert [(category.slug, category.name) for category in acme.meta.categories] == [
            ("internal", "Internal Tools"),
            ("crm", "CRM"),
        ]
        assert {detail.mode for detail in acme.auth_config_details or []} == {"OAUTH2", "API_KEY"}
        # Its host depends on the connection's tenant, so there is no single base URL to show.
        assert acme.base_url is None

    async def test_fields(self, operator_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        acme = await retrieve(operator_client, project, "acme")
        ToolkitRetrieveResponse.model_validate(acme)
        oauth2 = fields_by_name(acme, "OAUTH2", "auth_config_creation")
        assert oauth2["scopes"]["default"] == "contacts.read,contacts.write"
        assert oauth2["client_secret"]["is_secret"] is True
        assert fields_by_name(acme, "OAUTH2", "connected_account_initiation")["tenant"]["required"] is True
        api_key = fields_by_name(acme, "API_KEY", "connected_account_initiation")
        assert {name: (field["required"], field["is_secret"]) for name, field in api_key.items()} == {
            "tenant": (True, False),
            "api_key": (True, True),
            "region": (False, False),
        }
        assert api_key["region"]["default"] == "eu"

    async def test_found_by_its_category(self, operator_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        assert await every_slug(operator_client, project.headers, category="internal") == ["acme"]
        assert await every_slug(operator_client, project.headers, category="crm") == ["hubspot", "acme"]
        categories = (await operator_client.get("/toolkits/categories", headers=project.headers)).json()
        assert {"id": "internal", "name": "Internal Tools"} in categories["items"]


class TestOverrides:
    async def test_changed_keys_replace_and_the_rest_stays(
        self, operator_client: httpx.AsyncClient, project: ProjectWithKey
    ) -> None:
        github = await retrieve(operator_client, project, "github")
        assert github["meta"]["description"] == "GitHub, as this operator runs it."
        assert github["name"] == "GitHub" and github["base_url"] == "https://api.github.com"
        oauth2 = next(item for item in github["auth_config_details"] if item["mode"] == "OAUTH2")
        assert oauth2["deprecated_auth_provider_details"] == {
            "authorization_url": "https://github.com/login/oauth/authorize",
            "token_url": "https://github.com/login/oauth/access_token",
        }
        assert fields_by_name(github, "OAUTH2", "auth_config_creation")["scopes"]["default"] == "read:user,repo"
        assert github["meta"]["updated_at"].startswith("2026-12-01T")
        assert github["meta"]["created_at"].startswith("2026-11-27T")

    async def test_a_disabled_toolkit_is_gone(self, operator_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await operator_client.get("/toolkits/stripe", headers=project.headers)
        assert response.status_code == 404 and response.json()["error"]["slug"] == "Toolkit_NotFound"
        assert "stripe" not in await every_slug(operator_client, project.headers, include_deprecated="true")

    async def test_a_deprecated_toolkit_is_listed_only_on_request(
        self, operator_client: httpx.AsyncClient, project: ProjectWithKey
    ) -> None:
        assert "sendgrid" not in await every_slug(operator_client, project.headers)
        with_deprecated = await every_slug(operator_client, project.headers, include_deprecated="true")
        assert with_deprecated == [slug for slug in BUILTIN_ORDER if slug != "stripe"] + ["acme"]
        assert (await operator_client.get("/toolkits/sendgrid", headers=project.headers)).status_code == 200


class TestManagedApps:
    async def test_managed_schemes_are_announced(self, operator_composio: AsyncComposio) -> None:
        page = await operator_composio.toolkits.list(limit=100)
        managed = {item.slug: item.composio_managed_auth_schemes for item in page.items}
        assert managed["github"] == ["OAUTH2"] and managed["acme"] == ["OAUTH2"]
        assert managed["gmail"] == [] and managed["hackernews"] == []
        github = await operator_composio.toolkits.retrieve("github")
        assert [(item.mode, item.scopes.available) for item in github.composio_managed_auth] == [
            ("OAUTH2", ["read:user", "repo"])
        ]
        acme = await operator_composio.toolkits.retrieve("acme")
        assert [(item.mode, item.scopes.available) for item in acme.composio_managed_auth] == [
            ("OAUTH2", ["contacts.read"])
        ]

    async def test_the_client_secret_never_leaves_the_server(
        self, operator_server: Server, operator_client: httpx.AsyncClient, project: ProjectWithKey
    ) -> None:
        bodies: list[str] = []
        for params in ({}, {"include_deprecated": "true", "limit": 1}, {"sort_by": "alphabetically", "search": "a"}):
            cursor = None
            while True:
                response = await operator_client.get(
                    "/toolkits", params={**params, **({"cursor": cursor} if cursor else {})}, headers=project.headers
                )
                bodies.append(response.text)
                cursor = response.json()["next_cursor"]
                if cursor is None:
                    break
        for slug in [*OPERATOR_ORDER, "sendgrid"]:
            bodies.append((await operator_client.get(f"/toolkits/{slug}", headers=project.headers)).text)
        bodies.append((await operator_client.get("/toolkits/categories", headers=project.headers)).text)
        bodies.append((await operator_client.get("/../../openapi.json")).text)
        everything = "\n".join(bodies)
        assert MANAGED_CLIENT_SECRET not in everything
        assert MANAGED_CLIENT_SECRET not in operator_server.log()

    async def test_the_shared_servers_catalog_is_untouched(self, builtin_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        github = (await builtin_client.get("/toolkits/github", headers=project.headers)).json()
        assert github["composio_managed_auth_schemes"] == [] and github["composio_managed_auth"] == []
