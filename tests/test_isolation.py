"""Isolation, proven over the application's own route table, so a new route is covered automatically.

Two organizations with two projects each. For every project-scoped route that names an object,
every other project's key gets a 404 that cannot be told apart from a missing id; every list
answers another project's key without a single row of the owner's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tenantry.api import CURRENT_PREFIX
from tenantry.main import create_app
from tests.factories import Org, ProjectWithKey, create_api_key_account, create_auth_config, create_org, create_project, without_request_id

# The first path segment of a project-owned object's routes -> a missing id of the same shape.
MISSING_IDS = {"auth_configs": "ac_000000000000", "connected_accounts": "ca_000000000000"}
# Routes that take a project key but read data every project shares (the operator's catalog).
SHARED_CATALOG = {"toolkits"}
# The smallest body each write route accepts, so validation passes and the tenant check decides.
BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/auth_configs/{nanoid}"): {"type": "custom", "name": "stolen"},
    ("PATCH", "/auth_configs/{nanoid}/{status}"): None,
    ("DELETE", "/auth_configs/{nanoid}"): None,
    ("GET", "/auth_configs/{nanoid}"): None,
    ("GET", "/connected_accounts/{nanoid}"): None,
    ("PATCH", "/connected_accounts/{nanoid}"): {"alias": "stolen"},
    ("PATCH", "/connected_accounts/{nanoid}/status"): {"enabled": False},
    ("POST", "/connected_accounts/{nanoid}/refresh"): {},
    ("DELETE", "/connected_accounts/{nanoid}"): None,
}
FILLERS = {"status": "DISABLED"}


def _operations() -> Iterator[tuple[str, str, set[str]]]:
    """(method, path below the prefix, security schemes) of every operation in the OpenAPI document.

    The document is built from the live route table, and each principal dependency declares its
    header as a security scheme, so this sees every route and who it lets in.
    """
    for path, operations in create_app().openapi()["paths"].items():
        if not path.startswith(CURRENT_PREFIX):
            continue
        for method, operation in operations.items():
            schemes = {name for requirement in operation.get("security", []) for name in requirement}
            yield method.upper(), path.removeprefix(CURRENT_PREFIX), schemes


def project_routes() -> list[tuple[str, str]]:
    return [(method, path) for method, path, schemes in _operations() if "ApiKeyAuth" in schemes]


def _segment(path: str) -> str:
    return path.strip("/").split("/")[0]


def _fill(path: str, object_id: str) -> str:
    path = path.replace("{nanoid}", object_id)
    return re.sub(r"\{(\w+)\}", lambda match: FILLERS[match.group(1)], path)


class TestRouteTable:
    def test_every_api_route_names_its_principal(self) -> None:
        operations = list(_operations())
        assert len(operations) > 10
        for method, path, schemes in operations:
            assert schemes & {"ApiKeyAuth", "OrgApiKeyAuth"}, f"{method} {path} authenticates nobody"

    def test_every_project_route_is_known_to_this_test(self) -> None:
        for method, path in project_routes():
            if "{" not in path or _segment(path) in SHARED_CATALOG:
                continue
            assert _segment(path) in MISSING_IDS, f"{method} {path}: add its resource to MISSING_IDS"
            assert (method, path) in BODIES, f"{method} {path}: add a minimal body to BODIES"


@pytest.fixture
async def world(client: httpx.AsyncClient, sessionmaker: Any) -> dict[str, Any]:
    orgs: list[Org] = [await create_org(sessionmaker), await create_org(sessionmaker)]
    projects = [await create_project(client, org) for org in orgs for _ in range(2)]
    owned: dict[str, dict[str, str]] = {}
    for project in projects:
        auth_config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        account_id = await create_api_key_account(client, project, auth_config_id, f"sk_live_{project.id}")
        owned[project.id] = {"auth_configs": auth_config_id, "connected_accounts": account_id}
    return {"projects": projects, "owned": owned}


class TestNoCrossProjectAccess:
    async def test_objects_of_another_project_are_indistinguishable_from_missing(self, client: httpx.AsyncClient, world: dict[str, Any]) -> None:
        projects: list[ProjectWithKey] = world["projects"]
        owner, others = projects[0], projects[1:]
        routes = [(m, p) for m, p in project_routes() if "{" in p and _segment(p) in MISSING_IDS]
        assert routes, "the route table lists no project-owned object routes"
        # DELETE last, so an isolation failure cannot hide the other checks.
        for method, path in sorted(routes, key=lambda item: item[0] == "DELETE"):
            resource = _segment(path)
            body = BODIES[(method, path)]
            for intruder in others:
                stolen = await client.request(method, _fill(path, world["owned"][owner.id][resource]), json=body, headers=intruder.headers)
                missing = await client.request(method, _fill(path, MISSING_IDS[resource]), json=body, headers=intruder.headers)
                assert stolen.status_code == 404, f"{method} {path} with {intruder.id}'s key: {stolen.status_code} {stolen.text}"
                assert without_request_id(stolen.json()) == without_request_id(missing.json()), f"{method} {path}"
        for resource, object_id in world["owned"][owner.id].items():
            response = await client.get(f"/{resource}/{object_id}", headers=owner.headers)
            assert response.status_code == 200, f"{resource} {object_id} was changed by another project"
            assert "stolen" not in response.text

    async def test_lists_never_contain_another_projects_rows(self, client: httpx.AsyncClient, world: dict[str, Any]) -> None:
        projects: list[ProjectWithKey] = world["projects"]
        lists = [path for method, path in project_routes() if method == "GET" and "{" not in path]
        assert {"/auth_configs", "/connected_accounts"} <= set(lists)
        for path in lists:
            for reader in projects:
                text = (await client.get(path, headers=reader.headers)).text
                if _segment(path) in MISSING_IDS:
                    # The check can fail: a project's own list does show its rows.
                    assert world["owned"][reader.id][_segment(path)] in text
                for project in projects:
                    if project is not reader:
                        for object_id in world["owned"][project.id].values():
                            assert object_id not in text, f"{path} read by {reader.id} shows {project.id}'s {object_id}"
