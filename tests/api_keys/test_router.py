"""Named project keys, and rotation with overlap, over real HTTP."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import timedelta

import httpx
import pytest

from tenantry.api_keys.service import MAX_LIVE_KEYS_PER_PROJECT
from tenantry.kit.time import iso, utcnow
from tests.factories import (
    Org,
    ProjectWithKey,
    create_api_key,
    create_project,
    without_request_id,
)

CONFIG = "/org/project/config"
ISSUED_FIELDS = {"id", "name", "key", "created_at", "expires_at", "scopes"}
LISTED_FIELDS = {"id", "name", "key", "created_at", "last_used_at", "expires_at", "scopes"}


def keys_path(project_id: str) -> str:
    return f"/org/owner/project/{project_id}/api_keys"


async def works(client: httpx.AsyncClient, key: str) -> bool:
    status = (await client.get(CONFIG, headers={"x-api-key": key})).status_code
    assert status in (200, 401), status
    return status == 200


async def wait_until_rejected(client: httpx.AsyncClient, key: str, within: float) -> float:
    started = time.monotonic()
    while await works(client, key):
        assert time.monotonic() - started < within, f"the key still works after {within} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


class TestCreate:
    async def test_a_named_key_works_beside_the_first_one(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        response = await client.post(keys_path(project.id), json={"name": "ci"}, headers=org.headers)
        assert response.status_code == 201, response.text
        created = response.json()
        assert set(created) == ISSUED_FIELDS
        assert created["name"] == "ci" and created["expires_at"] is None and created["scopes"] is None
        assert re.fullmatch(r"ak_[A-Za-z0-9]{32}", created["key"])
        assert await works(client, created["key"]) and await works(client, project.api_key)

    async def test_the_key_is_shown_only_at_creation(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        created = await create_api_key(client, org, project.id)
        listed = await client.get(keys_path(project.id), headers=org.headers)
        detail = await client.get(f"/org/owner/project/{project.id}", headers=org.headers)
        for response in (listed, detail):
            assert created["key"] not in response.text
            assert "ak_**" + created["key"][-4:] in response.text

    async def test_an_expiry_in_the_future_is_kept_and_enforced(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        expires_at = utcnow() + timedelta(seconds=2)
        created = await create_api_key(client, org, project.id, expires_at=expires_at.isoformat())
        assert created["expires_at"] == iso(expires_at)
        assert await works(client, created["key"])
        waited = await wait_until_rejected(client, created["key"], within=5)
        assert waited > 0.5
        error = (await client.get(CONFIG, headers={"x-api-key": created["key"]})).json()["error"]
        assert error["status"] == 401 and error["slug"] == "Auth_InvalidApiKey"
        listed = (await client.get(keys_path(project.id), headers=org.headers)).json()
        assert created["id"] not in [key["id"] for key in listed["items"]]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "name"),
            ({"name": ""}, "name"),
            ({"name": "x" * 101}, "name"),
            ({"name": "ok", "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
            ({"name": "ok", "expires_at": "2099-01-01T00:00:00"}, "expires_at"),
            ({"name": "ok", "colour": "red"}, "colour"),
        ],
    )
    async def test_invalid_bodies_name_the_field(
        self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey, body: dict[str, object], field: str
    ) -> None:
        response = await client.post(keys_path(project.id), json=body, headers=org.headers)
        assert response.status_code == 400, response.text
        assert any(item.startswith(f"{field}:") for item in response.json()["error"]["errors"])

    async def test_a_live_name_is_a_final_409(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        await create_api_key(client, org, project.id, name="deploy")
        response = await client.post(keys_path(project.id), json={"name": "deploy"}, headers=org.headers)
        assert response.status_code == 409 and response.headers["x-should-retry"] == "false"
        assert response.json()["error"]["slug"] == "ApiKey_NameAlreadyExists"

    async def test_a_revoked_keys_name_is_free_again(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        first = await create_api_key(client, org, project.id, name="rotating")
        await client.delete(f"{keys_path(project.id)}/{first['id']}", headers=org.headers)
        await create_api_key(client, org, project.id, name="rotating")

    async def test_the_number_of_live_keys_is_bounded(self, client: httpx.AsyncClient, org: Org) -> None:
        project = await create_project(client, org, should_create_api_key=False)
        for _ in range(MAX_LIVE_KEYS_PER_PROJECT):
            await create_api_key(client, org, project.id)
        response = await client.post(keys_path(project.id), json={"name": "one-too-many"}, headers=org.headers)
        assert response.status_code == 409
        assert response.json()["error"]["slug"] == "ApiKey_LimitReached"

    async def test_another_organizations_project_is_404(self, client: httpx.AsyncClient, org: Org, other_org: Org) -> None:
        theirs = await create_project(client, other_org)
        foreign = await client.post(keys_path(theirs.id), json={"name": "mine"}, headers=org.headers)
        missing = await client.post(keys_path("pr_000000000000"), json={"name": "mine"}, headers=org.headers)
        assert foreign.status_code == missing.status_code == 404
        assert without_request_id(foreign.json()) == without_request_id(missing.json())

    async def test_a_project_key_cannot_make_keys(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await client.post(keys_path(project.id), json={"name": "escalate"}, headers={"x-org-api-key": project.api_key})
        assert response.status_code == 401


class TestList:
    async def test_metadata_only_oldest_first(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        scoped = await create_api_key(client, org, project.id, name="reader", scopes={"auth_configs": "read"})
        response = await client.get(keys_path(project.id), headers=org.headers)
        assert response.status_code == 200
        items = response.json()["items"]
        assert [item["name"] for item in items][1:] == ["reader"]
        for item in items:
            assert set(item) == LISTED_FIELDS
            assert re.fullmatch(r"ak_\*\*[A-Za-z0-9]{4}", item["key"])
        assert items[0]["scopes"] is None
        assert items[1]["scopes"]["auth_configs"] == "read" and items[1]["scopes"]["webhooks"] == "none"
        assert scoped["key"] not in response.text and project.api_key not in response.text

    async def test_another_organizations_project_is_404(self, client: httpx.AsyncClient, org: Org, other_org: Org) -> None:
        theirs = await create_project(client, other_org)
        assert (await client.get(keys_path(theirs.id), headers=org.headers)).status_code == 404


class TestRevoke:
    async def test_one_key_stops_the_others_keep_working(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        doomed = await create_api_key(client, org, project.id)
        response = await client.delete(f"{keys_path(project.id)}/{doomed['id']}", headers=org.headers)
        assert response.status_code == 200 and response.json() == {"status": "success"}
        assert not await works(client, doomed["key"])
        assert await works(client, project.api_key)
        listed = (await client.get(keys_path(project.id), headers=org.headers)).json()["items"]
        assert doomed["id"] not in [item["id"] for item in listed]

    async def test_revoking_twice_is_404(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        doomed = await create_api_key(client, org, project.id)
        await client.delete(f"{keys_path(project.id)}/{doomed['id']}", headers=org.headers)
        response = await client.delete(f"{keys_path(project.id)}/{doomed['id']}", headers=org.headers)
        assert response.status_code == 404 and response.json()["error"]["slug"] == "ApiKey_ResourceNotFound"

    async def test_a_key_of_another_project_is_404_and_keeps_working(
        self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey
    ) -> None:
        other = await create_project(client, org)
        theirs = await create_api_key(client, org, other.id)
        response = await client.delete(f"{keys_path(project.id)}/{theirs['id']}", headers=org.headers)
        assert response.status_code == 404
        assert await works(client, theirs["key"])

    async def test_revocation_reaches_another_worker_within_a_second(
        self, client: httpx.AsyncClient, other_server, org: Org, project: ProjectWithKey  # type: ignore[no-untyped-def]
    ) -> None:
        doomed = await create_api_key(client, org, project.id)
        async with httpx.AsyncClient(base_url=f"{other_server.base_url}/api/v3.1") as other:
            assert await works(other, doomed["key"])
            await client.delete(f"{keys_path(project.id)}/{doomed['id']}", headers=org.headers)
            await wait_until_rejected(other, doomed["key"], within=1.0)


class TestRegenerateWithGracePeriod:
    async def test_old_keys_work_until_the_grace_ends_then_fail(
        self, client: httpx.AsyncClient, other_server, org: Org, project: ProjectWithKey  # type: ignore[no-untyped-def]
    ) -> None:
        named = await create_api_key(client, org, project.id)
        async with httpx.AsyncClient(base_url=f"{other_server.base_url}/api/v3.1") as other:
            # Both workers hold the old keys in their caches, without an expiry.
            for worker in (client, other):
                assert await works(worker, project.api_key) and await works(worker, named["key"])
            response = await client.post(
                f"/org/owner/project/{project.id}/regenerate_api_key",
                params={"grace_period_seconds": 3},
                headers=org.headers,
            )
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["message"] == "API key regenerated successfully"
            assert body["previous_keys_expire_at"] is not None
            new_key = body["api_key"]["key"]
            await asyncio.sleep(0.5)  # past the other worker's cache poll
            for worker in (client, other):
                assert await works(worker, new_key)
                assert await works(worker, project.api_key) and await works(worker, named["key"])
            listed = (await client.get(keys_path(project.id), headers=org.headers)).json()["items"]
            expiring = {item["id"]: item["expires_at"] for item in listed if item["id"] != body["api_key"]["id"]}
            assert named["id"] in expiring and set(expiring.values()) == {body["previous_keys_expire_at"]}
            for worker in (client, other):
                await wait_until_rejected(worker, project.api_key, within=5)
                assert not await works(worker, named["key"])
                assert await works(worker, new_key)
        detail = (await client.get(f"/org/owner/project/{project.id}", headers=org.headers)).json()
        assert [key["id"] for key in detail["api_keys"]] == [body["api_key"]["id"]]

    async def test_a_key_expiring_sooner_keeps_its_expiry(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        soon = iso(utcnow() + timedelta(minutes=5))
        short = await create_api_key(client, org, project.id, expires_at=soon)
        await client.post(
            f"/org/owner/project/{project.id}/regenerate_api_key", params={"grace_period_seconds": 86400}, headers=org.headers
        )
        listed = (await client.get(keys_path(project.id), headers=org.headers)).json()["items"]
        assert {item["id"]: item["expires_at"] for item in listed}[short["id"]] == soon

    async def test_without_a_grace_period_old_keys_die_at_once(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        named = await create_api_key(client, org, project.id)
        body = (await client.post(f"/org/owner/project/{project.id}/regenerate_api_key", headers=org.headers)).json()
        assert body["previous_keys_expire_at"] is None
        assert not await works(client, project.api_key) and not await works(client, named["key"])

    @pytest.mark.parametrize("grace", ["0", "-5", "2592001", "soon"])
    async def test_grace_period_out_of_range_is_400(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey, grace: str) -> None:
        response = await client.post(
            f"/org/owner/project/{project.id}/regenerate_api_key", params={"grace_period_seconds": grace}, headers=org.headers
        )
        assert response.status_code == 400
        assert response.json()["error"]["errors"][0].startswith("grace_period_seconds:")
        assert await works(client, project.api_key)
