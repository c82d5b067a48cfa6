"""Scoped project keys: the route table names a permission for every project route, and a key
without it gets a 403 naming it, proven route by route over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tenantry.api import CURRENT_PREFIX
from tenantry.auth import scopes
from tenantry.auth.scopes import Area, Level
from tenantry.errors import MissingPermission
from tenantry.main import create_app
from tests.factories import Org, ProjectWithKey, create_api_key, create_auth_config
from tests.mcp.helpers import INITIALIZE, MCP_HEADERS

FILLERS = {"status": "DISABLED", "nanoid": "xx_000000000000", "slug": "no-such-toolkit"}
UUID_ZERO = "00000000-0000-0000-0000-000000000000"


def _operations() -> Iterator[tuple[str, str, set[str]]]:
    """(method, path below the prefix, security schemes) of every operation in the OpenAPI document,
    which FastAPI builds from the live route table (so it sees routes added by any router)."""
    for path, operations in create_app().openapi()["paths"].items():
        if not path.startswith(CURRENT_PREFIX):
            continue
        for method, operation in operations.items():
            schemes = {name for requirement in operation.get("security", []) for name in requirement}
            yield method.upper(), path.removeprefix(CURRENT_PREFIX), schemes


def project_routes() -> set[tuple[str, str]]:
    return {(method, path) for method, path, schemes in _operations() if "ApiKeyAuth" in schemes}


def _fill(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: FILLERS.get(match.group(1), UUID_ZERO), path)


def _permissions() -> list[tuple[Area, str]]:
    return sorted({(area, access) for area, access in scopes.ROUTES.values()})


def _only(area: Area, access: str) -> dict[str, str]:
    return {area.value: access}


def _all_but(area: Area, access: str) -> dict[str, str]:
    """The most a key can hold without `area:access`."""
    levels = {other.value: scopes.LEVELS[other][-1].value for other in Area if other is not area}
    other_access = "write" if access == "read" else "read"
    if Level(other_access) in scopes.LEVELS[area]:
        levels[area.value] = other_access
    return levels


class TestRouteTable:
    def test_every_project_route_needs_a_permission(self) -> None:
        missing = sorted(project_routes() - set(scopes.ROUTES))
        assert not missing, f"add these routes to tenantry.auth.scopes.ROUTES: {missing}"

    def test_every_table_entry_is_a_project_route(self) -> None:
        stale = sorted(set(scopes.ROUTES) - project_routes())
        assert not stale, f"tenantry.auth.scopes.ROUTES names routes that take no project key: {stale}"

    def test_each_permission_is_a_level_its_area_offers(self) -> None:
        for (method, path), (area, access) in scopes.ROUTES.items():
            offered = scopes.LEVELS[area]
            assert Level(access) in offered or Level.read_write in offered, f"{method} {path}: {area} has no {access} level"

    def test_read_write_grants_both(self) -> None:
        assert scopes.granted({"webhooks": "read_write", "tools": "read"}) == {"webhooks:read", "webhooks:write", "tools:read"}
        assert scopes.granted({}) == frozenset()

    def test_an_unlisted_route_is_closed_to_scoped_keys(self) -> None:
        class Route:
            path_format = "/somewhere/new"

        with pytest.raises(MissingPermission):
            scopes.require(frozenset({"auth_configs:read"}), "GET", Route())
        with pytest.raises(MissingPermission):
            scopes.require(frozenset({"auth_configs:read"}), "GET", None)


@pytest.fixture
async def keys_by_permission(client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> dict[tuple[Area, str], dict[str, str]]:
    """For each permission a route needs: a key holding only it, and a key holding everything else."""
    keys: dict[tuple[Area, str], dict[str, str]] = {}
    for area, access in _permissions():
        only = await create_api_key(client, org, project.id, scopes=_only(area, access))
        all_but = await create_api_key(client, org, project.id, scopes=_all_but(area, access))
        keys[(area, access)] = {"only": only["key"], "all_but": all_but["key"]}
    return keys


class TestMatrix:
    async def test_each_route_admits_its_permission_and_refuses_every_other(
        self, client: httpx.AsyncClient, keys_by_permission: dict[tuple[Area, str], dict[str, str]]
    ) -> None:
        routes = sorted(scopes.ROUTES.items(), key=lambda item: item[0][0] == "DELETE")
        assert len(routes) >= 20
        for (method, path), (area, access) in routes:
            needed = f"{area.value}:{access}"
            body: Any = {} if method in ("POST", "PATCH", "PUT") else None
            held = keys_by_permission[(area, access)]
            refused = await client.request(method, _fill(path), json=body, headers={"x-api-key": held["all_but"]})
            assert refused.status_code == 403, f"{method} {path} without {needed}: {refused.status_code} {refused.text}"
            error = refused.json()["error"]
            assert error["slug"] == "Auth_MissingPermission" and error["status"] == 403
            assert needed in error["message"] and error["errors"] == [f"x-api-key: missing permission {needed}"]
            admitted = await client.request(method, _fill(path), json=body, headers={"x-api-key": held["only"]})
            assert admitted.status_code not in (401, 403), f"{method} {path} with only {needed}: {admitted.status_code} {admitted.text}"

    async def test_a_read_key_reads_and_cannot_write(
        self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey
    ) -> None:
        reader = await create_api_key(client, org, project.id, scopes={"auth_configs": "read", "project_config": "read"})
        headers = {"x-api-key": reader["key"]}
        assert (await client.get("/auth_configs", headers=headers)).status_code == 200
        assert (await client.get("/org/project/config", headers=headers)).status_code == 200
        created = await client.post(
            "/auth_configs", json={"toolkit": {"slug": "stripe"}, "auth_config": {"type": "use_custom_auth", "authScheme": "API_KEY"}}, headers=headers
        )
        assert created.status_code == 403 and "auth_configs:write" in created.json()["error"]["message"]
        assert (await client.get("/connected_accounts", headers=headers)).status_code == 403
        assert (await client.patch("/org/project/config", json={"display_name": "x"}, headers=headers)).status_code == 403
        unchanged = (await client.get("/org/project/config", headers=project.headers)).json()
        assert unchanged["display_name"] is None

    async def test_the_previous_prefix_enforces_the_same_table(self, server, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:  # type: ignore[no-untyped-def]
        reader = await create_api_key(client, org, project.id, scopes={"toolkits": "read"})
        async with httpx.AsyncClient(base_url=f"{server.base_url}/api/v3") as v3:
            assert (await v3.get("/toolkits", headers={"x-api-key": reader["key"]})).status_code == 200
            assert (await v3.get("/auth_configs", headers={"x-api-key": reader["key"]})).status_code == 403

    async def test_a_full_key_reaches_every_area(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        for path in ("/auth_configs", "/connected_accounts", "/toolkits", "/org/project/config", "/mcp/servers"):
            assert (await client.get(path, headers=project.headers)).status_code == 200, path


class TestScopesOnCreate:
    @pytest.mark.parametrize(
        ("given", "problem"),
        [
            ({"tools": "write"}, "scopes.tools:"),
            ({"observability": "read_write"}, "scopes.observability:"),
            ({"tool_execution": "read"}, "scopes.tool_execution:"),
            ({"auth_configs": "admin"}, "scopes.auth_configs:"),
            ({"billing": "read"}, "scopes.billing: is not a known field"),
            ({"auth_configs": "none"}, "scopes:"),
            ({}, "scopes:"),
        ],
    )
    async def test_levels_an_area_does_not_offer_are_400(
        self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey, given: dict[str, str], problem: str
    ) -> None:
        response = await client.post(
            f"/org/owner/project/{project.id}/api_keys", json={"name": "bad", "scopes": given}, headers=org.headers
        )
        assert response.status_code == 400, response.text
        assert any(item.startswith(problem) for item in response.json()["error"]["errors"]), response.text

    async def test_the_scopes_shown_are_every_area_with_its_level(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        created = await create_api_key(client, org, project.id, scopes={"webhooks": "read_write", "tools": "read"})
        assert created["scopes"] == {area.value: {"webhooks": "read_write", "tools": "read"}.get(area.value, "none") for area in Area}


class TestMcpEndpoint:
    """The MCP endpoint is mounted outside the route table; it checks the sessions area itself."""

    async def test_it_needs_sessions_write(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        created = await client.post("/mcp/servers", json={"name": "Scoped", "auth_config_ids": [auth_config_id]}, headers=project.headers)
        url = created.json()["mcp_url"]
        reader = await create_api_key(client, org, project.id, scopes={"sessions": "read", "tool_execution": "write"})
        writer = await create_api_key(client, org, project.id, scopes={"sessions": "write"})
        async with httpx.AsyncClient() as http:
            refused = await http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "x-api-key": reader["key"]})
            admitted = await http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "x-api-key": writer["key"]})
        assert refused.status_code == 403 and "sessions:write" in refused.json()["error"]["message"]
        assert admitted.status_code == 200, admitted.text
