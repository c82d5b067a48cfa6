"""Project management with an organization key, over real HTTP (reference §3.1–3.5)."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from tests.factories import Org, ProjectWithKey, create_project, unique_name, without_request_id

PROJECT_FIELDS = {
    "id", "org_id", "name", "email", "created_at", "updated_at", "webhook_url", "event_webhook_url",
    "webhook_secret", "triggers_enabled", "last_subscribed_at", "is_new_webhook", "webhook_version",
    "deleted",
}
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class TestCreate:
    async def test_without_key(self, client: httpx.AsyncClient, org: Org) -> None:
        name = unique_name()
        response = await client.post("/org/owner/project/new", json={"name": name}, headers=org.headers)
        assert response.status_code == 200
        body = response.json()
        assert re.fullmatch(r"pr_[A-Za-z0-9]{12}", body["id"])
        assert body == {"id": body["id"], "name": name, "api_key": None}

    async def test_with_key_returns_a_working_project_key(self, client: httpx.AsyncClient, org: Org) -> None:
        project = await create_project(client, org)
        assert re.fullmatch(r"ak_[A-Za-z0-9]{32}", project.api_key)
        assert (await client.get("/org/project/config", headers=project.headers)).status_code == 200

    async def test_config_sets_initial_settings(self, client: httpx.AsyncClient, org: Org) -> None:
        config = {
            "is_2FA_enabled": True,
            "mask_secret_keys_in_connected_account": False,
            "log_visibility_setting": "dont_store_data",
            "require_mcp_api_key": False,
            "display_name": "Acme",
        }
        project = await create_project(client, org, config=config)
        settings = (await client.get("/org/project/config", headers=project.headers)).json()
        assert {field: settings[field] for field in config} == config

    @pytest.mark.parametrize(
        "name", ["ab", "a" * 76, "has space", "dots.not.allowed", "ünïcode", ""]
    )
    async def test_invalid_name_is_400_naming_the_field(self, client: httpx.AsyncClient, org: Org, name: str) -> None:
        response = await client.post("/org/owner/project/new", json={"name": name}, headers=org.headers)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["status"] == 400 and error["slug"] == "Request_ValidationError"
        assert any(item.startswith("name:") for item in error["errors"])

    @pytest.mark.parametrize("name", ["abc", "a" * 75, "A-b_9"])
    async def test_boundary_names_are_accepted(self, client: httpx.AsyncClient, org: Org, name: str) -> None:
        response = await client.post("/org/owner/project/new", json={"name": name}, headers=org.headers)
        assert response.status_code == 200

    async def test_config_requires_composios_three_fields(self, client: httpx.AsyncClient, org: Org) -> None:
        response = await client.post(
            "/org/owner/project/new",
            json={"name": unique_name(), "config": {"is_2FA_enabled": False}},
            headers=org.headers,
        )
        assert response.status_code == 400
        errors = response.json()["error"]["errors"]
        assert any(item.startswith("config.mask_secret_keys_in_connected_account:") for item in errors)
        assert any(item.startswith("config.log_visibility_setting:") for item in errors)

    async def test_unknown_field_is_named(self, client: httpx.AsyncClient, org: Org) -> None:
        response = await client.post(
            "/org/owner/project/new", json={"name": unique_name(), "colour": "red"}, headers=org.headers
        )
        assert response.status_code == 400
        assert "colour: is not a known field" in response.json()["error"]["errors"]

    async def test_duplicate_name_is_a_final_409(self, client: httpx.AsyncClient, org: Org) -> None:
        project = await create_project(client, org)
        response = await client.post("/org/owner/project/new", json={"name": project.name}, headers=org.headers)
        assert response.status_code == 409
        assert response.headers["x-should-retry"] == "false"
        error = response.json()["error"]
        assert error["status"] == 409 and error["slug"] == "Project_NameAlreadyExists"
        assert error["request_id"] == response.headers["x-request-id"]

    async def test_same_name_in_two_organizations(self, client: httpx.AsyncClient, org: Org, other_org: Org) -> None:
        project = await create_project(client, org)
        response = await client.post("/org/owner/project/new", json={"name": project.name}, headers=other_org.headers)
        assert response.status_code == 200

    async def test_concurrent_creates_of_one_name(self, client: httpx.AsyncClient, org: Org) -> None:
        name = unique_name()
        responses = await asyncio.gather(
            *(client.post("/org/owner/project/new", json={"name": name}, headers=org.headers) for _ in range(10))
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [409] * 9
        listed = (await client.get("/org/owner/project/list", params={"limit": 50}, headers=org.headers)).json()
        assert [project["name"] for project in listed["data"]] == [name]
        assert listed["total_items"] == 1


class TestList:
    async def test_newest_first_with_composios_envelope(self, client: httpx.AsyncClient, org: Org) -> None:
        names = [(await create_project(client, org)).name for _ in range(3)]
        response = await client.get("/org/owner/project/list", headers=org.headers)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"data", "next_cursor", "total_pages", "current_page", "total_items"}
        assert [project["name"] for project in body["data"]] == names[::-1]
        assert body["next_cursor"] is None
        assert (body["total_pages"], body["current_page"], body["total_items"]) == (1, 1, 3)
        item = body["data"][0]
        assert set(item) == PROJECT_FIELDS
        assert item["org_id"] == org.id and item["deleted"] is False
        assert ISO_MS.match(item["created_at"]) and ISO_MS.match(item["updated_at"])

    async def test_pages_follow_the_cursor(self, client: httpx.AsyncClient, org: Org) -> None:
        created = [(await create_project(client, org, should_create_api_key=False)).id for _ in range(7)]
        seen, cursor, pages = [], None, []
        while True:
            params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
            body = (await client.get("/org/owner/project/list", params=params, headers=org.headers)).json()
            pages.append((body["current_page"], body["total_pages"], body["total_items"]))
            seen += [project["id"] for project in body["data"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == created[::-1]
        assert pages == [(1, 3, 7), (2, 3, 7), (3, 3, 7)]

    async def test_creates_between_pages_neither_skip_nor_repeat(self, client: httpx.AsyncClient, org: Org) -> None:
        original = [(await create_project(client, org, should_create_api_key=False)).id for _ in range(6)]
        seen, cursor = [], None
        while True:
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            body = (await client.get("/org/owner/project/list", params=params, headers=org.headers)).json()
            seen += [project["id"] for project in body["data"]]
            await create_project(client, org, should_create_api_key=False)
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == original[::-1]

    async def test_deleted_projects_are_not_listed(self, client: httpx.AsyncClient, org: Org) -> None:
        kept, gone = await create_project(client, org), await create_project(client, org)
        await client.delete(f"/org/owner/project/{gone.id}", headers=org.headers)
        body = (await client.get("/org/owner/project/list", headers=org.headers)).json()
        assert [project["id"] for project in body["data"]] == [kept.id]
        assert body["total_items"] == 1

    async def test_only_the_callers_projects(self, client: httpx.AsyncClient, org: Org, other_org: Org) -> None:
        mine = await create_project(client, org)
        await create_project(client, other_org)
        body = (await client.get("/org/owner/project/list", headers=org.headers)).json()
        assert [project["id"] for project in body["data"]] == [mine.id]

    @pytest.mark.parametrize("limit", ["0", "51", "-1", "ten"])
    async def test_limit_out_of_range_is_400(self, client: httpx.AsyncClient, org: Org, limit: str) -> None:
        response = await client.get("/org/owner/project/list", params={"limit": limit}, headers=org.headers)
        assert response.status_code == 400
        assert response.json()["error"]["errors"][0].startswith("limit:")

    @pytest.mark.parametrize("cursor", ["not-base64!", "eyJwYWdlIjoyfQ=="])
    async def test_foreign_cursor_is_400(self, client: httpx.AsyncClient, org: Org, cursor: str) -> None:
        response = await client.get("/org/owner/project/list", params={"cursor": cursor}, headers=org.headers)
        assert response.status_code == 400
        assert response.json()["error"]["errors"] == ["cursor: invalid"]


class TestGet:
    async def test_full_object_with_masked_keys(self, client: httpx.AsyncClient, org: Org) -> None:
        project = await create_project(client, org)
        response = await client.get(f"/org/owner/project/{project.id}", headers=org.headers)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == PROJECT_FIELDS | {"api_keys"}
        assert body["id"] == project.id and body["name"] == project.name
        [key] = body["api_keys"]
        assert set(key) == {"id", "name", "key", "created_at", "last_used_at"}
        assert key["key"] == "ak_**" + project.api_key[-4:]
        assert project.api_key not in response.text
        assert re.fullmatch(r"[a-z]+_[a-z]+", key["name"])

    async def test_other_organizations_project_is_the_same_404_as_none(
        self, client: httpx.AsyncClient, org: Org, other_org: Org
    ) -> None:
        theirs = await create_project(client, other_org)
        foreign = await client.get(f"/org/owner/project/{theirs.id}", headers=org.headers)
        missing = await client.get("/org/owner/project/pr_000000000000", headers=org.headers)
        assert foreign.status_code == missing.status_code == 404
        assert without_request_id(foreign.json()) == without_request_id(missing.json())

    async def test_malformed_id_is_404(self, client: httpx.AsyncClient, org: Org) -> None:
        response = await client.get("/org/owner/project/not-an-id", headers=org.headers)
        assert response.status_code == 404
        assert response.json()["error"]["slug"] == "Project_ResourceNotFound"


class TestDelete:
    async def test_soft_delete_stops_keys_and_frees_the_name(self, client: httpx.AsyncClient, org: Org) -> None:
        project = await create_project(client, org)
        response = await client.delete(f"/org/owner/project/{project.id}", headers=org.headers)
        assert response.status_code == 200 and response.json() == {"status": "success"}
        assert (await client.get("/org/project/config", headers=project.headers)).status_code == 401
        assert (await client.get(f"/org/owner/project/{project.id}", headers=org.headers)).status_code == 404
        again = await client.post("/org/owner/project/new", json={"name": project.name}, headers=org.headers)
        assert again.status_code == 200 and again.json()["id"] != project.id

    async def test_deleting_twice_is_404(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        await client.delete(f"/org/owner/project/{project.id}", headers=org.headers)
        response = await client.delete(f"/org/owner/project/{project.id}", headers=org.headers)
        assert response.status_code == 404

    async def test_cannot_delete_another_organizations_project(
        self, client: httpx.AsyncClient, org: Org, other_org: Org
    ) -> None:
        theirs = await create_project(client, other_org)
        response = await client.delete(f"/org/owner/project/{theirs.id}", headers=org.headers)
        assert response.status_code == 404
        assert (await client.get(f"/org/owner/project/{theirs.id}", headers=other_org.headers)).status_code == 200
        assert (await client.get("/org/project/config", headers=theirs.headers)).status_code == 200


class TestRegenerate:
    async def test_old_key_dies_new_key_works(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        response = await client.post(f"/org/owner/project/{project.id}/regenerate_api_key", headers=org.headers)
        assert response.status_code == 200
        body = response.json()
        assert body["message"] == "API key regenerated successfully"
        new_key = body["api_key"]
        assert set(new_key) == {"id", "name", "key", "created_at"}
        assert re.fullmatch(r"ak_[A-Za-z0-9]{32}", new_key["key"])
        assert (await client.get("/org/project/config", headers=project.headers)).status_code == 401
        assert (await client.get("/org/project/config", headers={"x-api-key": new_key["key"]})).status_code == 200
        detail = (await client.get(f"/org/owner/project/{project.id}", headers=org.headers)).json()
        assert [key["id"] for key in detail["api_keys"]] == [new_key["id"]]

    async def test_cannot_regenerate_another_organizations_key(
        self, client: httpx.AsyncClient, org: Org, other_org: Org
    ) -> None:
        theirs = await create_project(client, other_org)
        response = await client.post(f"/org/owner/project/{theirs.id}/regenerate_api_key", headers=org.headers)
        assert response.status_code == 404
        assert (await client.get("/org/project/config", headers=theirs.headers)).status_code == 200

    async def test_concurrent_regenerates_leave_one_working_key(
        self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey
    ) -> None:
        responses = await asyncio.gather(
            *(client.post(f"/org/owner/project/{project.id}/regenerate_api_key", headers=org.headers) for _ in range(8))
        )
        assert all(response.status_code == 200 for response in responses)
        keys = [response.json()["api_key"]["key"] for response in responses] + [project.api_key]
        working = [
            key for key in keys
            if (await client.get("/org/project/config", headers={"x-api-key": key})).status_code == 200
        ]
        assert len(working) == 1
        detail = (await client.get(f"/org/owner/project/{project.id}", headers=org.headers)).json()
        assert [key["key"] for key in detail["api_keys"]] == ["ak_**" + working[0][-4:]]


class TestPreviousPrefix:
    """Composio serves every route under /api/v3 too, identically."""

    async def test_every_route_under_api_v3(self, server, org: Org) -> None:  # type: ignore[no-untyped-def]
        async with httpx.AsyncClient(base_url=f"{server.base_url}/api/v3") as v3:
            created = await v3.post(
                "/org/owner/project/new", json={"name": unique_name(), "should_create_api_key": True}, headers=org.headers
            )
            assert created.status_code == 200
            project_id, key = created.json()["id"], created.json()["api_key"]
            assert (await v3.get("/org/owner/project/list", headers=org.headers)).json()["total_items"] == 1
            assert (await v3.get(f"/org/owner/project/{project_id}", headers=org.headers)).status_code == 200
            assert (await v3.get("/org/project/config", headers={"x-api-key": key})).status_code == 200
            patched = await v3.patch("/org/project/config", json={"display_name": "v3"}, headers={"x-api-key": key})
            assert patched.json()["display_name"] == "v3"
            regenerated = await v3.post(f"/org/owner/project/{project_id}/regenerate_api_key", headers=org.headers)
            assert regenerated.status_code == 200
            assert (await v3.delete(f"/org/owner/project/{project_id}", headers=org.headers)).json() == {"status": "success"}
