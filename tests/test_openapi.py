"""The OpenAPI document says what the server enforces: a request a generated client builds from
the document is not refused for a rule the document does not state, and the other way round."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tenantry.api import CURRENT_PREFIX
from tenantry.connected_accounts.schemas import Status
from tenantry.usage.service import ENTITY_TYPES
from tests.factories import Org, ProjectWithKey
from tests.test_inputs import assert_refused


@pytest.fixture(scope="module")
async def document(server) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        return dict((await http.get("/openapi.json")).json())


def _operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return dict(document["paths"][CURRENT_PREFIX + path][method])


def _parameter(document: dict[str, Any], method: str, path: str, name: str) -> dict[str, Any]:
    return next(p for p in _operation(document, method, path)["parameters"] if p["name"] == name)


def _body_schema(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    schema = _operation(document, method, path)["requestBody"]["content"]["application/json"]["schema"]
    # An optional body is anyOf the schema and null.
    reference = next(variant["$ref"] for variant in schema.get("anyOf", [schema]) if "$ref" in variant)
    return dict(document["components"]["schemas"][reference.rsplit("/", 1)[1]])


def _string_variant(schema: dict[str, Any]) -> dict[str, Any]:
    return next(variant for variant in schema.get("anyOf", [schema]) if variant.get("type") == "string")


def _takes_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or {"type": "null"} in schema.get("anyOf", [])


class TestNull:
    async def test_settings_take_null_exactly_where_the_schema_does(
        self, client: httpx.AsyncClient, project: ProjectWithKey, document: dict[str, Any]
    ) -> None:
        properties = _body_schema(document, "patch", "/org/project/config")["properties"]
        assert not _takes_null(properties["require_mcp_api_key"])
        for name, schema in properties.items():
            response = await client.patch("/org/project/config", json={name: None}, headers=project.headers)
            assert (response.status_code == 200) is _takes_null(schema), (name, response.text)


class TestCursors:
    def test_every_cursor_parameter_states_the_format(self, document: dict[str, Any]) -> None:
        cursors = [
            parameter
            for operations in document["paths"].values()
            for operation in operations.values()
            for parameter in operation.get("parameters", [])
            if parameter["name"] == "cursor"
        ]
        assert len(cursors) >= 8
        assert {_string_variant(parameter["schema"]).get("pattern") for parameter in cursors} == {r"^[A-Za-z0-9_-]*={0,2}$"}
        search = _body_schema(document, "post", "/logs/tool_execution")
        assert _string_variant(search["properties"]["cursor"])["pattern"] == r"^[A-Za-z0-9_-]*={0,2}$"

    @pytest.mark.parametrize("path", ["/auth_configs", "/connected_accounts", "/toolkits", "/tools", "/webhook_subscriptions"])
    async def test_a_value_outside_it_is_refused(self, client: httpx.AsyncClient, project: ProjectWithKey, path: str) -> None:
        assert_refused(await client.get(path, params={"cursor": "not base64!"}, headers=project.headers), "cursor", "invalid")

    async def test_one_the_server_made_is_taken(self, client: httpx.AsyncClient, org: Org, document: dict[str, Any]) -> None:
        for _ in range(2):
            created = await client.post("/org/owner/project/new", json={"name": f"cursor-{_}-{org.id[-6:]}"}, headers=org.headers)
            assert created.status_code == 200, created.text
        first = (await client.get("/org/owner/project/list", params={"limit": 1}, headers=org.headers)).json()
        pattern = _string_variant(_parameter(document, "get", "/org/owner/project/list", "cursor")["schema"])["pattern"]
        assert re.fullmatch(pattern, first["next_cursor"])
        page = await client.get("/org/owner/project/list", params={"limit": 1, "cursor": first["next_cursor"]}, headers=org.headers)
        assert page.status_code == 200, page.text


class TestRanges:
    async def test_usage_from_must_be_before_to(self, client: httpx.AsyncClient, project: ProjectWithKey, document: dict[str, Any]) -> None:
        described = _body_schema(document, "post", "/project/usage/summary")["properties"]["from"]["description"]
        assert "before `to`" in described
        response = await client.post("/project/usage/summary", json={"from": 2000, "to": 1000}, headers=project.headers)
        assert_refused(response, "from", "must be before to")

    async def test_logs_from_must_be_before_to(self, client: httpx.AsyncClient, project: ProjectWithKey, document: dict[str, Any]) -> None:
        time_range = document["components"]["schemas"]["TimeRange"]["properties"]
        assert "before `to`" in time_range["from"]["description"]
        body = {"time_range": {"from": 2000, "to": 1000}}
        assert_refused(await client.post("/logs/tool_execution", json=body, headers=project.headers), "time_range.from", "must be before")


class TestEnums:
    def test_entity_types_are_listed(self, document: dict[str, Any]) -> None:
        for path in ("/project/usage/{entity_type}", "/org/usage/{entity_type}"):
            assert set(_parameter(document, "post", path, "entity_type")["schema"]["enum"]) == set(ENTITY_TYPES)
        summary = _body_schema(document, "post", "/project/usage/summary")["properties"]["entity_types"]
        items = next(variant for variant in summary["anyOf"] if variant.get("type") == "array")["items"]
        assert set(items["enum"]) == set(ENTITY_TYPES)

    async def test_an_unlisted_entity_type_is_refused(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        assert_refused(await client.post("/project/usage/minutes", headers=project.headers), "entity_type", "Input should be")
        response = await client.post("/project/usage/summary", json={"entity_types": ["minutes"]}, headers=project.headers)
        assert_refused(response, "entity_types.0", "Input should be")
        assert (await client.post("/project/usage/sessions", headers=project.headers)).status_code == 200

    @pytest.mark.parametrize(
        ("statuses", "taken"),
        [("ACTIVE", True), ("ACTIVE,FAILED,EXPIRED", True), (",".join(Status), True), ("active", False), ("ACTIVE,DELETED", False)],
    )
    async def test_statuses_are_taken_exactly_as_the_pattern_says(
        self, client: httpx.AsyncClient, project: ProjectWithKey, document: dict[str, Any], statuses: str, taken: bool
    ) -> None:
        pattern = _string_variant(_parameter(document, "get", "/connected_accounts", "statuses")["schema"])["pattern"]
        assert bool(re.fullmatch(pattern, statuses)) is taken
        response = await client.get("/connected_accounts", params={"statuses": statuses}, headers=project.headers)
        assert (response.status_code == 200) is taken, response.text


class TestHttpsUrls:
    def test_the_schema_says_https(self, document: dict[str, Any]) -> None:
        schemas = document["components"]["schemas"]
        urls = [
            schemas["ProjectConfigUpdate"]["properties"]["logo_url"],
            schemas["ProjectConfigUpdate"]["properties"]["oauth_callback_verifier_url"],
            schemas["ProxyConfig"]["properties"]["proxy_url"],
            schemas["WebhookSubscriptionCreate"]["properties"]["webhook_url"],
        ]
        assert {_string_variant(url)["pattern"] for url in urls} == {"^https://"}

    @pytest.mark.parametrize("url", ["http://cdn.example.com/logo.png", "HTTPS://cdn.example.com/logo.png", " https://cdn.example.com/logo.png"])
    async def test_what_the_pattern_refuses_the_server_refuses(
        self, client: httpx.AsyncClient, project: ProjectWithKey, url: str
    ) -> None:
        assert not re.match("^https://", url)
        response = await client.patch("/org/project/config", json={"logo_url": url}, headers=project.headers)
        assert_refused(response, "logo_url", "must be an https URL")


class TestMethodNotAllowed:
    # HEAD may be listed or not, as routes answer it or not.
    @pytest.mark.parametrize(
        ("path", "methods"),
        [
            ("/org/project/config", {"GET", "PATCH"}),
            ("/connected_accounts/ca_000000000000", {"GET", "PATCH", "DELETE"}),
            ("/webhook_subscriptions", {"GET", "POST"}),
        ],
    )
    async def test_allow_lists_every_method_of_the_path(
        self, client: httpx.AsyncClient, project: ProjectWithKey, path: str, methods: set[str]
    ) -> None:
        response = await client.put(path, headers=project.headers)
        assert response.status_code == 405 and response.json()["error"]["status"] == 405
        allowed = set(response.headers["allow"].split(", "))
        assert allowed - {"HEAD"} == methods
        for method in allowed:
            assert (await client.request(method, path, headers=project.headers)).status_code != 405, method

    async def test_on_a_dashboard_page_too(self, server) -> None:  # type: ignore[no-untyped-def]
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            response = await http.put("/dashboard/orgs/ok_000000000000/members")
        assert response.status_code == 405
        assert set(response.headers["allow"].split(", ")) - {"HEAD"} == {"GET", "POST"}
