"""A project's MCP servers in the dashboard, checked against the API over real HTTP."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.dashboard.conftest import Dashboard, Person, shot, sign_in
from tests.factories import Org, ProjectWithKey, create_auth_config, create_project
from tests.fixtures.server import Server


def mcp_path(org: Org, project: ProjectWithKey, tail: str = "") -> str:
    return f"/orgs/{org.id}/projects/{project.id}/mcp{tail}"


@pytest.fixture
async def bearer(client: httpx.AsyncClient, project: ProjectWithKey) -> str:
    return await create_auth_config(client, project, "localbearer", type="use_custom_auth", authScheme="BEARER_TOKEN")


async def api_server(client: httpx.AsyncClient, project: ProjectWithKey, **body: object) -> dict[str, object]:
    response = await client.post("/mcp/servers/custom", json=body, headers=project.headers)
    assert response.status_code == 201, response.text
    detail = await client.get(f"/mcp/{response.json()['id']}", headers=project.headers)
    return dict(detail.json())


async def api_servers(client: httpx.AsyncClient, project: ProjectWithKey) -> list[dict[str, object]]:
    return list((await client.get("/mcp/servers", params={"limit": 100}, headers=project.headers)).json()["items"])


def created_id(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    found = re.search(r"/mcp/([0-9a-f-]{36})\?notice=mcp_created$", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


class TestList:
    async def test_servers_with_their_urls_to_copy(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, bearer: str
    ) -> None:
        first = await api_server(client, project, name="Bearer tools", auth_config_ids=[bearer], allowed_tools=["LOCALBEARER_GET_ITEM"])
        second = await api_server(client, project, name="No auth tools", toolkits=["localnoauth"])
        await dashboard.sign_in(admin)
        body = (await dashboard.http.get(mcp_path(org, project))).text
        for server in (first, second):
            assert server["name"] in body
            assert f'value="{server["mcp_url"]}"' in body and f'data-copy="url-{server["id"]}"' in body
            assert f"{server['mcp_url']}?user_id=USER_ID" in body
        # Newest first, the auth config by its name, the allowed tools counted.
        assert body.index("No auth tools") < body.index("Bearer tools")
        config_name = (await client.get(f"/auth_configs/{bearer}", headers=project.headers)).json()["name"]
        assert f"<td>{html.escape(config_name)}</td>" in body
        assert "1 tool" in body and ">all<" in body
        # Organizations created now require a key on MCP URLs by default.
        assert "<strong>requires an API key</strong>" in body

    async def test_a_url_without_a_key_is_said_so(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await client.patch("/org/project/config", json={"require_mcp_api_key": False}, headers=project.headers)
        server = await api_server(client, project, name="Open server", toolkits=["localnoauth"])
        await dashboard.sign_in(admin)
        for path in (mcp_path(org, project), mcp_path(org, project, f"/{server['id']}")):
            body = (await dashboard.http.get(path)).text
            assert "<strong>without an API key</strong>" in body and "requires an API key" not in body
            assert f"/projects/{project.id}/settings" in body

    async def test_empty_and_paged(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        assert "This project has no MCP server yet" in (await dashboard.http.get(mcp_path(org, project))).text
        names = [f"Server {number:02d}" for number in range(21)]
        for name in names:
            await api_server(client, project, name=name, toolkits=["localnoauth"])
        first = (await dashboard.http.get(mcp_path(org, project))).text
        assert "Page 1 of 2" in first and "Server 20" in first and "Server 00" not in first and "?page=2" in first
        second = (await dashboard.http.get(mcp_path(org, project, "?page=2"))).text
        assert "Server 00" in second and "Server 01" not in second
        searched = (await dashboard.http.get(mcp_path(org, project, "?name=er 07"))).text
        assert "Server 07" in searched and "Server 08" not in searched


class TestChanges:
    async def test_create_edit_and_delete_as_the_api_sees_them(
        self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, bearer: str
    ) -> None:
        # A developer manages MCP servers as an admin does.
        await dashboard.sign_in(developer)
        form = await dashboard.http.get(mcp_path(org, project))
        assert f'value="{bearer}"' in form.text
        created = await dashboard.post_form(mcp_path(org, project), mcp_path(org, project), {
            "name": "Dash server", "auth_config_ids": [bearer], "toolkits": "", "allowed_tools": "LOCALBEARER_GET_ITEM\nLOCALBEARER_FAIL",
        })  # type: ignore[dict-item]
        server_id = created_id(created)
        api = (await client.get(f"/mcp/{server_id}", headers=project.headers)).json()
        assert (api["name"], api["auth_config_ids"], api["toolkits"]) == ("Dash server", [bearer], ["localbearer"])
        assert api["allowed_tools"] == ["LOCALBEARER_GET_ITEM", "LOCALBEARER_FAIL"]
        detail = (await dashboard.http.get(created.headers["location"].removeprefix("/dashboard"))).text
        assert "The MCP server was created." in detail and f'value="{api["mcp_url"]}"' in detail

        edited = await dashboard.post_form(mcp_path(org, project, f"/{server_id}"), mcp_path(org, project, f"/{server_id}"), {
            "name": "Renamed server", "auth_config_ids": [bearer], "toolkits": "localnoauth", "allowed_tools": "",
        })  # type: ignore[dict-item]
        assert edited.status_code == 303 and edited.headers["location"].endswith(f"/mcp/{server_id}?notice=mcp_saved")
        api = (await client.get(f"/mcp/{server_id}", headers=project.headers)).json()
        assert (api["name"], api["toolkits"], api["allowed_tools"]) == ("Renamed server", ["localbearer", "localnoauth"], [])
        # The edit form shows the toolkit named on its own, apart from the auth config's.
        again = (await dashboard.http.get(mcp_path(org, project, f"/{server_id}"))).text
        assert 'name="toolkits" maxlength="2000" value="localnoauth"' in again

        confirm = await dashboard.http.get(mcp_path(org, project, f"/{server_id}/delete"))
        assert confirm.status_code == 200 and "Delete MCP server Renamed server?" in confirm.text
        deleted = await dashboard.post_form(mcp_path(org, project, f"/{server_id}/delete"), mcp_path(org, project, f"/{server_id}/delete"), {})
        assert deleted.status_code == 303 and deleted.headers["location"].endswith("/mcp?notice=mcp_deleted")
        assert (await client.get(f"/mcp/{server_id}", headers=project.headers)).status_code == 404
        assert "This project has no MCP server yet" in (await dashboard.http.get(mcp_path(org, project))).text

    async def test_a_url_for_one_user_is_the_apis(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        server = await api_server(client, project, name="Per user", toolkits=["localnoauth"])
        generated = (await client.post(
            "/mcp/servers/generate", json={"mcp_server_id": server["id"], "user_ids": ["alice smith"]}, headers=project.headers
        )).json()
        await dashboard.sign_in(admin)
        body = (await dashboard.http.get(mcp_path(org, project, f"/{server['id']}"), params={"user_id": "alice smith"})).text
        assert f'id="user-url" class="mono" readonly value="{html.escape(generated["user_ids_url"][0])}"' in body


class TestValidation:
    @pytest.mark.parametrize(
        ("fields", "named"),
        [
            ({"name": "abc"}, "name:"),
            ({"name": "bad_name!"}, "name:"),
            ({"name": "Nothing inside", "auth_config_ids": []}, "auth_config_ids:"),
            ({"name": "Unknown tool", "allowed_tools": "GITHUB_NOT_HERE"}, "allowed_tools[0]:"),
            ({"name": "Unknown kit", "toolkits": "nosuchtoolkit"}, "toolkits[0]:"),
        ],
    )
    async def test_a_problem_names_the_field_and_nothing_is_saved(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, bearer: str,
        fields: dict[str, object], named: str,
    ) -> None:
        await dashboard.sign_in(admin)
        data = {"auth_config_ids": [bearer], "toolkits": "", "allowed_tools": "", **fields}
        refused = await dashboard.post_form(mcp_path(org, project), mcp_path(org, project), data)  # type: ignore[arg-type]
        assert refused.status_code == 400
        assert "The MCP server was not created; nothing was saved." in refused.text and named in html.unescape(refused.text)
        # The form comes back filled in.
        assert f'value="{html.escape(str(fields["name"]))}"' in refused.text
        assert await api_servers(client, project) == []

    async def test_a_taken_name_on_create_and_on_edit(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, bearer: str
    ) -> None:
        await api_server(client, project, name="Taken name", toolkits=["localnoauth"])
        other = await api_server(client, project, name="Other name", toolkits=["localnoauth"])
        await dashboard.sign_in(admin)
        data = {"name": "Taken name", "auth_config_ids": [bearer], "toolkits": "", "allowed_tools": ""}
        refused = await dashboard.post_form(mcp_path(org, project), mcp_path(org, project), data)  # type: ignore[arg-type]
        assert refused.status_code == 409 and "name: already used" in refused.text
        assert len(await api_servers(client, project)) == 2
        path = mcp_path(org, project, f"/{other['id']}")
        renamed = await dashboard.post_form(path, path, {**data, "allowed_tools": "LOCALBEARER_GET_ITEM"})  # type: ignore[arg-type]
        assert renamed.status_code == 409 and "The MCP server was not changed; nothing was saved." in renamed.text
        unchanged = (await client.get(f"/mcp/{other['id']}", headers=project.headers)).json()
        assert (unchanged["name"], unchanged["allowed_tools"], unchanged["auth_config_ids"]) == ("Other name", [], [])
        bad_tool = await dashboard.post_form(path, path, {"name": "Other name", "toolkits": "localnoauth", "allowed_tools": "NOPE_TOOL"})
        assert bad_tool.status_code == 400 and "allowed_tools[0]:" in html.unescape(bad_tool.text)


class TestTenancy:
    async def test_another_organizations_project_answers_404(
        self, dashboard: Dashboard, admin: Person, org: Org, other_org: Org, client: httpx.AsyncClient
    ) -> None:
        theirs = await create_project(client, other_org)
        server = await api_server(client, theirs, name="Their server", toolkits=["localnoauth"])
        await dashboard.sign_in(admin)
        for path in (
            f"/orgs/{org.id}/projects/{theirs.id}/mcp",
            f"/orgs/{other_org.id}/projects/{theirs.id}/mcp",
            f"/orgs/{other_org.id}/projects/{theirs.id}/mcp/{server['id']}",
        ):
            assert (await dashboard.http.get(path)).status_code == 404, path

    async def test_another_projects_server_answers_404_and_is_untouched(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        sibling = await create_project(client, org)
        server = await api_server(client, sibling, name="Sibling server", toolkits=["localnoauth"])
        await dashboard.sign_in(admin)
        path = mcp_path(org, project, f"/{server['id']}")
        for tail in ("", "/delete"):
            assert (await dashboard.http.get(path + tail)).status_code == 404
        listing = mcp_path(org, project)
        edited = await dashboard.post_form(listing, path, {"name": "Stolen server", "toolkits": "localnoauth", "allowed_tools": ""})
        deleted = await dashboard.post_form(listing, path + "/delete", {})
        assert edited.status_code == deleted.status_code == 404
        assert "Sibling server" not in (await dashboard.http.get(listing)).text
        still = (await client.get(f"/mcp/{server['id']}", headers=sibling.headers)).json()
        assert still["name"] == "Sibling server" and still["deleted"] is False


class TestInTheBrowser:
    async def test_create_a_server_and_copy_its_url(
        self, page: Page, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, bearer: str
    ) -> None:
        await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        await sign_in(page, admin)
        await page.goto(f"/dashboard/orgs/{org.id}/projects/{project.id}")
        await page.get_by_role("link", name="MCP servers").click()
        await expect(page.get_by_text("This project has no MCP server yet")).to_be_visible()
        await page.get_by_role("textbox", name="Name").fill("Support agent")
        await page.get_by_role("checkbox", name=re.compile("localbearer")).check()
        await page.get_by_label("Allowed tools").fill("LOCALBEARER_GET_ITEM")
        await page.get_by_role("button", name="Create server").click()
        await expect(page.get_by_text("The MCP server was created.")).to_be_visible()
        url = await page.get_by_label("MCP URL", exact=True).input_value()
        [listed] = await api_servers(client, project)
        assert url == listed["mcp_url"] and listed["allowed_tools"] == ["LOCALBEARER_GET_ITEM"]

        await page.get_by_label("URL for one user").fill("alice")
        await page.get_by_role("button", name="Show URL").click()
        await expect(page.get_by_label("MCP URL for user alice")).to_have_value(f"{url}?user_id=alice")
        await shot(page, "mcp-server-detail")

        await page.get_by_role("link", name="← All MCP servers").click()
        await page.get_by_role("button", name="Copy the MCP URL of Support agent").click()
        await expect(page.locator(".copied").first).to_have_text("Copied")
        assert await page.evaluate("navigator.clipboard.readText()") == url
        await shot(page, "project-mcp-servers")

    async def test_a_phone_sized_screen(
        self, browser: Browser, server: Server, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, bearer: str
    ) -> None:
        created = await api_server(client, project, name="Phone server", auth_config_ids=[bearer])
        context = await browser.new_context(base_url=server.base_url, viewport={"width": 390, "height": 844}, is_mobile=True)
        try:
            phone = await context.new_page()
            await sign_in(phone, admin)
            for tail in ("", f"/{created['id']}?user_id=alice", f"/{created['id']}/delete"):
                await phone.goto(f"/dashboard{mcp_path(org, project, tail)}")
                # Only the server table is wider than the screen, and it scrolls inside its own box.
                assert await phone.evaluate("document.documentElement.scrollWidth") <= 390, tail
        finally:
            await context.close()
