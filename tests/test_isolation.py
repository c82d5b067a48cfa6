"""Isolation, proven over the application's own route table, so a new route is covered automatically.

Two organizations with two projects each. For every project-scoped route that names an object,
every other project's key gets a 404 that cannot be told apart from a missing id; every list
answers another project's key without a single row of the owner's.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tenantry.api import CURRENT_PREFIX
from tenantry.main import create_app
from tests.factories import Org, ProjectWithKey, create_api_key_account, create_auth_config, create_org, create_project, without_request_id

# The first path segment of a project-owned object's routes -> a missing id of the same shape.
MISSING_IDS = {
    "auth_configs": "ac_000000000000",
    "connected_accounts": "ca_000000000000",
    "mcp": "00000000-0000-0000-0000-000000000000",
    "webhook_subscriptions": "ws_000000000000",
    "logs": "log_000000000000",
}
# Where each resource's object is read, when not at /<resource>/<id>.
OBJECT_PATHS = {"logs": "/logs/tool_execution/{}"}
# Routes that take a project key but read data every project shares (the operator's catalog).
SHARED_CATALOG = {"toolkits", "tools"}
# Project routes whose path parameter names no object (an entity type of the usage API).
NO_OBJECT_ROUTES = {("POST", "/project/usage/{entity_type}")}
# Lists under a project-owned segment that show the same catalog to every project.
SHARED_LISTS = {"/webhook_subscriptions/event_types"}
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
    ("GET", "/mcp/{id}"): None,
    ("PATCH", "/mcp/{id}"): {"name": "stolen"},
    ("DELETE", "/mcp/{id}"): None,
    ("GET", "/webhook_subscriptions/{id}"): None,
    ("PATCH", "/webhook_subscriptions/{id}"): {"enabled_events": []},
    ("DELETE", "/webhook_subscriptions/{id}"): None,
    ("POST", "/webhook_subscriptions/{id}/rotate_secret"): None,
    ("GET", "/webhook_subscriptions/{id}/messages"): None,
    ("GET", "/webhook_subscriptions/{id}/messages/{message_id}"): None,
    ("GET", "/logs/tool_execution/{id}"): None,
    ("POST", "/webhook_subscriptions/{id}/messages/{message_id}/resend"): None,
    ("POST", "/webhook_subscriptions/{id}/recover"): {"since": "2026-01-01T00:00:00Z"},
}
FILLERS = {"status": "DISABLED", "message_id": "msg_00000000-0000-4000-8000-000000000000"}
# Organization routes naming an organization-owned object other than a project (tests/projects walks
# project ids) -> a missing id of the same shape; and the smallest body each such route accepts.
ORG_MISSING_IDS = {"api_keys": "0" * 26, "members": "mb_000000000000"}
# How the walk makes one such object in each organization: its create route and body (the answer's `id` names it).
ORG_CREATES: dict[str, tuple[str, Any]] = {"api_keys": ("/org/owner/api_keys", {"name": "isolation"})}
# A body may be a function, for objects that must differ per organization (one email is one person everywhere).
ORG_CREATES["members"] = ("/org/owner/members", lambda: {"email": f"{secrets.token_hex(6)}@example.com", "name": "Isolation", "role": "developer"})
ORG_BODIES: dict[tuple[str, str], Any] = {("DELETE", "/org/owner/api_keys/{key_id}"): None}
ORG_BODIES.update({
    ("PATCH", "/org/owner/members/{member_id}"): {"role": "admin"},
    ("DELETE", "/org/owner/members/{member_id}"): None,
    ("POST", "/org/owner/members/{member_id}/invitation"): None,
})
# Organization routes whose path parameter names no object.
ORG_NO_OBJECT_ROUTES = {("POST", "/org/usage/{entity_type}")}


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


def org_routes() -> list[tuple[str, str]]:
    """Routes an organization key reaches that no project key does."""
    return [(method, path) for method, path, schemes in _operations() if "OrgApiKeyAuth" in schemes and "ApiKeyAuth" not in schemes]


def _org_segment(path: str) -> str:
    """`api_keys` of /org/owner/api_keys/{key_id}, `project` of /org/owner/project/…, `usage` of /org/usage/…"""
    return path.removeprefix("/org/owner/").removeprefix("/org/").split("/")[0]


def project_routes() -> list[tuple[str, str]]:
    return [(method, path) for method, path, schemes in _operations() if "ApiKeyAuth" in schemes]


def _segment(path: str) -> str:
    return path.strip("/").split("/")[0]


def _fill(path: str, object_id: str) -> str:
    """The object's id in the first path parameter, a valid value in any later one."""
    path = re.sub(r"\{\w+\}", object_id, path, count=1)
    return re.sub(r"\{(\w+)\}", lambda match: FILLERS[match.group(1)], path)


class TestRouteTable:
    def test_every_api_route_names_its_principal(self) -> None:
        operations = list(_operations())
        assert len(operations) > 10
        for method, path, schemes in operations:
            assert schemes & {"ApiKeyAuth", "OrgApiKeyAuth", "UserApiKeyAuth"}, f"{method} {path} authenticates nobody"

    def test_every_project_route_is_known_to_this_test(self) -> None:
        for method, path in project_routes():
            if "{" not in path or _segment(path) in SHARED_CATALOG or (method, path) in NO_OBJECT_ROUTES:
                continue
            assert _segment(path) in MISSING_IDS, f"{method} {path}: add its resource to MISSING_IDS"
            assert (method, path) in BODIES, f"{method} {path}: add a minimal body to BODIES"

    def test_every_org_object_route_is_known_to_this_test(self) -> None:
        for method, path in org_routes():
            if "{" not in path or _org_segment(path) == "project" or (method, path) in ORG_NO_OBJECT_ROUTES:
                continue
            assert _org_segment(path) in ORG_MISSING_IDS, f"{method} {path}: add its resource to ORG_MISSING_IDS and ORG_CREATES"
            assert _org_segment(path) in ORG_CREATES, f"{method} {path}: add its resource to ORG_CREATES"
            assert (method, path) in ORG_BODIES, f"{method} {path}: add a minimal body to ORG_BODIES"


@pytest.fixture
async def world(client: httpx.AsyncClient, sessionmaker: Any) -> dict[str, Any]:
    orgs: list[Org] = [await create_org(sessionmaker), await create_org(sessionmaker)]
    projects = [await create_project(client, org) for org in orgs for _ in range(2)]
    owned: dict[str, dict[str, str]] = {}
    for project in projects:
        auth_config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        account_id = await create_api_key_account(client, project, auth_config_id, f"sk_live_{project.id}")
        server = await client.post("/mcp/servers", json={"name": f"srv {project.id[3:9]}", "auth_config_ids": [auth_config_id]}, headers=project.headers)
        owned[project.id] = {"auth_configs": auth_config_id, "connected_accounts": account_id, "mcp": server.json()["id"]}
        subscription = await client.post(
            "/webhook_subscriptions", json={"webhook_url": "https://example.com/hooks", "enabled_events": []}, headers=project.headers
        )
        owned[project.id]["webhook_subscriptions"] = subscription.json()["id"]
        executed = await client.post("/tools/execute/LOCALNOAUTH_LIST", json={}, headers=project.headers)
        owned[project.id]["logs"] = executed.json()["log_id"]
    org_owned: dict[str, dict[str, str]] = {}
    for org in orgs:
        org_owned[org.id] = {}
        for resource, (create_path, create_body) in ORG_CREATES.items():
            created = await client.post(create_path, json=create_body() if callable(create_body) else create_body, headers=org.headers)
            assert created.status_code in (200, 201), f"{create_path}: {created.text}"
            org_owned[org.id][resource] = created.json()["id"]
    return {"projects": projects, "owned": owned, "orgs": orgs, "org_owned": org_owned}


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
            response = await client.get(OBJECT_PATHS.get(resource, f"/{resource}/{{}}").format(object_id), headers=owner.headers)
            assert response.status_code == 200, f"{resource} {object_id} was changed by another project"
            assert "stolen" not in response.text

    async def test_lists_never_contain_another_projects_rows(self, client: httpx.AsyncClient, world: dict[str, Any]) -> None:
        projects: list[ProjectWithKey] = world["projects"]
        lists = [path for method, path in project_routes() if method == "GET" and "{" not in path]
        assert {"/auth_configs", "/connected_accounts"} <= set(lists)
        for path in lists:
            for reader in projects:
                text = (await client.get(path, headers=reader.headers)).text
                if _segment(path) in MISSING_IDS and path not in SHARED_LISTS:
                    # The check can fail: a project's own list does show its rows.
                    assert world["owned"][reader.id][_segment(path)] in text
                for project in projects:
                    if project is not reader:
                        for object_id in world["owned"][project.id].values():
                            assert object_id not in text, f"{path} read by {reader.id} shows {project.id}'s {object_id}"


class TestNoCrossOrganizationAccess:
    """The same walk for organization-owned objects that are not projects (organization API keys)."""

    @staticmethod
    def _lists() -> list[str]:
        return [path for method, path in org_routes() if method == "GET" and "{" not in path and _org_segment(path) in ORG_MISSING_IDS]

    async def test_objects_of_another_organization_are_indistinguishable_from_missing(self, client: httpx.AsyncClient, world: dict[str, Any]) -> None:
        owner, intruder = world["orgs"]
        routes = [(m, p) for m, p in org_routes() if "{" in p and _org_segment(p) in ORG_MISSING_IDS]
        assert routes, "the route table lists no organization-owned object routes"
        for method, path in sorted(routes, key=lambda item: item[0] == "DELETE"):
            resource = _org_segment(path)
            body = ORG_BODIES[(method, path)]
            stolen = await client.request(method, _fill(path, world["org_owned"][owner.id][resource]), json=body, headers=intruder.headers)
            missing = await client.request(method, _fill(path, ORG_MISSING_IDS[resource]), json=body, headers=intruder.headers)
            assert stolen.status_code == 404, f"{method} {path} with {intruder.id}'s key: {stolen.status_code} {stolen.text}"
            assert without_request_id(stolen.json()) == without_request_id(missing.json()), f"{method} {path}"
        for path in self._lists():
            text = (await client.get(path, headers=owner.headers)).text
            assert world["org_owned"][owner.id][_org_segment(path)] in text, f"{path}: changed by another organization"

    async def test_lists_never_contain_another_organizations_rows(self, client: httpx.AsyncClient, world: dict[str, Any]) -> None:
        orgs: list[Org] = world["orgs"]
        assert "/org/owner/api_keys" in self._lists()
        for path in self._lists():
            for reader in orgs:
                text = (await client.get(path, headers=reader.headers)).text
                assert world["org_owned"][reader.id][_org_segment(path)] in text
                for other in orgs:
                    if other is not reader:
                        for object_id in world["org_owned"][other.id].values():
                            assert object_id not in text, f"{path} read by {reader.id} shows {other.id}'s {object_id}"
