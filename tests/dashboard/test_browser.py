"""The dashboard in Debian's Chromium, headless: what a member does, checked against the API."""

from __future__ import annotations


import httpx
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.usage import service as usage
from tests.dashboard.conftest import Person, shot, sign_in
from tests.factories import Org, ProjectWithKey, unique_name
from tests.fixtures.server import Server
from tests.tools.helpers import execute


class TestMemberJourney:
    async def test_create_configure_and_rotate_a_project(
        self, page: Page, admin: Person, org: Org, client: httpx.AsyncClient
    ) -> None:
        await sign_in(page, admin)
        await expect(page.get_by_role("heading", name="Projects")).to_be_visible()
        await shot(page, "projects-empty")

        name = unique_name()
        await page.get_by_role("link", name="New project").click()
        await page.get_by_label("Name").fill(name)
        await expect(page.get_by_label("Create an API key")).to_be_checked()
        await shot(page, "project-new")
        await page.get_by_role("button", name="Create project").click()
        await expect(page.get_by_role("heading", name=f"Project {name} created")).to_be_visible()
        key = await page.get_by_label("API key").input_value()
        assert key.startswith("ak_")
        await expect(page.get_by_role("button", name="Copy")).to_be_visible()
        await shot(page, "project-created-key")
        assert (await client.get("/org/project/config", headers={"x-api-key": key})).status_code == 200

        await page.get_by_role("link", name="Go to the project").click()
        await expect(page.get_by_role("heading", name="API keys")).to_be_visible()
        await expect(page.get_by_text(f"ak_**{key[-4:]}")).to_be_visible()
        await shot(page, "project-keys")

        await page.get_by_role("link", name="Settings").click()
        await page.get_by_label("Display name").fill("Acme Staging")
        await page.get_by_label("Tool execution logs").select_option("dont_store_data")
        await page.get_by_label("Require an API key on MCP URLs").check()
        await page.get_by_label("Theme").fill('{"primary": "#112233"}')
        await shot(page, "project-settings")
        await page.get_by_role("button", name="Save settings").click()
        await expect(page.get_by_text("Settings saved.")).to_be_visible()
        config = (await client.get("/org/project/config", headers={"x-api-key": key})).json()
        assert config["display_name"] == "Acme Staging" and config["log_visibility_setting"] == "dont_store_data"
        assert config["require_mcp_api_key"] is True and config["theme"] == {"primary": "#112233"}

        await page.get_by_label("Logo URL").fill("http://insecure.example.com/logo.png")
        await page.get_by_role("button", name="Save settings").click()
        await expect(page.get_by_role("alert")).to_contain_text("logo_url")
        assert (await client.get("/org/project/config", headers={"x-api-key": key})).json()["logo_url"] is None

        await page.get_by_role("link", name="API keys", exact=True).click()
        await page.get_by_label("Old keys keep working for").select_option("0")
        await page.get_by_role("button", name="Regenerate keys").click()
        await expect(page.get_by_role("heading", name="Keys regenerated")).to_be_visible()
        new_key = await page.get_by_label("API key").input_value()
        assert new_key.startswith("ak_") and new_key != key
        assert (await client.get("/org/project/config", headers={"x-api-key": key})).status_code == 401
        assert (await client.get("/org/project/config", headers={"x-api-key": new_key})).status_code == 200

        await page.get_by_role("link", name="Projects").first.click()
        await page.get_by_label("Search by name").fill(name[-8:])
        await page.get_by_role("button", name="Search").click()
        await expect(page.get_by_role("link", name=name)).to_be_visible()
        await page.get_by_label("Search by name").fill("no-such-project-anywhere")
        await page.get_by_role("button", name="Search").click()
        await expect(page.get_by_text("No project’s name contains")).to_be_visible()

    async def test_a_grace_period_keeps_the_old_key_working(
        self, page: Page, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await sign_in(page, admin)
        await page.goto(f"/dashboard/orgs/{org.id}/projects/{project.id}")
        await page.get_by_label("Old keys keep working for").select_option("3600")
        await page.get_by_role("button", name="Regenerate keys").click()
        await expect(page.get_by_text("The replaced keys keep working until")).to_be_visible()
        assert (await client.get("/org/project/config", headers=project.headers)).status_code == 200

    async def test_the_usage_chart_after_some_executions(
        self, page: Page, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        for _ in range(3):
            response = await execute(client, project, "LOCALNOAUTH_GET_ITEM", {"item": "x"})
            assert response.json()["successful"] is True, response.text
        async with unit_of_work(sessionmaker) as session:
            await usage.meter_session(session, project.id, user_id="alice")
        await sign_in(page, admin)
        await page.goto(f"/dashboard/orgs/{org.id}/projects/{project.id}/usage")
        chart = page.get_by_role("img", name="Tool calls and sessions per day, last 30 days (UTC)")
        await expect(chart).to_be_visible()
        assert await page.locator("svg.chart rect.bar-tool-calls").count() == 30
        today = page.locator("svg.chart rect.bar-tool-calls").last
        assert "3 tool calls" in await today.text_content()  # type: ignore[operator]
        assert "1 sessions" in await page.locator("svg.chart rect.bar-sessions").last.text_content()  # type: ignore[operator]
        await expect(page.locator("table.breakdown")).to_contain_text("LOCALNOAUTH_GET_ITEM")
        await shot(page, "project-usage")

    async def test_a_phone_sized_screen(self, browser: Browser, server: Server, admin: Person, org: Org, project: ProjectWithKey) -> None:
        context = await browser.new_context(base_url=server.base_url, viewport={"width": 390, "height": 844}, is_mobile=True)
        try:
            page = await context.new_page()
            await sign_in(page, admin)
            await page.goto(f"/dashboard/orgs/{org.id}/projects/{project.id}")
            await expect(page.get_by_role("heading", name="API keys")).to_be_visible()
            # Nothing but the key table (which scrolls inside its own box) is wider than the screen.
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390
            await shot(page, "project-keys-phone")
        finally:
            await context.close()

    async def test_audit_log_and_members_pages(self, page: Page, admin: Person, org: Org, project: ProjectWithKey) -> None:
        await sign_in(page, admin)
        await page.goto(f"/dashboard/orgs/{org.id}/members")
        await expect(page.get_by_role("row").filter(has_text=admin.email)).to_contain_text("(you)")
        await shot(page, "org-members")
        await page.get_by_role("link", name="Audit log").click()
        await page.get_by_label("Action").fill("project.created")
        await page.get_by_role("button", name="Filter").click()
        await expect(page.locator("table.audit")).to_contain_text(project.id)
        await shot(page, "org-audit-log")
