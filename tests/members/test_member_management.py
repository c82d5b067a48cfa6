"""Managing an organization's members over the API: add, list, change roles, remove, the last-admin
guard, who may do it, and the one-time sign-in links adding a member returns."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.kit.time import utcnow
from tenantry.models import MemberInvitation
from tests.factories import MemberWithKey, Org, create_member, create_org, create_project, without_request_id
from tests.fixtures.server import Server

MEMBERS = "/org/owner/members"


def _email() -> str:
    return f"m-{secrets.token_hex(4)}@example.com"


async def _add(client: httpx.AsyncClient, headers: dict[str, str], *, role: str = "developer", email: str | None = None) -> dict[str, Any]:
    response = await client.post(MEMBERS, json={"email": email or _email(), "name": "New Person", "role": role}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _members(client: httpx.AsyncClient, org: Org) -> dict[str, str]:
    response = await client.get(MEMBERS, headers=org.headers)
    assert response.status_code == 200, response.text
    return {item["id"]: item["role"] for item in response.json()["items"]}


async def _audit(client: httpx.AsyncClient, org: Org, action: str) -> list[dict[str, Any]]:
    response = await client.get("/org/owner/audit_log", params={"action": action}, headers=org.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _token_of(url: str) -> str:
    found = re.search(r"/dashboard/invitations/([^/?#]+)$", url)
    assert found, url
    return found.group(1)


class Browser:
    """Opens sign-in links as a browser would: the page, then its form with the double-submit CSRF cookie."""

    def __init__(self, server: Server) -> None:
        self.http = httpx.AsyncClient(base_url=server.base_url, timeout=30, follow_redirects=False)

    async def choose_password(self, url: str, password: str) -> httpx.Response:
        path = httpx.URL(url).path
        form = await self.http.get(path)
        assert form.status_code == 200, form.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        return await self.http.post(path, data={"password": password, "confirmation": password, "csrf_token": token.group(1)})


@pytest.fixture
async def browser(server: Server) -> Any:
    opened = Browser(server)
    yield opened
    await opened.http.aclose()


@pytest.fixture
async def admin(sessionmaker: async_sessionmaker[AsyncSession], org: Org) -> MemberWithKey:
    return await create_member(sessionmaker, org, role="admin")


class TestAdd:
    async def test_the_org_key_adds_a_member_with_a_one_time_link(self, client: httpx.AsyncClient, org: Org, server: Server) -> None:
        email = _email()
        response = await client.post(MEMBERS, json={"email": email.upper(), "name": " Ada ", "role": "developer"}, headers=org.headers)
        assert response.status_code == 201, response.text
        added = response.json()
        assert set(added) == {"id", "email", "name", "role", "created_at", "has_password", "invitation_url", "invitation_expires_at"}
        assert added["id"].startswith("mb_") and added["email"] == email and added["name"] == "Ada" and added["role"] == "developer"
        assert added["has_password"] is False
        assert added["invitation_url"].startswith(f"{server.base_url}/dashboard/invitations/")
        listed = (await client.get(MEMBERS, headers=org.headers)).json()
        assert [(item["email"], item["role"], item["has_password"]) for item in listed["items"]] == [(email, "developer", False)]
        assert _token_of(added["invitation_url"]) not in str(listed)
        [event] = await _audit(client, org, "member.created")
        assert event["target_id"] == added["id"] and event["details"] == {"email": email, "role": "developer", "invited": True}

    async def test_the_link_is_valid_for_seven_days(self, client: httpx.AsyncClient, org: Org) -> None:
        added = await _add(client, org.headers)
        moment = datetime.fromisoformat(added["invitation_expires_at"].replace("Z", "+00:00"))
        assert timedelta(days=7) - timedelta(minutes=1) < moment - utcnow() <= timedelta(days=7)

    async def test_only_a_digest_of_the_link_is_stored(
        self, client: httpx.AsyncClient, org: Org, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        added = await _add(client, org.headers)
        token = _token_of(added["invitation_url"])
        async with unit_of_work(sessionmaker, read_only=True) as session:
            [row] = (await session.scalars(select(MemberInvitation).where(MemberInvitation.member_id == added["id"]))).all()
        assert row.org_id == org.id and len(row.token_hash) == 64 and token not in row.token_hash

    async def test_an_admins_user_key_adds_members(self, client: httpx.AsyncClient, org: Org, admin: MemberWithKey) -> None:
        added = await _add(client, admin.headers, role="admin")
        assert (await _members(client, org))[added["id"]] == "admin"
        [event] = [item for item in await _audit(client, org, "member.created") if item["target_id"] == added["id"]]
        assert event["actor_type"] == "user_key" and event["member_id"] == admin.id

    async def test_a_member_already_there_is_a_final_conflict(self, client: httpx.AsyncClient, org: Org) -> None:
        added = await _add(client, org.headers)
        again = await client.post(MEMBERS, json={"email": added["email"], "name": "Again", "role": "admin"}, headers=org.headers)
        assert again.status_code == 409 and again.headers["x-should-retry"] == "false"
        assert again.json()["error"]["slug"] == "Team_MemberAlreadyExists"
        assert (await _members(client, org))[added["id"]] == "developer"

    async def test_a_person_of_another_organization_joins_without_a_link(
        self, client: httpx.AsyncClient, org: Org, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        elsewhere = await create_member(sessionmaker, await create_org(sessionmaker), role="admin")
        response = await client.post(MEMBERS, json={"email": elsewhere.email, "name": "Renamed", "role": "developer"}, headers=org.headers)
        assert response.status_code == 201, response.text
        added = response.json()
        # The same person: their name and password are theirs, not this organization's to set.
        assert added["id"] == elsewhere.id and added["name"] == "Test Member"
        assert added["invitation_url"] is None and added["invitation_expires_at"] is None
        # Their user key now reaches this organization too, with the role given here.
        listed = await client.get("/org/project/list", headers={**elsewhere.headers, "x-org-id": org.id})
        assert listed.status_code == 200

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"email": "not-an-email", "name": "X", "role": "developer"}, "email"),
            ({"email": "x@example.com", "name": "X", "role": "owner"}, "role"),
            ({"email": "x@example.com", "name": "", "role": "admin"}, "name"),
            ({"email": "x@example.com", "name": "X", "role": "admin", "api_key": "uak_x"}, "api_key"),
        ],
    )
    async def test_bad_bodies_name_the_field(self, client: httpx.AsyncClient, org: Org, body: dict[str, str], field: str) -> None:
        response = await client.post(MEMBERS, json=body, headers=org.headers)
        assert response.status_code == 400
        assert any(problem.startswith(f"{field}:") for problem in response.json()["error"]["errors"])
        assert await _members(client, org) == {}


class TestRoles:
    async def test_a_role_change_applies_to_the_members_next_request(
        self, client: httpx.AsyncClient, org: Org, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        developer = await create_member(sessionmaker, org, role="developer")
        assert (await client.get("/org/owner/audit_log", headers=developer.headers)).status_code == 403
        response = await client.patch(f"{MEMBERS}/{developer.id}", json={"role": "admin"}, headers=org.headers)
        assert response.status_code == 200 and response.json()["role"] == "admin" and response.json()["id"] == developer.id
        assert (await client.get("/org/owner/audit_log", headers=developer.headers)).status_code == 200
        [event] = await _audit(client, org, "member.role_changed")
        assert event["target_id"] == developer.id
        assert event["details"] == {"email": developer.email, "role": {"old": "developer", "new": "admin"}}

    async def test_the_same_role_changes_nothing(self, client: httpx.AsyncClient, org: Org, admin: MemberWithKey) -> None:
        response = await client.patch(f"{MEMBERS}/{admin.id}", json={"role": "admin"}, headers=org.headers)
        assert response.status_code == 200 and response.json()["role"] == "admin"
        assert await _audit(client, org, "member.role_changed") == []

    async def test_the_last_admin_cannot_be_demoted(
        self, client: httpx.AsyncClient, org: Org, admin: MemberWithKey, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        second = await create_member(sessionmaker, org, role="admin")
        # One of two admins may step down (here, by their own key)...
        stepped_down = await client.patch(f"{MEMBERS}/{second.id}", json={"role": "developer"}, headers=second.headers)
        assert stepped_down.status_code == 200
        # ...but not the last one, whoever asks.
        for headers in (org.headers, admin.headers):
            refused = await client.patch(f"{MEMBERS}/{admin.id}", json={"role": "developer"}, headers=headers)
            assert refused.status_code == 409 and refused.headers["x-should-retry"] == "false"
            error = refused.json()["error"]
            assert error["slug"] == "Team_LastAdminRequired" and admin.email in error["message"]
            assert "another member an admin" in error["suggested_fix"]
        assert (await _members(client, org)) == {admin.id: "admin", second.id: "developer"}

    async def test_an_unknown_role_is_refused(self, client: httpx.AsyncClient, org: Org, admin: MemberWithKey) -> None:
        response = await client.patch(f"{MEMBERS}/{admin.id}", json={"role": "owner"}, headers=org.headers)
        assert response.status_code == 400 and response.json()["error"]["errors"][0].startswith("role:")


class TestRemove:
    async def test_removal_revokes_the_members_user_key_at_once(
        self, client: httpx.AsyncClient, org: Org, admin: MemberWithKey, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        developer = await create_member(sessionmaker, org, role="developer")
        assert (await client.get("/org/list", headers=developer.headers)).status_code == 200
        response = await client.delete(f"{MEMBERS}/{developer.id}", headers=admin.headers)
        assert response.status_code == 200 and response.json() == {"status": "success", "revoked_user_keys": 1}
        assert (await client.get("/org/list", headers=developer.headers)).status_code == 401
        assert developer.id not in await _members(client, org)
        [event] = await _audit(client, org, "member.removed")
        assert event["target_id"] == developer.id and event["member_id"] == admin.id
        assert event["details"]["email"] == developer.email and event["details"]["role"] == "developer"
        assert len(event["details"]["revoked_user_key_ids"]) == 1
        again = await client.delete(f"{MEMBERS}/{developer.id}", headers=admin.headers)
        assert again.status_code == 404

    async def test_a_key_from_another_organization_loses_this_one_only(
        self, client: httpx.AsyncClient, org: Org, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        home = await create_org(sessionmaker)
        person = await create_member(sessionmaker, home, role="developer")
        await create_member(sessionmaker, org, role="developer", email=person.email)
        here = {**person.headers, "x-org-id": org.id}
        assert (await client.get("/org/project/list", headers=here)).status_code == 200
        response = await client.delete(f"{MEMBERS}/{person.id}", headers=org.headers)
        assert response.status_code == 200 and response.json()["revoked_user_keys"] == 1
        assert (await client.get("/org/project/list", headers=here)).status_code == 404
        assert (await client.get("/org/project/list", headers=person.headers)).status_code == 200

    async def test_the_last_admin_cannot_be_removed(self, client: httpx.AsyncClient, org: Org, admin: MemberWithKey) -> None:
        for headers in (org.headers, admin.headers):
            refused = await client.delete(f"{MEMBERS}/{admin.id}", headers=headers)
            assert refused.status_code == 409 and refused.headers["x-should-retry"] == "false"
            assert refused.json()["error"]["slug"] == "Team_LastAdminRequired"
        assert (await client.get("/org/list", headers=admin.headers)).status_code == 200
        assert await _audit(client, org, "member.removed") == []

    async def test_an_admin_may_leave_when_another_admin_stays(
        self, client: httpx.AsyncClient, org: Org, admin: MemberWithKey, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await create_member(sessionmaker, org, role="admin")
        response = await client.delete(f"{MEMBERS}/{admin.id}", headers=admin.headers)
        assert response.status_code == 200
        assert (await client.get(MEMBERS, headers=admin.headers)).status_code == 401


class TestAccess:
    async def test_a_developer_reads_the_list_and_changes_nothing(
        self, client: httpx.AsyncClient, org: Org, admin: MemberWithKey, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        developer = await create_member(sessionmaker, org, role="developer")
        assert set(await _members(client, org)) == {admin.id, developer.id}
        assert (await client.get(MEMBERS, headers=developer.headers)).status_code == 200
        for method, path, body in (
            ("POST", MEMBERS, {"email": _email(), "name": "X", "role": "admin"}),
            ("PATCH", f"{MEMBERS}/{developer.id}", {"role": "admin"}),
            ("PATCH", f"{MEMBERS}/{admin.id}", {"role": "developer"}),
            ("DELETE", f"{MEMBERS}/{admin.id}", None),
            ("POST", f"{MEMBERS}/{admin.id}/invitation", None),
        ):
            refused = await client.request(method, path, json=body, headers=developer.headers)
            assert refused.status_code == 403, f"{method} {path}: {refused.text}"
            assert refused.json()["error"]["slug"] == "Auth_RoleForbidden"
        assert await _members(client, org) == {admin.id: "admin", developer.id: "developer"}

    async def test_project_keys_and_no_key_are_refused(self, client: httpx.AsyncClient, org: Org) -> None:
        project = await create_project(client, org)
        for headers in ({}, project.headers, {"x-user-api-key": org.api_key}):
            assert (await client.get(MEMBERS, headers=headers)).status_code == 401
            assert (await client.post(MEMBERS, json={"email": _email(), "name": "X", "role": "admin"}, headers=headers)).status_code == 401

    async def test_another_organizations_member_is_indistinguishable_from_a_missing_one(
        self, client: httpx.AsyncClient, org: Org, other_org: Org, admin: MemberWithKey, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        theirs = await create_member(sessionmaker, other_org, role="developer")
        for caller in (org.headers, admin.headers):
            for method, path, body in (
                ("PATCH", "/org/owner/members/{}", {"role": "admin"}),
                ("DELETE", "/org/owner/members/{}", None),
                ("POST", "/org/owner/members/{}/invitation", None),
            ):
                stolen = await client.request(method, path.format(theirs.id), json=body, headers=caller)
                missing = await client.request(method, path.format("mb_000000000000"), json=body, headers=caller)
                malformed = await client.request(method, path.format("nope"), json=body, headers=caller)
                assert stolen.status_code == missing.status_code == malformed.status_code == 404, stolen.text
                assert without_request_id(stolen.json()) == without_request_id(missing.json())
                assert stolen.json()["error"]["slug"] == "Team_MemberNotFound"
        listed = (await client.get(MEMBERS, headers=org.headers)).text
        assert theirs.id not in listed and theirs.email not in listed
        assert (await client.get("/org/list", headers=theirs.headers)).status_code == 200
        assert await _members(client, other_org) == {theirs.id: "developer"}

    async def test_x_org_id_reaches_only_the_members_organizations(
        self, client: httpx.AsyncClient, org: Org, admin: MemberWithKey, other_org: Org
    ) -> None:
        refused = await client.get(MEMBERS, headers={**admin.headers, "x-org-id": other_org.id})
        assert refused.status_code == 404 and refused.json()["error"]["slug"] == "Organization_ResourceNotFound"


class TestSignInLinks:
    async def test_a_link_works_once(self, client: httpx.AsyncClient, org: Org, browser: Browser) -> None:
        added = await _add(client, org.headers)
        chosen = await browser.choose_password(added["invitation_url"], "a-long-enough-password")
        assert chosen.status_code == 303 and chosen.headers["location"] == f"/dashboard/orgs/{org.id}/projects?notice=password_set"
        assert "tenantry_session" in chosen.cookies
        listed = (await client.get(MEMBERS, headers=org.headers)).json()["items"]
        assert [item["has_password"] for item in listed] == [True]
        again = await browser.http.get(httpx.URL(added["invitation_url"]).path)
        assert again.status_code == 410 and "already been used" in again.text
        [event] = await _audit(client, org, "member.invitation_accepted")
        assert event["target_id"] == added["id"] and event["actor_type"] == "system"

    async def test_an_expired_link_is_refused(
        self, client: httpx.AsyncClient, org: Org, browser: Browser, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        added = await _add(client, org.headers)
        async with unit_of_work(sessionmaker) as session:
            await session.execute(
                update(MemberInvitation).where(MemberInvitation.member_id == added["id"]).values(expires_at=utcnow() - timedelta(seconds=1))
            )
        opened = await browser.http.get(httpx.URL(added["invitation_url"]).path)
        assert opened.status_code == 410 and "This link has expired" in opened.text and 'name="password"' not in opened.text

    async def test_a_fresh_link_replaces_the_older_one(self, client: httpx.AsyncClient, org: Org, browser: Browser) -> None:
        added = await _add(client, org.headers)
        response = await client.post(f"{MEMBERS}/{added['id']}/invitation", headers=org.headers)
        assert response.status_code == 201 and set(response.json()) == {"invitation_url", "expires_at"}
        fresh = response.json()["invitation_url"]
        assert fresh != added["invitation_url"]
        old = await browser.http.get(httpx.URL(added["invitation_url"]).path)
        assert old.status_code == 404 and "not valid" in old.text
        assert (await browser.choose_password(fresh, "a-long-enough-password")).status_code == 303
        [event] = await _audit(client, org, "member.invitation_created")
        assert event["target_id"] == added["id"]

    async def test_no_link_for_a_member_of_other_organizations(
        self, client: httpx.AsyncClient, org: Org, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        person = await create_member(sessionmaker, await create_org(sessionmaker), role="admin")
        await create_member(sessionmaker, org, role="developer", email=person.email)
        refused = await client.post(f"{MEMBERS}/{person.id}/invitation", headers=org.headers)
        assert refused.status_code == 409 and refused.headers["x-should-retry"] == "false"
        assert refused.json()["error"]["slug"] == "Team_MemberInOtherOrganizations"

    async def test_a_link_stops_working_when_its_member_joins_another_organization(
        self, client: httpx.AsyncClient, org: Org, browser: Browser, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        added = await _add(client, org.headers)
        elsewhere = await create_org(sessionmaker)
        await create_member(sessionmaker, elsewhere, role="admin", email=added["email"])
        opened = await browser.http.get(httpx.URL(added["invitation_url"]).path)
        assert opened.status_code == 409 and "other organizations" in opened.text

    async def test_removal_ends_the_members_links(self, client: httpx.AsyncClient, org: Org, admin: MemberWithKey, browser: Browser) -> None:
        added = await _add(client, org.headers)
        assert (await client.delete(f"{MEMBERS}/{added['id']}", headers=admin.headers)).status_code == 200
        opened = await browser.http.get(httpx.URL(added["invitation_url"]).path)
        assert opened.status_code == 404


class TestListPages:
    async def test_pages_follow_the_order_members_joined(self, client: httpx.AsyncClient, org: Org) -> None:
        added = [(await _add(client, org.headers))["id"] for _ in range(5)]
        seen: list[str] = []
        cursor = None
        for number in (1, 2, 3):
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            listed = (await client.get(MEMBERS, params=params, headers=org.headers)).json()
            assert listed["current_page"] == number and listed["total_items"] == 5 and listed["total_pages"] == 3
            seen += [item["id"] for item in listed["items"]]
            cursor = listed["next_cursor"]
        assert cursor is None and seen == added

    async def test_a_page_size_out_of_range_names_the_field(self, client: httpx.AsyncClient, org: Org) -> None:
        response = await client.get(MEMBERS, params={"limit": 0}, headers=org.headers)
        assert response.status_code == 400 and "limit" in response.text
