"""The members page: admins add members with a one-time sign-in link, change roles and remove
members; developers only read. Over plain HTTP, then the main flow in Chromium."""

from __future__ import annotations

import re
import secrets

import httpx
from playwright.async_api import Browser, Page, expect
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.models import DashboardSession
from tests.dashboard.conftest import Dashboard, Person, csrf_of, member_with_password, shot, sign_in
from tests.factories import Org, create_member
from tests.fixtures.server import Server

PASSWORD = "correct-horse-battery"


def _email() -> str:
    return f"new-{secrets.token_hex(4)}@example.com"


def _link_of(html: str) -> str:
    found = re.search(r'id="invitation-link" class="mono" readonly value="([^"]+)"', html)
    assert found, "the page shows no sign-in link"
    return found.group(1)


def _dashboard_path(url: str) -> str:
    """A link's path below /dashboard, for a Dashboard client."""
    return httpx.URL(url).path.removeprefix("/dashboard")


async def _members_api(client: httpx.AsyncClient, org: Org) -> dict[str, str]:
    response = await client.get("/org/owner/members", headers=org.headers)
    assert response.status_code == 200, response.text
    return {item["email"]: item["role"] for item in response.json()["items"]}


async def _add(dashboard: Dashboard, org: Org, email: str, *, role: str = "developer", name: str = "Grace Hopper") -> httpx.Response:
    members = f"/orgs/{org.id}/members"
    return await dashboard.post_form(members, members, {"email": email, "name": name, "role": role})


async def _choose(visitor: Dashboard, link: str, password: str, confirmation: str | None = None) -> httpx.Response:
    form = await visitor.http.get(_dashboard_path(link))
    assert form.status_code == 200, form.text
    data = {"password": password, "confirmation": password if confirmation is None else confirmation, "csrf_token": csrf_of(form.text)}
    return await visitor.http.post(_dashboard_path(link), data=data)


class TestAddMember:
    async def test_an_admin_adds_a_member_whose_link_sets_a_password_and_signs_in(
        self, dashboard: Dashboard, admin: Person, org: Org, server: Server, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        listing = await dashboard.http.get(f"/orgs/{org.id}/members")
        assert listing.status_code == 200 and "Add a member" in listing.text and admin.email in listing.text
        email = _email()
        added = await _add(dashboard, org, email.upper())
        assert added.status_code == 200 and f"{email} added as developer" in added.text
        link = _link_of(added.text)
        assert link.startswith(f"{server.base_url}/dashboard/invitations/") and 'data-copy="invitation-link"' in added.text
        assert await _members_api(client, org) == {admin.email: "admin", email: "developer"}
        # Shown once: the list does not show it again.
        assert link not in (await dashboard.http.get(f"/orgs/{org.id}/members")).text

        visitor = Dashboard(server.base_url)
        try:
            form = await visitor.http.get(_dashboard_path(link))
            assert form.status_code == 200 and "Choose a password" in form.text and email in form.text
            mismatch = await _choose(visitor, link, PASSWORD, "something-else-entirely")
            assert mismatch.status_code == 400 and "The two passwords are not the same." in mismatch.text
            short = await _choose(visitor, link, "short")
            assert short.status_code == 400 and "at least 12 characters" in short.text
            chosen = await _choose(visitor, link, PASSWORD)
            assert chosen.status_code == 303 and chosen.headers["location"] == f"/dashboard/orgs/{org.id}/projects?notice=password_set"
            welcome = await visitor.http.get(f"/orgs/{org.id}/projects?notice=password_set")
            assert welcome.status_code == 200 and "Your password is set and you are signed in." in welcome.text
            members_page = await visitor.http.get(f"/orgs/{org.id}/members")
            assert members_page.status_code == 200 and "Add a member" not in members_page.text
            used = await visitor.http.get(_dashboard_path(link))
            assert used.status_code == 410 and "already been used" in used.text
        finally:
            await visitor.http.aclose()
        person = Person(admin.member.__class__("", email, org.id, ""), PASSWORD)
        again = Dashboard(server.base_url)
        try:
            assert (await again.sign_in(person)).status_code == 303
        finally:
            await again.http.aclose()

    async def test_problems_with_the_form_are_shown_on_the_page(
        self, dashboard: Dashboard, admin: Person, org: Org, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        invalid = await _add(dashboard, org, "not-an-email", name="Kept Name")
        assert invalid.status_code == 400 and "Check the new member’s details." in invalid.text
        assert "email: must be an email address" in invalid.text and 'value="Kept Name"' in invalid.text
        taken = await _add(dashboard, org, admin.email)
        assert taken.status_code == 409 and "is already a member" in taken.text
        assert await _members_api(client, org) == {admin.email: "admin"}

    async def test_the_password_form_needs_its_csrf_token(
        self, dashboard: Dashboard, admin: Person, org: Org, server: Server
    ) -> None:
        await dashboard.sign_in(admin)
        link = _link_of((await _add(dashboard, org, _email())).text)
        visitor = Dashboard(server.base_url)
        try:
            await visitor.http.get(_dashboard_path(link))
            refused = await visitor.http.post(_dashboard_path(link), data={"password": PASSWORD, "confirmation": PASSWORD, "csrf_token": "forged"})
            assert refused.status_code == 403 and "tenantry_session" not in refused.cookies
            # Nothing was used up.
            assert (await _choose(visitor, link, PASSWORD)).status_code == 303
        finally:
            await visitor.http.aclose()

    async def test_a_bad_link_is_a_clear_page(self, dashboard: Dashboard) -> None:
        response = await dashboard.http.get("/invitations/not-a-real-token")
        assert response.status_code == 404 and "This link is not valid" in response.text and 'name="password"' not in response.text


class TestManageMembers:
    async def test_an_admin_changes_a_role(
        self, dashboard: Dashboard, admin: Person, developer: Person, org: Org, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        members = f"/orgs/{org.id}/members"
        changed = await dashboard.post_form(members, f"{members}/{developer.member.id}/role", {"role": "admin"})
        assert changed.status_code == 303 and changed.headers["location"] == f"/dashboard{members}?notice=role_changed"
        assert "The member’s role was changed." in (await dashboard.http.get(f"{members}?notice=role_changed")).text
        assert (await _members_api(client, org))[developer.email] == "admin"

    async def test_the_last_admin_is_kept_with_a_clear_message(
        self, dashboard: Dashboard, admin: Person, developer: Person, org: Org, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        members = f"/orgs/{org.id}/members"
        demoted = await dashboard.post_form(members, f"{members}/{admin.member.id}/role", {"role": "developer"})
        assert demoted.status_code == 409
        assert f"{admin.email} is the organization" in demoted.text and "only admin" in demoted.text
        assert "Make another member an admin first" in demoted.text
        removed = await dashboard.post_form(f"{members}/{admin.member.id}/remove", f"{members}/{admin.member.id}/remove", {})
        assert removed.status_code == 409 and "Make another member an admin first" in removed.text
        assert await _members_api(client, org) == {admin.email: "admin", developer.email: "developer"}

    async def test_removal_is_confirmed_and_ends_the_members_access(
        self, dashboard: Dashboard, admin: Person, developer: Person, org: Org, server: Server,
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        theirs = Dashboard(server.base_url)
        try:
            await theirs.sign_in(developer)
            assert (await theirs.http.get(f"/orgs/{org.id}/projects")).status_code == 200
            await dashboard.sign_in(admin)
            members = f"/orgs/{org.id}/members"
            confirm = await dashboard.http.get(f"{members}/{developer.member.id}/remove")
            assert confirm.status_code == 200 and "Remove Test Member from" in confirm.text and developer.email in confirm.text
            removed = await dashboard.post_form(f"{members}/{developer.member.id}/remove", f"{members}/{developer.member.id}/remove", {})
            assert removed.status_code == 303 and removed.headers["location"] == f"/dashboard{members}?notice=member_removed"
            assert developer.email not in await _members_api(client, org)
            assert (await client.get("/org/list", headers=developer.member.headers)).status_code == 401
            # Their session stays (they may belong elsewhere), but no page of this organization opens for it.
            async with unit_of_work(sessionmaker, read_only=True) as session:
                count = await session.scalar(select(func.count()).select_from(DashboardSession).where(DashboardSession.member_id == developer.member.id))
            assert count == 1
            for path in (f"/orgs/{org.id}/projects", members, f"/orgs/{org.id}"):
                assert (await theirs.http.get(path)).status_code == 404, path
        finally:
            await theirs.http.aclose()

    async def test_a_new_sign_in_link_replaces_the_old_one(
        self, dashboard: Dashboard, admin: Person, org: Org, server: Server
    ) -> None:
        await dashboard.sign_in(admin)
        email = _email()
        first = _link_of((await _add(dashboard, org, email)).text)
        members = f"/orgs/{org.id}/members"
        listing = await dashboard.http.get(members)
        member_id = re.search(rf'{re.escape(email)}.*?<code class="id">(mb_\w+)</code>', listing.text, re.S)
        assert member_id
        fresh = await dashboard.post_form(members, f"{members}/{member_id.group(1)}/invitation", {})
        assert fresh.status_code == 200 and f"New sign-in link for {email}" in fresh.text
        second = _link_of(fresh.text)
        visitor = Dashboard(server.base_url)
        try:
            old = await visitor.http.get(_dashboard_path(first))
            assert old.status_code == 404 and "replaced by a newer one" in old.text
            assert (await _choose(visitor, second, PASSWORD)).status_code == 303
        finally:
            await visitor.http.aclose()


class TestRoles:
    async def test_a_developer_reads_the_list_and_changes_nothing(
        self, dashboard: Dashboard, admin: Person, developer: Person, org: Org, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(developer)
        members = f"/orgs/{org.id}/members"
        listing = await dashboard.http.get(members)
        assert listing.status_code == 200 and admin.email in listing.text and developer.email in listing.text
        for absent in ("Add a member", "Change role", "New sign-in link", "/remove"):
            assert absent not in listing.text
        token = csrf_of(listing.text)
        for action, data in (
            (members, {"email": _email(), "name": "Sneaky", "role": "admin"}),
            (f"{members}/{developer.member.id}/role", {"role": "admin"}),
            (f"{members}/{admin.member.id}/remove", {}),
            (f"{members}/{admin.member.id}/invitation", {}),
        ):
            refused = await dashboard.http.post(action, data={**data, "csrf_token": token})
            assert refused.status_code == 403 and "admin role" in refused.text, action
        assert (await dashboard.http.get(f"{members}/{admin.member.id}/remove")).status_code == 403
        assert await _members_api(client, org) == {admin.email: "admin", developer.email: "developer"}


class TestTenancy:
    async def test_another_organizations_member_answers_404(
        self, dashboard: Dashboard, admin: Person, org: Org, other_org: Org, sessionmaker: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
    ) -> None:
        theirs = await create_member(sessionmaker, other_org, role="admin")
        await dashboard.sign_in(admin)
        members = f"/orgs/{org.id}/members"
        assert (await dashboard.http.get(f"{members}/{theirs.id}/remove")).status_code == 404
        for action, data in (
            (f"{members}/{theirs.id}/role", {"role": "developer"}),
            (f"{members}/{theirs.id}/remove", {}),
            (f"{members}/{theirs.id}/invitation", {}),
        ):
            response = await dashboard.post_form(members, action, data)
            assert response.status_code == 404, action
        assert (await dashboard.http.get(f"/orgs/{other_org.id}/members")).status_code == 404
        assert await _members_api(client, other_org) == {theirs.email: "admin"}
        assert theirs.email not in (await dashboard.http.get(members)).text


class TestInBrowser:
    async def test_an_admin_invites_a_member_who_chooses_a_password(
        self, page: Page, browser: Browser, server: Server, admin: Person, org: Org,
        sessionmaker: async_sessionmaker[AsyncSession], client: httpx.AsyncClient,
    ) -> None:
        await member_with_password(sessionmaker, org, role="developer")
        await sign_in(page, admin)
        await page.get_by_role("link", name="Members").click()
        await expect(page.get_by_role("heading", name="Members")).to_be_visible()
        email = _email()
        await page.get_by_label("Email", exact=True).fill(email)
        await page.get_by_label("Name", exact=True).fill("Grace Hopper")
        await page.get_by_label("Role", exact=True).select_option("developer")
        await page.get_by_role("button", name="Add member").click()
        await expect(page.get_by_role("heading", name=f"{email} added as developer")).to_be_visible()
        link = await page.get_by_label("Sign-in link").input_value()
        assert link.startswith(f"{server.base_url}/dashboard/invitations/")
        await expect(page.get_by_role("button", name="Copy")).to_be_visible()
        await page.get_by_role("link", name="Back to members").click()
        await expect(page.get_by_role("row").filter(has_text=email).get_by_text("no password yet")).to_be_visible()
        await shot(page, "org-members-manage")

        # On a phone the page still fits: the table scrolls inside its frame.
        await page.set_viewport_size({"width": 390, "height": 800})
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390

        context = await browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 900})
        try:
            invited = await context.new_page()
            await invited.goto(link)
            await expect(invited.get_by_role("heading", name="Choose a password")).to_be_visible()
            await expect(invited.get_by_text(email)).to_be_visible()
            await invited.get_by_label("Choose a password").fill(PASSWORD)
            await invited.get_by_label("Type it again").fill(PASSWORD)
            await shot(invited, "invitation")
            await invited.get_by_role("button", name="Set password and sign in").click()
            await expect(invited.get_by_text("Your password is set and you are signed in.")).to_be_visible()
            await expect(invited.get_by_role("heading", name="Projects")).to_be_visible()
            await expect(invited.get_by_text(f"{email} · developer")).to_be_visible()
        finally:
            await context.close()

        await page.set_viewport_size({"width": 1280, "height": 900})
        await page.reload()
        row = page.get_by_role("row").filter(has_text=email)
        await expect(row.get_by_text("password set")).to_be_visible()
        await row.get_by_label(f"Role of {email}", exact=True).select_option("admin")
        await row.get_by_role("button", name="Change role").click()
        await expect(page.get_by_text("The member’s role was changed.")).to_be_visible()
        assert (await _members_api(client, org))[email] == "admin"
        await page.get_by_role("row").filter(has_text=email).get_by_role("link", name=f"Remove {email}").click()
        await expect(page.get_by_role("heading", name="Remove Grace Hopper from")).to_be_visible()
        await page.get_by_role("button", name=f"Remove {email}").click()
        await expect(page.get_by_text("The member was removed.")).to_be_visible()
        assert email not in await _members_api(client, org)
