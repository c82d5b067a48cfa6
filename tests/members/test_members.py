"""Members and user keys: the command line, `/org/list`, `/org/project/list`, and what each role may do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

from tests.factories import (
    MemberWithKey,
    Org,
    create_member,
    create_org,
    create_project,
    without_request_id,
)


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tenantry", *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )


class TestCommandLine:
    def test_create_prints_a_working_user_key_once(self, server, server_env: dict[str, str], org: Org) -> None:  # type: ignore[no-untyped-def]
        result = run_cli("member", "create", org.id, "Ada@Example.com", "--name", "Ada", "--role", "admin", "--json", env=server_env)
        assert result.returncode == 0, result.stderr
        created = json.loads(result.stdout)
        assert set(created) == {"id", "email", "name", "org_id", "role", "api_key"}
        assert created["email"] == "ada@example.com" and created["role"] == "admin" and created["org_id"] == org.id
        assert created["id"].startswith("mb_") and created["api_key"].startswith("uak_")
        listed = httpx.get(f"{server.base_url}/api/v3.1/org/list", headers={"x-user-api-key": created["api_key"]})
        assert listed.status_code == 200 and [item["id"] for item in listed.json()["organizations"]] == [org.id]
        members = json.loads(run_cli("member", "list", org.id, "--json", env=server_env).stdout)
        assert [(member["email"], member["role"]) for member in members] == [("ada@example.com", "admin")]
        assert created["api_key"] not in str(members)

    def test_the_same_person_twice_in_one_organization_is_refused(self, server_env: dict[str, str], org: Org) -> None:
        args = ("member", "create", org.id, "twice@example.com", "--name", "Twice")
        assert run_cli(*args, env=server_env).returncode == 0
        again = run_cli(*args, env=server_env)
        assert again.returncode == 1 and "already a member" in again.stderr and again.stdout == ""

    @pytest.mark.parametrize(
        ("args", "code"),
        [
            (("--role", "owner"), 2),
            (("--email-is-bad",), 2),
        ],
    )
    def test_bad_input_is_refused(self, server_env: dict[str, str], org: Org, args: tuple[str, ...], code: int) -> None:
        if args == ("--email-is-bad",):
            result = run_cli("member", "create", org.id, "not-an-email", "--name", "X", env=server_env)
        else:
            result = run_cli("member", "create", org.id, "x@example.com", "--name", "X", *args, env=server_env)
        assert result.returncode == code and result.stdout == ""

    def test_an_unknown_organization_is_refused(self, server_env: dict[str, str]) -> None:
        result = run_cli("member", "create", "ok_000000000000", "x@example.com", "--name", "X", env=server_env)
        assert result.returncode == 1 and "organization" in result.stderr.lower()


@pytest.fixture
async def two_orgs(sessionmaker: Any, client: httpx.AsyncClient) -> dict[str, Any]:
    """One person, developer in the first organization and admin in the second, with a key from each."""
    first, second = await create_org(sessionmaker), await create_org(sessionmaker)
    developer = await create_member(sessionmaker, first, role="developer")
    admin = await create_member(sessionmaker, second, role="admin", email=developer.email)
    projects = {first.id: [await create_project(client, first) for _ in range(2)], second.id: [await create_project(client, second)]}
    return {"first": first, "second": second, "developer": developer, "admin": admin, "projects": projects}


class TestOrgList:
    async def test_lists_the_members_organizations(self, client: httpx.AsyncClient, two_orgs: dict[str, Any], other_org: Org) -> None:
        for key in (two_orgs["developer"], two_orgs["admin"]):
            body = (await client.get("/org/list", headers=key.headers)).json()
            assert set(body) == {"organizations", "next_cursor", "total_pages", "current_page", "total_items"}
            assert {item["id"] for item in body["organizations"]} == {two_orgs["first"].id, two_orgs["second"].id}
            assert set(body["organizations"][0]) == {"id", "name", "created_at", "updated_at"}
            assert body["total_items"] == 2

    async def test_pages_follow_the_cursor(self, client: httpx.AsyncClient, two_orgs: dict[str, Any]) -> None:
        key: MemberWithKey = two_orgs["developer"]
        first = (await client.get("/org/list", params={"limit": 1}, headers=key.headers)).json()
        second = (await client.get("/org/list", params={"cursor": first["next_cursor"]}, headers=key.headers)).json()
        assert (first["current_page"], second["current_page"], second["next_cursor"]) == (1, 2, None)
        assert [item["id"] for item in first["organizations"] + second["organizations"]] == [two_orgs["second"].id, two_orgs["first"].id]

    async def test_other_keys_are_refused(self, client: httpx.AsyncClient, org: Org) -> None:
        assert (await client.get("/org/list", headers=org.headers)).status_code == 401
        assert (await client.get("/org/list", headers={"x-user-api-key": org.api_key})).status_code == 401


class TestOrgProjectList:
    async def test_the_keys_own_organization_by_default(self, client: httpx.AsyncClient, two_orgs: dict[str, Any]) -> None:
        body = (await client.get("/org/project/list", headers=two_orgs["developer"].headers)).json()
        assert {item["id"] for item in body["data"]} == {project.id for project in two_orgs["projects"][two_orgs["first"].id]}
        assert body["total_items"] == 2

    async def test_x_org_id_picks_another_of_the_members_organizations(self, client: httpx.AsyncClient, two_orgs: dict[str, Any]) -> None:
        headers = {**two_orgs["developer"].headers, "x-org-id": two_orgs["second"].id}
        body = (await client.get("/org/project/list", headers=headers)).json()
        assert [item["id"] for item in body["data"]] == [two_orgs["projects"][two_orgs["second"].id][0].id]

    async def test_all_organizations_at_once(self, client: httpx.AsyncClient, two_orgs: dict[str, Any], other_org: Org) -> None:
        await create_project(client, other_org)
        body = (
            await client.get("/org/project/list", params={"list_all_org_projects": "true", "limit": 2}, headers=two_orgs["admin"].headers)
        ).json()
        assert body["total_items"] == 3 and body["total_pages"] == 2 and len(body["data"]) == 2
        rest = (await client.get("/org/project/list", params={"cursor": body["next_cursor"], "list_all_org_projects": "true"}, headers=two_orgs["admin"].headers)).json()
        every = {project.id for projects in two_orgs["projects"].values() for project in projects}
        assert {item["id"] for item in body["data"] + rest["data"]} == every

    async def test_an_organization_the_member_is_not_in_is_the_same_404_as_none(
        self, client: httpx.AsyncClient, two_orgs: dict[str, Any], other_org: Org
    ) -> None:
        key = two_orgs["developer"].headers
        foreign = await client.get("/org/project/list", headers={**key, "x-org-id": other_org.id})
        missing = await client.get("/org/project/list", headers={**key, "x-org-id": "ok_000000000000"})
        assert foreign.status_code == missing.status_code == 404
        assert without_request_id(foreign.json()) == without_request_id(missing.json())

    async def test_an_org_key_is_refused(self, client: httpx.AsyncClient, org: Org) -> None:
        assert (await client.get("/org/project/list", headers=org.headers)).status_code == 401


class TestRoles:
    async def test_a_developer_manages_projects_and_keys_but_cannot_delete(
        self, client: httpx.AsyncClient, two_orgs: dict[str, Any]
    ) -> None:
        developer: MemberWithKey = two_orgs["developer"]
        created = await client.post("/org/owner/project/new", json={"name": "dev-made", "should_create_api_key": True}, headers=developer.headers)
        assert created.status_code == 200, created.text
        project_id = created.json()["id"]
        assert (await client.get(f"/org/owner/project/{project_id}", headers=developer.headers)).status_code == 200
        key = await client.post(f"/org/owner/project/{project_id}/api_keys", json={"name": "dev"}, headers=developer.headers)
        assert key.status_code == 201
        refused = await client.delete(f"/org/owner/project/{project_id}", headers=developer.headers)
        assert refused.status_code == 403 and refused.json()["error"]["slug"] == "Auth_RoleForbidden"
        assert "developer" in refused.json()["error"]["message"]
        assert (await client.get(f"/org/owner/project/{project_id}", headers=developer.headers)).status_code == 200

    async def test_an_admin_deletes_and_restores_and_is_audited_as_the_member(
        self, client: httpx.AsyncClient, two_orgs: dict[str, Any]
    ) -> None:
        admin: MemberWithKey = two_orgs["admin"]
        second: Org = two_orgs["second"]
        project = two_orgs["projects"][second.id][0]
        headers = {**admin.headers, "x-org-id": second.id}
        assert (await client.delete(f"/org/owner/project/{project.id}", headers=headers)).status_code == 200
        assert (await client.post(f"/org/owner/project/{project.id}/restore", headers=headers)).status_code == 200
        trail = (await client.get("/org/owner/audit_log", params={"project_id": project.id}, headers=second.headers)).json()["items"]
        assert [event["action"] for event in trail[:2]] == ["project.restored", "project.deleted"]
        assert {(event["actor_type"], event["member_id"]) for event in trail[:2]} == {("user_key", admin.id)}

    async def test_the_same_person_is_a_developer_in_one_organization_and_admin_in_the_other(
        self, client: httpx.AsyncClient, two_orgs: dict[str, Any]
    ) -> None:
        # The developer's key, pointed at the organization where the person is admin, acts as admin there.
        project = two_orgs["projects"][two_orgs["second"].id][0]
        headers = {**two_orgs["developer"].headers, "x-org-id": two_orgs["second"].id}
        assert (await client.delete(f"/org/owner/project/{project.id}", headers=headers)).status_code == 200

    async def test_a_member_never_reaches_another_organizations_projects(
        self, client: httpx.AsyncClient, two_orgs: dict[str, Any], other_org: Org
    ) -> None:
        theirs = await create_project(client, other_org)
        admin = two_orgs["admin"]
        assert (await client.get(f"/org/owner/project/{theirs.id}", headers=admin.headers)).status_code == 404
        assert (await client.delete(f"/org/owner/project/{theirs.id}", headers=admin.headers)).status_code == 404
        listed = (await client.get("/org/owner/project/list", headers=admin.headers)).json()
        assert theirs.id not in str(listed)

    async def test_sending_two_credentials_is_refused(self, client: httpx.AsyncClient, two_orgs: dict[str, Any]) -> None:
        headers = {**two_orgs["first"].headers, **two_orgs["developer"].headers}
        response = await client.get("/org/owner/project/list", headers=headers)
        assert response.status_code == 401 and "not both" in response.json()["error"]["message"]

    async def test_a_user_key_is_not_a_project_key(self, client: httpx.AsyncClient, two_orgs: dict[str, Any]) -> None:
        response = await client.get("/org/project/config", headers={"x-api-key": two_orgs["developer"].api_key})
        assert response.status_code == 401
