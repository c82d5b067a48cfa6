"""The organization's API keys on the dashboard (admins only), as the API then treats them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect

from tests.dashboard.conftest import Dashboard, Person, shot, sign_in
from tests.factories import Org
from tests.fixtures.server import Server

PROBE = "/org/owner/project/list"


def keys_page(org: Org) -> str:
    return f"/orgs/{org.id}/api-keys"


def _shown_key(html: str) -> str:
    found = re.search(r'id="new-key" class="mono" readonly value="(oak_[A-Za-z0-9]+)"', html)
    assert found, "the page does not show the new key"
    return found.group(1)


async def api_keys(client: httpx.AsyncClient, org: Org) -> list[dict[str, Any]]:
    response = await client.get("/org/owner/api_keys", headers=org.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def works(client: httpx.AsyncClient, key: str) -> bool:
    status = (await client.get(PROBE, headers={"x-org-api-key": key})).status_code
    assert status in (200, 401), status
    return status == 200


class TestAdmin:
    async def test_the_list_shows_keys_masked(self, dashboard: Dashboard, admin: Person, org: Org) -> None:
        await dashboard.sign_in(admin)
        response = await dashboard.http.get(keys_page(org))
        assert response.status_code == 200
        assert "Organization API keys" in response.text and 'aria-current="page">Org API keys' in response.text
        assert f"oak_**{org.api_key[-4:]}" in response.text and org.api_key not in response.text
        assert "never" in response.text

    async def test_create_shows_the_key_once_and_it_works(
        self, dashboard: Dashboard, admin: Person, org: Org, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        created = await dashboard.post_form(keys_page(org), keys_page(org), {"name": "ci-bot"})
        assert created.status_code == 200, created.text
        assert "Organization key ci-bot created" in created.text and 'data-copy="new-key"' in created.text
        assert "Organization API key" in created.text and "Go to the project" not in created.text
        key = _shown_key(created.text)
        assert await works(client, key)
        listing = await dashboard.http.get(keys_page(org))
        assert f"oak_**{key[-4:]}" in listing.text and key not in listing.text
        [made] = [item for item in await api_keys(client, org) if item["name"] == "ci-bot"]
        events = (await client.get("/org/owner/audit_log", params={"target_id": made["id"]}, headers=org.headers)).json()["items"]
        assert [event["action"] for event in events] == ["org_api_key.created"]
        assert events[0]["member_id"] == admin.member.id and events[0]["actor_type"] == "user_key"

    async def test_an_expiry_date_ends_the_key_at_the_end_of_that_day(
        self, dashboard: Dashboard, admin: Person, org: Org, client: httpx.AsyncClient
    ) -> None:
        day = (datetime.now(UTC) + timedelta(days=7)).date()
        await dashboard.sign_in(admin)
        created = await dashboard.post_form(keys_page(org), keys_page(org), {"name": "temporary", "expires_on": day.isoformat()})
        assert created.status_code == 200 and f"stops working at {day.isoformat()} 23:59" in created.text
        [made] = [item for item in await api_keys(client, org) if item["name"] == "temporary"]
        assert made["expires_at"] == f"{day.isoformat()}T23:59:59.000Z"
        assert f"{day.isoformat()} 23:59" in (await dashboard.http.get(keys_page(org))).text

    async def test_problems_are_shown_in_the_form_and_nothing_is_made(
        self, dashboard: Dashboard, admin: Person, org: Org, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        cases = [
            ({"name": ""}, 400, "name:"),
            ({"name": "x" * 101}, 400, "name:"),
            ({"name": "past", "expires_on": "2020-01-01"}, 400, "expires_at: must be in the future"),
            ({"name": "garbled", "expires_on": "next week"}, 400, "expires_on: must be a date"),
            ({"name": "default"}, 409, "already has a live organization key named"),
        ]
        for form, status, text in cases:
            refused = await dashboard.post_form(keys_page(org), keys_page(org), form)
            assert refused.status_code == status, (form, refused.text)
            assert text in refused.text and 'role="alert"' in refused.text, form
            assert "Create an organization key" in refused.text
        assert 'value="default"' in refused.text
        assert [item["name"] for item in await api_keys(client, org)] == ["default"]

    async def test_revoke_shows_a_notice_and_the_key_fails_at_once(
        self, dashboard: Dashboard, admin: Person, org: Org, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        key = _shown_key((await dashboard.post_form(keys_page(org), keys_page(org), {"name": "short-lived"})).text)
        assert await works(client, key)
        [made] = [item for item in await api_keys(client, org) if item["name"] == "short-lived"]
        revoked = await dashboard.post_form(keys_page(org), f"{keys_page(org)}/{made['id']}/revoke", {})
        assert revoked.status_code == 303
        assert revoked.headers["location"] == f"/dashboard{keys_page(org)}?notice=org_key_revoked"
        assert not await works(client, key)
        after = await dashboard.http.get(f"{keys_page(org)}?notice=org_key_revoked")
        assert "The organization key was revoked." in after.text and f"oak_**{key[-4:]}" not in after.text
        assert await works(client, org.api_key)

    async def test_the_last_key_can_go_and_a_new_one_be_made(
        self, dashboard: Dashboard, admin: Person, org: Org, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        [only] = await api_keys(client, org)
        assert (await dashboard.post_form(keys_page(org), f"{keys_page(org)}/{only['id']}/revoke", {})).status_code == 303
        assert not await works(client, org.api_key)
        empty = await dashboard.http.get(keys_page(org))
        assert "has no working organization key" in empty.text
        key = _shown_key((await dashboard.post_form(keys_page(org), keys_page(org), {"name": "fresh"})).text)
        assert await works(client, key)

    async def test_another_organizations_key_and_page_answer_404(
        self, dashboard: Dashboard, admin: Person, org: Org, other_org: Org, client: httpx.AsyncClient
    ) -> None:
        [theirs] = await api_keys(client, other_org)
        await dashboard.sign_in(admin)
        refused = await dashboard.post_form(keys_page(org), f"{keys_page(org)}/{theirs['id']}/revoke", {})
        assert refused.status_code == 404
        assert await works(client, other_org.api_key)
        assert (await dashboard.http.get(keys_page(other_org))).status_code == 404
        refused = await dashboard.post_form(keys_page(org), f"{keys_page(other_org)}/{theirs['id']}/revoke", {})
        assert refused.status_code == 404
        assert await works(client, other_org.api_key)


class TestDeveloper:
    async def test_a_developer_is_refused_everything(
        self, dashboard: Dashboard, developer: Person, org: Org, client: httpx.AsyncClient
    ) -> None:
        [default] = await api_keys(client, org)
        await dashboard.sign_in(developer)
        projects = await dashboard.http.get(f"/orgs/{org.id}/projects")
        assert projects.status_code == 200 and "Org API keys" not in projects.text
        page = await dashboard.http.get(keys_page(org))
        assert page.status_code == 403 and "admin role" in page.text and org.api_key[-4:] not in page.text
        created = await dashboard.post_form(f"/orgs/{org.id}/projects", keys_page(org), {"name": "escalate"})
        assert created.status_code == 403 and "oak_" not in created.text
        revoked = await dashboard.post_form(f"/orgs/{org.id}/projects", f"{keys_page(org)}/{default['id']}/revoke", {})
        assert revoked.status_code == 403
        assert [item["name"] for item in await api_keys(client, org)] == ["default"]
        assert await works(client, org.api_key)


class TestInTheBrowser:
    async def test_create_copy_use_and_revoke_an_org_key(
        self, page: Page, admin: Person, org: Org, client: httpx.AsyncClient
    ) -> None:
        await sign_in(page, admin)
        await expect(page.get_by_role("heading", name="Projects")).to_be_visible()
        await page.get_by_role("link", name="Org API keys").click()
        await expect(page.get_by_role("heading", name="Organization API keys")).to_be_visible()
        await expect(page.get_by_text(f"oak_**{org.api_key[-4:]}")).to_be_visible()

        await page.get_by_label("Name").fill("browser-made")
        await page.get_by_role("button", name="Create key").click()
        await expect(page.get_by_role("heading", name="Organization key browser-made created")).to_be_visible()
        await expect(page.get_by_role("button", name="Copy")).to_be_visible()
        key = await page.get_by_label("Organization API key").input_value()
        assert re.fullmatch(r"oak_[A-Za-z0-9]{32}", key)
        await shot(page, "org-api-key-created")
        assert await works(client, key)

        await page.get_by_role("link", name="Back to organization API keys").click()
        await expect(page.get_by_text(f"oak_**{key[-4:]}")).to_be_visible()
        assert key not in await page.content()
        await shot(page, "org-api-keys")
        await page.get_by_role("button", name="Revoke key browser-made").click()
        await expect(page.get_by_text("The organization key was revoked. It no longer works.")).to_be_visible()
        await expect(page.get_by_text(f"oak_**{key[-4:]}")).to_have_count(0)
        assert not await works(client, key)
        assert await works(client, org.api_key)

    async def test_a_phone_sized_screen(self, browser: Browser, server: Server, admin: Person, org: Org) -> None:
        context = await browser.new_context(base_url=server.base_url, viewport={"width": 390, "height": 844}, is_mobile=True)
        try:
            page = await context.new_page()
            await sign_in(page, admin)
            await page.goto(f"/dashboard{keys_page(org)}")
            await expect(page.get_by_role("heading", name="Organization API keys")).to_be_visible()
            # Nothing but the key table (which scrolls inside its own box) is wider than the screen.
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390
            await shot(page, "org-api-keys-phone")
        finally:
            await context.close()
