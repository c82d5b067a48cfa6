"""A project's tool-execution logs in the dashboard, checked against the logs API over real HTTP."""

from __future__ import annotations

import html
import json
import re
import secrets
from datetime import timedelta
from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect

from tenantry.kit.time import utcnow
from tests.dashboard.conftest import Dashboard, Person, shot, sign_in
from tests.factories import Org, ProjectWithKey, create_project
from tests.fixtures.server import Server
from tests.tools.helpers import Account, connect, execute


def logs_path(org: Org, project: ProjectWithKey, tail: str = "") -> str:
    return f"/orgs/{org.id}/projects/{project.id}/logs{tail}"


def log_ids(body: str) -> list[str]:
    """The logs a list page links to, in its order."""
    return re.findall(r'/logs/(log_[^"/?]+)"', body)


def api_json_of(body: str) -> Any:
    found = re.search(r'<pre class="json" id="log-json"><code>(.*?)</code></pre>', body, re.S)
    assert found, "the page shows no API JSON"
    return json.loads(html.unescape(found.group(1)))


async def run(client: httpx.AsyncClient, project: ProjectWithKey, tool: str, arguments: dict[str, Any] | None = None, **body: Any) -> str:
    response = await execute(client, project, tool, arguments, **body)
    assert response.status_code == 200, response.text
    return str(response.json()["log_id"])


async def api_log_ids(client: httpx.AsyncClient, project: ProjectWithKey, **search: Any) -> list[str]:
    response = await client.post("/logs/tool_execution", json={"limit": 100, **search}, headers=project.headers)
    return [log["id"] for log in response.json()["logs"]]


async def some_executions(client: httpx.AsyncClient, project: ProjectWithKey) -> tuple[Account, dict[str, str]]:
    account = await connect(client, project, "localbearer")
    ran = {
        "item": await run(client, project, "LOCALBEARER_GET_ITEM", {"item": "first"}, connected_account_id=account.id),
        "fail": await run(client, project, "LOCALBEARER_FAIL", {"code": 500}, connected_account_id=account.id),
        "noauth": await run(client, project, "LOCALNOAUTH_LIST", user_id="someone-else"),
    }
    return account, ran


class TestList:
    async def test_empty_then_rows_newest_first(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        empty = (await dashboard.http.get(logs_path(org, project))).text
        assert "No tool executions yet" in empty and "/tools/execute/" in empty

        account, ran = await some_executions(client, project)
        body = (await dashboard.http.get(logs_path(org, project))).text
        assert log_ids(body) == [ran["noauth"], ran["fail"], ran["item"]] == await api_log_ids(client, project)
        rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)[1:]
        failed = rows[1]
        assert "LOCALBEARER_FAIL" in failed and "<td>localbearer</td>" in failed and f"<td>{account.user_id}</td>" in failed
        assert 'class="status status-failed">failed<' in failed and re.search(r"<td>\d+ ms</td>", failed)
        assert 'class="status status-success">success<' in rows[0] and "<td>someone-else</td>" in rows[0]
        assert ">Older</a>" not in body

    async def test_filters_are_the_apis_search_filters(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        account, ran = await some_executions(client, project)
        await dashboard.sign_in(admin)

        async def listed(**params: str) -> list[str]:
            response = await dashboard.http.get(logs_path(org, project), params=params)
            assert response.status_code == 200, response.text
            return log_ids(response.text)

        assert await listed(status="failed") == [ran["fail"]]
        assert await listed(status="success") == [ran["noauth"], ran["item"]]
        assert await listed(tool="get_item") == [ran["item"]]
        assert await listed(toolkit="LocalBearer") == [ran["fail"], ran["item"]]
        assert await listed(user_id=account.user_id, status="success") == [ran["item"]]
        assert await listed(account=account.id) == [ran["fail"], ran["item"]]
        today = utcnow().date()
        assert await listed(**{"from": today.isoformat(), "to": today.isoformat()}) == [ran["noauth"], ran["fail"], ran["item"]]
        tomorrow = (today + timedelta(days=1)).isoformat()
        assert await listed(**{"from": tomorrow}) == []
        assert await listed(to=(today - timedelta(days=1)).isoformat()) == []
        nothing = (await dashboard.http.get(logs_path(org, project), params={"status": "failed", "tool": "LIST"})).text
        assert "No log matches these filters." in nothing and 'value="LIST"' in nothing

    async def test_bad_filters_name_the_field(self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey) -> None:
        await dashboard.sign_in(admin)
        for params, named in (
            ({"from": "yesterday"}, "from: must be a date"),
            ({"from": "2026-02-02", "to": "2026-02-01"}, "to: must be the same day as from or later"),
            ({"status": "pending"}, "a status is success or failed"),
        ):
            response = await dashboard.http.get(logs_path(org, project), params=params)
            assert response.status_code == 400 and named in response.text, params
            assert "These filters are not valid." in response.text

    async def test_older_pages_follow_the_cursor(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        for number in range(21):
            await run(client, project, "LOCALNOAUTH_GET_ITEM", {"item": f"n{number}"})
        await run(client, project, "LOCALNOAUTH_LIST")  # filtered out on every page
        expected = await api_log_ids(client, project, filters=[{"field": "tool_slug", "operator": "contains", "value": "GET_ITEM"}])
        assert len(expected) == 21
        await dashboard.sign_in(admin)
        first = (await dashboard.http.get(logs_path(org, project), params={"tool": "GET_ITEM"})).text
        assert log_ids(first) == expected[:20]
        older = re.search(r'<a class="button secondary" href="(\?[^"]+)">Older</a>', first)
        assert older and "tool=GET_ITEM" in older.group(1)
        second = (await dashboard.http.get(logs_path(org, project) + html.unescape(older.group(1)))).text
        assert log_ids(second) == expected[20:]
        assert ">Older</a>" not in second and ">Newest</a>" in second


class TestDetail:
    async def test_the_detail_is_the_apis(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        account = await connect(client, project, "localbearer")
        marker = f"item-{secrets.token_hex(4)}"
        log_id = await run(client, project, "LOCALBEARER_GET_ITEM", {"item": marker}, connected_account_id=account.id)
        api = (await client.get(f"/logs/tool_execution/{log_id}", headers=project.headers)).json()
        await dashboard.sign_in(admin)
        body = (await dashboard.http.get(logs_path(org, project, f"/{log_id}"))).text
        assert api_json_of(body) == api
        assert api["data"]["request"]["arguments"] == {"item": marker}
        data = re.search(r'<pre class="json" id="log-data"><code>(.*?)</code></pre>', body, re.S)
        assert data and json.loads(html.unescape(data.group(1))) == api["data"]
        assert account.id in body and account.user_id in body and "LOCALBEARER_GET_ITEM succeeded" in body
        assert account.secrets[0] not in body

    async def test_dont_store_data_hides_the_data_on_both(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await client.patch("/org/project/config", json={"log_visibility_setting": "dont_store_data"}, headers=project.headers)
        account = await connect(client, project, "localbearer")
        marker = f"private-{secrets.token_hex(6)}"
        log_id = await run(client, project, "LOCALBEARER_GET_ITEM", {"item": marker}, connected_account_id=account.id)
        api = (await client.get(f"/logs/tool_execution/{log_id}", headers=project.headers)).json()
        assert api["data"] == {} and api["metadata"]["data_stored"] is False
        await dashboard.sign_in(admin)
        body = (await dashboard.http.get(logs_path(org, project, f"/{log_id}"))).text
        assert api_json_of(body) == api and marker not in body
        assert 'id="log-data-absent"' in body and "Do not store arguments and responses" in body
        listing = (await dashboard.http.get(logs_path(org, project))).text
        assert "<strong>not stored</strong>" in listing and marker not in listing

        # Switching back stores later executions only; the page says so for the earlier one.
        await client.patch("/org/project/config", json={"log_visibility_setting": "show_all"}, headers=project.headers)
        again = (await dashboard.http.get(logs_path(org, project, f"/{log_id}"))).text
        assert "this one cannot get it back" in again and marker not in again

    async def test_another_projects_log_answers_404(
        self, dashboard: Dashboard, admin: Person, org: Org, other_org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        sibling = await create_project(client, org)
        theirs = await create_project(client, other_org)
        sibling_log = await run(client, sibling, "LOCALNOAUTH_LIST")
        their_log = await run(client, theirs, "LOCALNOAUTH_LIST")
        await dashboard.sign_in(admin)
        for path in (
            logs_path(org, project, f"/{sibling_log}"),
            logs_path(org, project, "/log_000000000000"),
            f"/orgs/{org.id}/projects/{theirs.id}/logs",
            f"/orgs/{org.id}/projects/{theirs.id}/logs/{their_log}",
            f"/orgs/{other_org.id}/projects/{theirs.id}/logs/{their_log}",
        ):
            assert (await dashboard.http.get(path)).status_code == 404, path
        mine = (await dashboard.http.get(logs_path(org, project), params={"account": "", "tool": "LOCALNOAUTH"})).text
        assert sibling_log not in mine and their_log not in mine


class TestInTheBrowser:
    async def test_filter_and_open_a_log(
        self, page: Page, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        account, ran = await some_executions(client, project)
        await sign_in(page, admin)
        await page.goto(f"/dashboard/orgs/{org.id}/projects/{project.id}")
        await page.get_by_role("link", name="Logs").click()
        await expect(page.locator("table.logs tbody tr")).to_have_count(3)
        await shot(page, "project-logs")

        await page.get_by_label("Status").select_option("failed")
        await page.get_by_role("button", name="Filter").click()
        await expect(page.locator("table.logs tbody tr")).to_have_count(1)
        await page.locator("table.logs tbody tr a").click()
        await expect(page.locator(".log-message")).to_have_text("LOCALBEARER_FAIL failed: The API answered HTTP 500: the API failed with 500")
        assert ran["fail"] in page.url
        await expect(page.locator("#log-data")).to_contain_text('"code": 500')
        await page.get_by_text("As the API returns it").click()
        await expect(page.locator("#log-json")).to_be_visible()
        await shot(page, "log-detail")

    async def test_a_phone_sized_screen(
        self, browser: Browser, server: Server, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        _, ran = await some_executions(client, project)
        context = await browser.new_context(base_url=server.base_url, viewport={"width": 390, "height": 844}, is_mobile=True)
        try:
            phone = await context.new_page()
            await sign_in(phone, admin)
            for tail in ("", f"/{ran['item']}"):
                await phone.goto(f"/dashboard/orgs/{org.id}/projects/{project.id}/logs{tail}")
                wide = await phone.evaluate("[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 12)")
                assert await phone.evaluate("document.documentElement.scrollWidth") <= 390, (tail, wide)
        finally:
            await context.close()
