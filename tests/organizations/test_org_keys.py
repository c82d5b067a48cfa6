"""Organization API keys (`oak_`) over real HTTP: create (shown once), list masked, revoke, roles, audit."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.kit.time import iso, utcnow
from tenantry.organizations.service import MAX_LIVE_ORG_KEYS
from tests.factories import MemberWithKey, Org, ProjectWithKey, create_member, create_project, unique_name, without_request_id

KEYS = "/org/owner/api_keys"
# A route every organization key may call: whether a key works is read from its status.
PROBE = "/org/owner/project/list"
ISSUED_FIELDS = {"id", "name", "key", "created_at", "expires_at"}
LISTED_FIELDS = {"id", "name", "key", "created_at", "last_used_at", "expires_at"}
MISSING_KEY_ID = "0" * 26


async def works(client: httpx.AsyncClient, key: str) -> bool:
    status = (await client.get(PROBE, headers={"x-org-api-key": key})).status_code
    assert status in (200, 401), status
    return status == 200


async def wait_until_rejected(client: httpx.AsyncClient, key: str, within: float) -> float:
    started = time.monotonic()
    while await works(client, key):
        assert time.monotonic() - started < within, f"the key still works after {within} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def create_org_key(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(KEYS, json={"name": unique_name("org-key"), **body}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def listed(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(KEYS, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def audit_events(client: httpx.AsyncClient, org: Org, action: str) -> list[dict[str, Any]]:
    response = await client.get("/org/owner/audit_log", params={"action": action, "limit": 200}, headers=org.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


class TestCreate:
    async def test_a_new_key_works_beside_the_first_one(self, client: httpx.AsyncClient, org: Org) -> None:
        response = await client.post(KEYS, json={"name": "deploy-bot"}, headers=org.headers)
        assert response.status_code == 201, response.text
        created = response.json()
        assert set(created) == ISSUED_FIELDS
        assert created["name"] == "deploy-bot" and created["expires_at"] is None
        assert re.fullmatch(r"oak_[A-Za-z0-9]{32}", created["key"])
        projects = await client.get(PROBE, headers={"x-org-api-key": created["key"]})
        assert projects.status_code == 200, projects.text
        assert await works(client, org.api_key)

    async def test_the_new_key_acts_for_its_own_organization(self, client: httpx.AsyncClient, org: Org, other_org: Org) -> None:
        mine = await create_project(client, org)
        theirs = await create_project(client, other_org)
        created = await create_org_key(client, org.headers)
        text = (await client.get(PROBE, headers={"x-org-api-key": created["key"]})).text
        assert mine.id in text and theirs.id not in text

    async def test_an_expiry_in_the_future_is_kept_and_enforced(self, client: httpx.AsyncClient, org: Org) -> None:
        expires_at = utcnow() + timedelta(seconds=2)
        created = await create_org_key(client, org.headers, expires_at=expires_at.isoformat())
        assert created["expires_at"] == iso(expires_at)
        assert await works(client, created["key"])
        assert await wait_until_rejected(client, created["key"], within=5) > 0.5
        assert created["id"] not in [item["id"] for item in await listed(client, org.headers)]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "name"),
            ({"name": ""}, "name"),
            ({"name": "   "}, "name"),
            ({"name": "x" * 101}, "name"),
            ({"name": "ok", "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
            ({"name": "ok", "expires_at": "2099-01-01T00:00:00"}, "expires_at"),
            ({"name": "ok", "expires_at": "tomorrow"}, "expires_at"),
            ({"name": "ok", "scopes": {"tools": "read"}}, "scopes"),
        ],
    )
    async def test_invalid_bodies_name_the_field(
        self, client: httpx.AsyncClient, org: Org, body: dict[str, object], field: str
    ) -> None:
        # Without last_used_at: the listing itself uses the key, and the recorder may write that between the two.
        def unchanged(keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{name: value for name, value in key.items() if name != "last_used_at"} for key in keys]

        before = await listed(client, org.headers)
        response = await client.post(KEYS, json=body, headers=org.headers)
        assert response.status_code == 400, response.text
        assert any(item.startswith(f"{field}:") for item in response.json()["error"]["errors"])
        assert unchanged(await listed(client, org.headers)) == unchanged(before)

    async def test_a_live_name_is_a_final_409_in_its_organization_only(
        self, client: httpx.AsyncClient, org: Org, other_org: Org
    ) -> None:
        await create_org_key(client, org.headers, name="ci")
        response = await client.post(KEYS, json={"name": "ci"}, headers=org.headers)
        assert response.status_code == 409 and response.headers["x-should-retry"] == "false"
        assert response.json()["error"]["slug"] == "OrgApiKey_NameAlreadyExists"
        # The first key's name is "default": also taken.
        assert (await client.post(KEYS, json={"name": "default"}, headers=org.headers)).status_code == 409
        await create_org_key(client, other_org.headers, name="ci")

    async def test_a_revoked_keys_name_is_free_again(self, client: httpx.AsyncClient, org: Org) -> None:
        first = await create_org_key(client, org.headers, name="rotating")
        assert (await client.delete(f"{KEYS}/{first['id']}", headers=org.headers)).status_code == 200
        await create_org_key(client, org.headers, name="rotating")

    async def test_the_number_of_live_keys_is_bounded(self, client: httpx.AsyncClient, org: Org) -> None:
        # The organization's first key counts too.
        for _ in range(MAX_LIVE_ORG_KEYS - 1):
            await create_org_key(client, org.headers)
        response = await client.post(KEYS, json={"name": "one-too-many"}, headers=org.headers)
        assert response.status_code == 409 and response.headers["x-should-retry"] == "false"
        error = response.json()["error"]
        assert error["slug"] == "OrgApiKey_LimitReached" and str(MAX_LIVE_ORG_KEYS) in error["message"]
        assert len(await listed(client, org.headers)) == MAX_LIVE_ORG_KEYS


class TestList:
    async def test_masked_only_oldest_first(self, client: httpx.AsyncClient, org: Org) -> None:
        first = await create_org_key(client, org.headers, name="first")
        second = await create_org_key(client, org.headers, name="second", expires_at=iso(utcnow() + timedelta(days=3)))
        response = await client.get(KEYS, headers=org.headers)
        assert response.status_code == 200
        items = response.json()["items"]
        assert [item["name"] for item in items] == ["default", "first", "second"]
        for item in items:
            assert set(item) == LISTED_FIELDS
            assert re.fullmatch(r"oak_\*\*[A-Za-z0-9]{4}", item["key"])
        assert [item["key"] for item in items] == [f"oak_**{key[-4:]}" for key in (org.api_key, first["key"], second["key"])]
        assert items[2]["expires_at"] == second["expires_at"] and items[1]["expires_at"] is None
        for plaintext in (org.api_key, first["key"], second["key"]):
            assert plaintext not in response.text and plaintext[4:] not in response.text

    async def test_only_the_organizations_own_org_keys(
        self, client: httpx.AsyncClient, org: Org, other_org: Org, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        # Project keys and user keys carry the organization's id too; none of them is listed.
        theirs = await create_org_key(client, other_org.headers)
        await create_project(client, org)
        member = await create_member(sessionmaker, org, role="admin")
        [only] = await listed(client, org.headers)
        assert only["name"] == "default" and only["key"] == f"oak_**{org.api_key[-4:]}"
        assert only["id"] != theirs["id"]
        assert (await client.get(KEYS, headers=member.headers)).json()["items"] == [only]


class TestRevoke:
    async def test_a_revoked_key_fails_at_once_the_others_keep_working(self, client: httpx.AsyncClient, org: Org) -> None:
        doomed = await create_org_key(client, org.headers)
        assert await works(client, doomed["key"])
        response = await client.delete(f"{KEYS}/{doomed['id']}", headers=org.headers)
        assert response.status_code == 200 and response.json() == {"status": "success"}
        rejected = await client.get(PROBE, headers={"x-org-api-key": doomed["key"]})
        assert rejected.status_code == 401 and rejected.json()["error"]["slug"] == "Auth_InvalidApiKey"
        assert await works(client, org.api_key)
        assert doomed["id"] not in [item["id"] for item in await listed(client, org.headers)]

    async def test_revocation_reaches_another_worker_within_a_second(
        self, client: httpx.AsyncClient, other_server, org: Org  # type: ignore[no-untyped-def]
    ) -> None:
        doomed = await create_org_key(client, org.headers)
        async with httpx.AsyncClient(base_url=f"{other_server.base_url}/api/v3.1") as other:
            assert await works(other, doomed["key"])
            await client.delete(f"{KEYS}/{doomed['id']}", headers=org.headers)
            await wait_until_rejected(other, doomed["key"], within=1.0)

    async def test_revoking_twice_is_404(self, client: httpx.AsyncClient, org: Org) -> None:
        doomed = await create_org_key(client, org.headers)
        await client.delete(f"{KEYS}/{doomed['id']}", headers=org.headers)
        response = await client.delete(f"{KEYS}/{doomed['id']}", headers=org.headers)
        assert response.status_code == 404 and response.json()["error"]["slug"] == "ApiKey_ResourceNotFound"

    async def test_another_organizations_key_is_the_same_404_as_none_and_keeps_working(
        self, client: httpx.AsyncClient, org: Org, other_org: Org
    ) -> None:
        theirs = await create_org_key(client, other_org.headers)
        foreign = await client.delete(f"{KEYS}/{theirs['id']}", headers=org.headers)
        missing = await client.delete(f"{KEYS}/{MISSING_KEY_ID}", headers=org.headers)
        assert foreign.status_code == missing.status_code == 404
        assert without_request_id(foreign.json()) == without_request_id(missing.json())
        assert await works(client, theirs["key"])

    async def test_project_and_user_keys_are_not_org_keys(
        self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        [project_key] = (await client.get(f"/org/owner/project/{project.id}/api_keys", headers=org.headers)).json()["items"]
        member = await create_member(sessionmaker, org, role="admin")
        assert (await client.delete(f"{KEYS}/{project_key['id']}", headers=org.headers)).status_code == 404
        assert (await client.get("/org/project/config", headers=project.headers)).status_code == 200
        assert (await client.get(KEYS, headers=member.headers)).status_code == 200

    async def test_the_last_key_may_revoke_itself_and_an_admin_makes_a_new_one(
        self, client: httpx.AsyncClient, org: Org, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        admin = await create_member(sessionmaker, org, role="admin")
        [only] = await listed(client, org.headers)
        response = await client.delete(f"{KEYS}/{only['id']}", headers=org.headers)
        assert response.status_code == 200, response.text
        assert not await works(client, org.api_key)
        assert await listed(client, admin.headers) == []
        fresh = await create_org_key(client, admin.headers, name="replacement")
        assert await works(client, fresh["key"])


class TestRoles:
    @pytest.fixture
    async def developer(self, sessionmaker: async_sessionmaker[AsyncSession], org: Org) -> MemberWithKey:
        return await create_member(sessionmaker, org, role="developer")

    @pytest.fixture
    async def admin(self, sessionmaker: async_sessionmaker[AsyncSession], org: Org) -> MemberWithKey:
        return await create_member(sessionmaker, org, role="admin")

    async def test_a_developers_user_key_is_403_everywhere(
        self, client: httpx.AsyncClient, org: Org, developer: MemberWithKey
    ) -> None:
        [default] = await listed(client, org.headers)
        for method, path, body in (("GET", KEYS, None), ("POST", KEYS, {"name": "escalate"}), ("DELETE", f"{KEYS}/{default['id']}", None)):
            response = await client.request(method, path, json=body, headers=developer.headers)
            assert response.status_code == 403, f"{method} {path}: {response.text}"
            assert response.json()["error"]["slug"] == "Auth_RoleForbidden"
        assert [item["name"] for item in await listed(client, org.headers)] == ["default"]
        assert await works(client, org.api_key)

    async def test_an_admins_user_key_manages_org_keys(
        self, client: httpx.AsyncClient, org: Org, admin: MemberWithKey
    ) -> None:
        created = await create_org_key(client, admin.headers, name="made-by-admin")
        assert await works(client, created["key"])
        assert "made-by-admin" in [item["name"] for item in await listed(client, admin.headers)]
        assert (await client.delete(f"{KEYS}/{created['id']}", headers=admin.headers)).status_code == 200
        assert not await works(client, created["key"])

    async def test_an_admin_of_another_organization_reaches_only_their_own(
        self, client: httpx.AsyncClient, org: Org, other_org: Org, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        outsider = await create_member(sessionmaker, other_org, role="admin")
        [default] = await listed(client, org.headers)
        response = await client.get(KEYS, headers={**outsider.headers, "x-org-id": org.id})
        assert response.status_code == 404 and response.json()["error"]["slug"] == "Organization_ResourceNotFound"
        assert (await client.delete(f"{KEYS}/{default['id']}", headers=outsider.headers)).status_code == 404
        assert await works(client, org.api_key)

    @pytest.mark.parametrize("header", ["x-org-api-key", "x-api-key"])
    async def test_a_project_key_cannot_manage_org_keys(self, client: httpx.AsyncClient, project: ProjectWithKey, header: str) -> None:
        response = await client.post(KEYS, json={"name": "escalate"}, headers={header: project.api_key})
        assert response.status_code == 401

    async def test_no_credential_is_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(KEYS)).status_code == 401


class TestAudit:
    async def test_create_and_revoke_are_recorded_without_the_key(
        self, client: httpx.AsyncClient, org: Org, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        admin = await create_member(sessionmaker, org, role="admin")
        expires_at = iso(utcnow() + timedelta(days=30))
        created = await create_org_key(client, org.headers, name="audited", expires_at=expires_at)
        revoked = await client.delete(f"{KEYS}/{created['id']}", headers=admin.headers)
        assert revoked.status_code == 200
        response = await client.get(
            "/org/owner/audit_log", params={"action": "org_api_key.created,org_api_key.revoked", "target_id": created["id"]},
            headers=org.headers,
        )
        events = response.json()["items"]
        assert [event["action"] for event in events] == ["org_api_key.revoked", "org_api_key.created"]
        revoke_event, create_event = events
        assert create_event["details"] == {"name": "audited", "expires_at": expires_at}
        assert create_event["actor_type"] == "org_key" and create_event["project_id"] is None
        assert revoke_event["details"] == {"name": "audited"}
        assert revoke_event["actor_type"] == "user_key" and revoke_event["member_id"] == admin.id
        assert revoke_event["request_id"] == revoked.headers["x-request-id"]
        assert created["key"] not in response.text and created["key"][4:] not in response.text

    async def test_a_refused_create_leaves_no_event(self, client: httpx.AsyncClient, org: Org) -> None:
        await create_org_key(client, org.headers, name="taken")
        assert (await client.post(KEYS, json={"name": "taken"}, headers=org.headers)).status_code == 409
        assert len(await audit_events(client, org, "org_api_key.created")) == 1
