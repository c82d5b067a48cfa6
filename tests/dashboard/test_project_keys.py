"""A project's keys on the dashboard: named, scoped and expiring keys, as the API then treats them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Page, expect

from tests.dashboard.conftest import Dashboard, Person, shot, sign_in
from tests.factories import Org, ProjectWithKey


def _shown_key(html: str) -> str:
    found = re.search(r'id="new-key" class="mono" readonly value="(ak_[A-Za-z0-9]+)"', html)
    assert found, "the page does not show the new key"
    return found.group(1)


class TestScopedKeys:
    async def test_a_scoped_key_reaches_only_its_areas(
        self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(developer)
        keys_page = f"/orgs/{org.id}/projects/{project.id}"
        created = await dashboard.post_form(
            keys_page, f"{keys_page}/keys",
            {"name": "reader", "access": "scoped", "scope_auth_configs": "read", "scope_webhooks": "none"},
        )
        assert created.status_code == 200 and "auth_configs=read" in created.text
        key = _shown_key(created.text)
        headers = {"x-api-key": key}
        assert (await client.get("/auth_configs", headers=headers)).status_code == 200
        refused = await client.post("/auth_configs", headers=headers, json={"toolkit": {"slug": "github"}})
        assert refused.status_code == 403 and "auth_configs:write" in refused.text
        listed = (await client.get(f"/org/owner/project/{project.id}/api_keys", headers=org.headers)).json()["items"]
        [reader] = [item for item in listed if item["name"] == "reader"]
        assert reader["scopes"]["auth_configs"] == "read" and reader["scopes"]["connected_accounts"] == "none"
        # The keys page shows the scope of each key, and never the key itself again.
        page = await dashboard.http.get(keys_page)
        assert "auth_configs=read" in page.text and key not in page.text

    async def test_scoped_with_every_area_at_none_is_refused_and_kept_in_the_form(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        keys_page = f"/orgs/{org.id}/projects/{project.id}"
        refused = await dashboard.post_form(keys_page, f"{keys_page}/keys", {"name": "nothing-at-all", "access": "scoped"})
        assert refused.status_code == 400 and "at least one area" in refused.text
        assert 'value="nothing-at-all"' in refused.text
        listed = (await client.get(f"/org/owner/project/{project.id}/api_keys", headers=org.headers)).json()["items"]
        assert "nothing-at-all" not in [item["name"] for item in listed]

    async def test_an_unknown_level_names_the_area(self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey) -> None:
        await dashboard.sign_in(admin)
        keys_page = f"/orgs/{org.id}/projects/{project.id}"
        refused = await dashboard.post_form(keys_page, f"{keys_page}/keys", {"name": "odd", "access": "scoped", "scope_tools": "write"})
        assert refused.status_code == 400 and "scopes.tools" in refused.text

    async def test_full_access_ignores_the_scope_selects(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        keys_page = f"/orgs/{org.id}/projects/{project.id}"
        created = await dashboard.post_form(keys_page, f"{keys_page}/keys", {"name": "ops", "access": "full", "scope_tools": "read"})
        assert created.status_code == 200
        headers = {"x-api-key": _shown_key(created.text)}
        assert (await client.get("/org/project/config", headers=headers)).status_code == 200


class TestExpiringKeys:
    async def test_a_key_expires_at_the_end_of_the_chosen_day(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        keys_page = f"/orgs/{org.id}/projects/{project.id}"
        day = (datetime.now(UTC) + timedelta(days=3)).date()
        created = await dashboard.post_form(keys_page, f"{keys_page}/keys", {"name": "temporary", "expires_on": day.isoformat()})
        assert created.status_code == 200 and f"{day.isoformat()} 23:59" in created.text
        assert (await client.get("/org/project/config", headers={"x-api-key": _shown_key(created.text)})).status_code == 200
        listed = (await client.get(f"/org/owner/project/{project.id}/api_keys", headers=org.headers)).json()["items"]
        [temporary] = [item for item in listed if item["name"] == "temporary"]
        assert temporary["expires_at"].startswith(f"{day.isoformat()}T23:59:59")

    async def test_a_past_day_or_a_non_date_is_refused(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey
    ) -> None:
        await dashboard.sign_in(admin)
        keys_page = f"/orgs/{org.id}/projects/{project.id}"
        past = await dashboard.post_form(keys_page, f"{keys_page}/keys", {"name": "late", "expires_on": "2020-01-01"})
        assert past.status_code == 400 and "expires_at: must be in the future" in past.text
        garbage = await dashboard.post_form(keys_page, f"{keys_page}/keys", {"name": "odd", "expires_on": "next tuesday"})
        assert garbage.status_code == 400 and "expires_on" in garbage.text


class TestInTheBrowser:
    async def test_create_a_scoped_key(self, page: Page, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient) -> None:
        await sign_in(page, admin)
        await page.goto(f"/dashboard/orgs/{org.id}/projects/{project.id}")
        await page.get_by_label("Name", exact=True).fill("webhooks-only")
        await page.get_by_label("Scoped: only the areas chosen below").check()
        await page.get_by_text("Scopes (used when “Scoped” is chosen)").click()
        await page.get_by_label("Webhooks", exact=True).select_option("read_write")
        await shot(page, "project-key-scoped-form")
        await page.get_by_role("button", name="Create key").click()
        await expect(page.get_by_role("heading", name="Key webhooks-only created")).to_be_visible()
        key = await page.get_by_label("API key").input_value()
        assert (await client.get("/webhook_subscriptions", headers={"x-api-key": key})).status_code == 200
        assert (await client.get("/auth_configs", headers={"x-api-key": key})).status_code == 403
