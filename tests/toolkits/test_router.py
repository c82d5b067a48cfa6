"""The built-in toolkit catalog over real HTTP, read by the official client and by hand.

These run against a server with no operator file, so they see exactly the shipped catalog; the
shared `server` (whose catalog has other tests' toolkits) is used where the catalog does not matter.
"""

from __future__ import annotations

import httpx
import pytest
from composio_client import AsyncComposio, AuthenticationError, NotFoundError
from composio_client.types.toolkit_list_response import ToolkitListResponse
from composio_client.types.toolkit_retrieve_categories_response import ToolkitRetrieveCategoriesResponse
from composio_client.types.toolkit_retrieve_response import ToolkitRetrieveResponse

from tests.factories import Org, ProjectWithKey
from tests.fixtures.server import Server
from tests.toolkits.helpers import (
    BUILTIN_ORDER,
    PUBLIC_NAMES,
    SECRET_NAMES,
    assert_validation_error,
    every_slug,
    fields_by_name,
    list_toolkits,
)


class TestListShape:
    async def test_the_official_client_reads_the_list(self, composio: AsyncComposio) -> None:
        page = await composio.toolkits.list()
        assert [item.slug for item in page.items] == BUILTIN_ORDER
        assert (page.total_items, page.total_pages, page.current_page, page.next_cursor) == (15, 1, 1, None)
        github = page.items[0]
        assert github.name == "GitHub" and github.type == "native" and github.is_local_toolkit is False
        assert github.auth_schemes == ["OAUTH2", "BEARER_TOKEN"]
        assert github.composio_managed_auth_schemes == [] and github.no_auth is False
        assert github.meta.categories[0].id == "developer-tools"
        assert github.meta.categories[0].name == "Developer Tools"
        assert github.meta.tools_count == 0 and github.meta.triggers_count == 0
        assert github.meta.logo.startswith("https://") and github.meta.app_url == "https://github.com"
        assert github.deprecated.toolkit_id

    async def test_every_field_the_client_declares_validates(
        self, builtin_client: httpx.AsyncClient, project: ProjectWithKey
    ) -> None:
        body = await list_toolkits(builtin_client, project.headers)
        # The client builds models without validating; validating here proves required fields and types.
        parsed = ToolkitListResponse.model_validate(body)
        assert len(parsed.items) == 15
        assert all(item.meta.created_at.endswith("Z") and item.meta.version for item in parsed.items)

    async def test_toolkit_ids_are_stable_and_distinct(self, builtin_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        first = await list_toolkits(builtin_client, project.headers)
        second = await list_toolkits(builtin_client, project.headers)
        ids = [item["deprecated"]["toolkitId"] for item in first["items"]]
        assert ids == [item["deprecated"]["toolkitId"] for item in second["items"]]
        assert len(set(ids)) == len(ids)

    async def test_no_auth_toolkit(self, builtin_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        items = (await list_toolkits(builtin_client, project.headers))["items"]
        hackernews = next(item for item in items if item["slug"] == "hackernews")
        assert hackernews["no_auth"] is True and hackernews["auth_schemes"] == ["NO_AUTH"]

    async def test_same_list_under_v3(self, builtin_server: Server, project: ProjectWithKey) -> None:
        async with httpx.AsyncClient(base_url=f"{builtin_server.base_url}/api/v3") as v3:
            body = (await v3.get("/toolkits", headers=project.headers)).json()
        assert [item["slug"] for item in body["items"]] == BUILTIN_ORDER


class TestPagination:
    async def test_pages_cover_the_catalog_once(self, builtin_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        first = await list_toolkits(builtin_client, project.headers, limit=4)
        assert [item["slug"] for item in first["items"]] == BUILTIN_ORDER[:4]
        assert (first["total_items"], first["total_pages"], first["current_page"]) == (15, 4, 1)
        assert await every_slug(builtin_client, project.headers, limit=4) == BUILTIN_ORDER

    async def test_the_cursor_carries_the_page_size_and_number(
        self, builtin_client: httpx.AsyncClient, project: ProjectWithKey
    ) -> None:
        first = await list_toolkits(builtin_client, project.headers, limit=6)
        second = await list_toolkits(builtin_client, project.headers, cursor=first["next_cursor"])
        assert [item["slug"] for item in second["items"]] == BUILTIN_ORDER[6:12]
        assert second["current_page"] == 2
        third = await list_toolkits(builtin_client, project.headers, cursor=second["next_cursor"])
        assert [item["slug"] for item in third["items"]] == BUILTIN_ORDER[12:]
        assert third["current_page"] == 3 and third["next_cursor"] is None

    async def test_the_official_client_pages_through(self, composio: AsyncComposio) -> None:
        slugs: list[str] = []
        page = await composio.toolkits.list(limit=5, sort_by="alphabetically")
        while True:
            slugs += [item.slug for item in page.items]
            if not page.next_cursor:
                break
            page = await composio.toolkits.list(limit=5, sort_by="alphabetically", cursor=page.next_cursor)
        assert slugs[:3] == ["airtable", "asana", "github"]
        assert sorted(slugs) == sorted(BUILTIN_ORDER) and len(slugs) == 15

    async def test_the_last_page_has_no_cursor(self, builtin_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        body = await list_toolkits(builtin_client, project.headers, limit=15)
        assert len(body["items"]) == 15 and body["next_cursor"] is None and body["total_pages"] == 1

    @pytest.mark.parametrize("cursor", ["garbage", "eyJwYWdlIjoxfQ==", "eyJwYWdlIjoxLCJsaW1pdCI6MCwib2Zmc2V0IjowfQ=="])
    async def test_a_forged_cursor_is_a_400(self, builtin_client: httpx.AsyncClient, project: ProjectWithKey, cursor: str) -> None:
        response = await builtin_client.get("/toolkits", params={"cursor": cursor}, headers=project.headers)
        assert_validation_error(response, "cursor")


class TestFilters:
    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"category": "payments"}, ["stripe"]),
            ({"category": "Project Management"}, ["linear", "jira", "asana"]),
            ({"category": "no-such-category"}, []),
            ({"search": "calendar"}, ["googlecalendar"]),
            ({"search": "GIT"}, ["github"]),
            ({"search": "email delivery"}, ["sendgrid"]),
            ({"search": "crm", "category": "marketing"}, ["hubspot"]),
            ({"managed_by": "project"}, []),
            ({"type": "custom"}, []),
        ],
    )
    async def test_filter(
        self, builtin_client: httpx.AsyncClient, project: ProjectWithKey, params: dict[str, str], expected: list[str]
    ) -> None:
        body = await list_toolkits(builtin_client, project.headers, **params)
        assert [item["slug"] for item in body["items"]] == expected
        assert body["total_items"] == len(expected)

    @pytest.mark.parametrize("params", [{"managed_by": "composio"}, {"managed_by": "all"}, {"type": "native"}])
    async def test_provenance_filters_that_keep_everything(
        self, builtin_client: httpx.AsyncClient, project: ProjectWithKey, params: dict[str, str]
    ) -> None:
        assert await every_slug(builtin_client, project.headers, **params) == BUILTIN_ORDER

    async def test_alphabetical_order(self, builtin_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        body = await list_toolkits(builtin_client, project.headers, sort_by="alphabetically")
        assert [item["name"] for item in body["items"]] == [
            "Airtable", "Asana", "GitHub", "Gmail", "Google Calendar", "Hacker News", "HubSpot", "Jira",
            "Linear", "Notion", "OpenAI", "SendGrid", "Slack", "Stripe", "Twilio",
        ]

    async def test_filters_and_pages_combine(self, builtin_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        slugs = await every_slug(builtin_client, project.headers, category="communication", limit=2)
        assert slugs == ["gmail", "slack", "sendgrid", "twilio"]

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"sort_by": "popularity"}, "sort_by"),
            ({"managed_by": "someone"}, "managed_by"),
            ({"type": "foreign"}, "type"),
            ({"limit": "0"}, "limit"),
            ({"limit": "1001"}, "limit"),
            ({"limit": "ten"}, "limit"),
            ({"include_deprecated": "perhaps"}, "include_deprecated"),
            ({"search": "x" * 201}, "search"),
        ],
    )
    async def test_nonsense_is_named(
        self, builtin_client: httpx.AsyncClient, project: ProjectWithKey, params: dict[str, str], field: str
    ) -> None:
        assert_validation_error(await builtin_client.get("/toolkits", params=params, headers=project.headers), field)

    async def test_the_client_sends_limits_as_numbers(self, composio: AsyncComposio) -> None:
        page = await composio.toolkits.list(limit=3.0)
        assert len(page.items) == 3 and page.total_pages == 5


class TestRetrieve:
    async def test_the_official_client_reads_a_google_toolkit(self, composio: AsyncComposio) -> None:
        gmail = await composio.toolkits.retrieve("gmail")
        assert gmail.slug == "gmail" and gmail.enabled is True and gmail.type == "native"
        assert gmail.base_url == "https://gmail.googleapis.com"
        assert gmail.meta.available_versions == [gmail.meta.version]
        assert [category.slug for category in gmail.meta.categories] == ["communication", "productivity"]
        details = {detail.mode: detail for detail in gmail.auth_config_details or []}
        assert set(details) == {"OAUTH2", "BEARER_TOKEN"}
        oauth2 = details["OAUTH2"]
        assert [field.name for field in oauth2.fields.auth_config_creation.required] == ["client_id", "client_secret"]
        scopes = next(field for field in oauth2.fields.auth_config_creation.optional if field.name == "scopes")
        assert "https://www.googleapis.com/auth/gmail.modify" in (scopes.default or "").split(",")
        assert oauth2.deprecated_auth_provider_details is not None
        assert oauth2.deprecated_auth_provider_details.authorization_url == "https://accounts.google.com/o/oauth2/v2/auth"
        assert oauth2.deprecated_auth_provider_details.token_url == "https://oauth2.googleapis.com/token"
        bearer = details["BEARER_TOKEN"].fields.connected_account_initiation
        assert [field.name for field in bearer.required] == ["token"] and bearer.required[0].is_secret
        proxy = {entry["auth_method"]: entry for entry in gmail.deprecated.raw_proxy_info_by_auth_schemes}
        assert proxy["OAUTH2"]["disable_pkce"] is False
        assert proxy["OAUTH2"]["authorization_params"]["access_type"] == "offline"

    @pytest.mark.parametrize("slug", BUILTIN_ORDER)
    async def test_every_builtin_validates_against_the_client_model(
        self, builtin_client: httpx.AsyncClient, project: ProjectWithKey, slug: str
    ) -> None:
        response = await builtin_client.get(f"/toolkits/{slug}", headers=project.headers)
        assert response.status_code == 200
        parsed = ToolkitRetrieveResponse.model_validate(response.json())
        assert parsed.slug == slug
        for detail in parsed.auth_config_details or []:
            stages = (detail.fields.auth_config_creation, detail.fields.connected_account_initiation)
            for stage in stages:
                assert all(field.required for field in stage.required)
                assert not any(field.required for field in stage.optional)
                for field in stage.required + stage.optional:
                    if field.name in SECRET_NAMES:
                        assert field.is_secret is True, (slug, field.name)
                    if field.name in PUBLIC_NAMES:
                        assert field.is_secret is False, (slug, field.name)

    async def test_connection_fields_of_a_site_scoped_scheme(
        self, builtin_client: httpx.AsyncClient, project: ProjectWithKey
    ) -> None:
        jira = (await builtin_client.get("/toolkits/jira", headers=project.headers)).json()
        basic = fields_by_name(jira, "BASIC", "connected_account_initiation")
        assert list(basic) == ["subdomain", "username", "password"]
        assert [basic[name]["is_secret"] for name in basic] == [False, False, True]
        assert basic["password"]["displayName"] == "API token"
        proxy = {entry["auth_method"]: entry for entry in jira["deprecated"]["rawProxyInfoByAuthSchemes"]}
        assert proxy["BASIC"]["proxy"]["base_url"] == "https://{subdomain}.atlassian.net"
        assert jira["base_url"] == "https://api.atlassian.com"

    async def test_an_api_key_toolkit_needs_nothing_to_create_an_auth_config(
        self, builtin_client: httpx.AsyncClient, project: ProjectWithKey
    ) -> None:
        stripe = (await builtin_client.get("/toolkits/stripe", headers=project.headers)).json()
        assert fields_by_name(stripe, "API_KEY", "auth_config_creation") == {}
        api_key = fields_by_name(stripe, "API_KEY", "connected_account_initiation")["api_key"]
        assert api_key["required"] is True and api_key["is_secret"] is True
        assert stripe["auth_config_details"][0]["auth_hint_url"] == "https://dashboard.stripe.com/apikeys"
        assert stripe["auth_config_details"][0]["deprecated_auth_provider_details"] is None

    async def test_slugs_match_in_any_case(self, builtin_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await builtin_client.get("/toolkits/GitHub", headers=project.headers)
        assert response.status_code == 200 and response.json()["slug"] == "github"

    @pytest.mark.parametrize("version", ["latest", "20261127_00"])
    async def test_known_versions(self, builtin_client: httpx.AsyncClient, project: ProjectWithKey, version: str) -> None:
        response = await builtin_client.get("/toolkits/slack", params={"version": version}, headers=project.headers)
        assert response.status_code == 200 and response.json()["meta"]["version"] == "20261127_00"

    async def test_unknown_version_is_a_404(self, builtin_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await builtin_client.get("/toolkits/slack", params={"version": "20200101_00"}, headers=project.headers)
        assert response.status_code == 404
        assert "20200101_00" in response.json()["error"]["message"]

    async def test_unknown_slug_is_a_404_envelope(self, builtin_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await builtin_client.get("/toolkits/nosuchtoolkit", headers=project.headers)
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["slug"] == "Toolkit_NotFound" and error["status"] == 404
        assert "nosuchtoolkit" in error["message"] and error["request_id"] == response.headers["x-request-id"]

    async def test_the_official_client_raises_not_found(self, composio: AsyncComposio) -> None:
        with pytest.raises(NotFoundError):
            await composio.toolkits.retrieve("nosuchtoolkit")


class TestCategories:
    async def test_categories_filter_the_list(self, composio: AsyncComposio) -> None:
        categories = await composio.toolkits.retrieve_categories()
        ids = [item.id for item in categories.items]
        assert "developer-tools" in ids and "payments" in ids and categories.total_items == len(ids)
        for category_id in ids:
            assert (await composio.toolkits.list(category=category_id)).items, category_id

    async def test_shape(self, builtin_client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await builtin_client.get("/toolkits/categories", headers=project.headers)
        parsed = ToolkitRetrieveCategoriesResponse.model_validate(response.json())
        assert {"id": "payments", "name": "Payments"} in [item.model_dump() for item in parsed.items]


class TestAuthentication:
    @pytest.mark.parametrize("path", ["/toolkits", "/toolkits/github", "/toolkits/categories"])
    async def test_a_project_key_is_required(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)
        assert response.status_code == 401
        assert response.json()["error"]["slug"] == "Auth_InvalidApiKey"

    async def test_an_org_key_is_not_a_project_key(self, client: httpx.AsyncClient, org: Org) -> None:
        response = await client.get("/toolkits", headers={"x-api-key": org.api_key})
        assert response.status_code == 401

    async def test_the_official_client_without_a_valid_key(self, server: Server) -> None:
        async with AsyncComposio(api_key="ak_" + "x" * 32, base_url=server.base_url, max_retries=0) as composio:
            with pytest.raises(AuthenticationError):
                await composio.toolkits.list()

    async def test_openapi_documents_the_routes(self, client: httpx.AsyncClient) -> None:
        document = (await client.get("/../../openapi.json")).json()
        retrieve = document["paths"]["/api/v3.1/toolkits/{slug}"]["get"]
        assert {"400", "401", "404"} <= set(retrieve["responses"])
        parameters = {item["name"] for item in document["paths"]["/api/v3.1/toolkits"]["get"]["parameters"]}
        assert {"category", "search", "sort_by", "managed_by", "type", "include_deprecated", "limit", "cursor"} <= parameters
