"""A project's auth configs page: list and filters, the config as the API shows it, enable/disable,
delete, the create form and its validation; every change checked through the API."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tenantry.dashboard.pages.params import PAGE_SIZE
from tests.dashboard.conftest import Dashboard, Person, shot, sign_in
from tests.factories import Org, ProjectWithKey, create_api_key_account, create_auth_config, create_project
from tests.fixtures.oauth_provider import CLIENT_ID, CLIENT_SECRET

ROW_LINK = re.compile(r'/auth-configs/(ac_[A-Za-z0-9]+)">')
API_JSON = re.compile(r'<pre class="cred-json" id="api-json">(.*?)</pre>', re.DOTALL)


def configs_url(org: Org, project: ProjectWithKey, tail: str = "") -> str:
    return f"/orgs/{org.id}/projects/{project.id}/auth-configs{tail}"


def shown_json(page: httpx.Response) -> dict[str, Any]:
    found = API_JSON.search(page.text)
    assert found, page.text
    return dict(json.loads(html.unescape(found.group(1))))


async def api_config(client: httpx.AsyncClient, project: ProjectWithKey, auth_config_id: str) -> httpx.Response:
    return await client.get(f"/auth_configs/{auth_config_id}", headers=project.headers)


async def api_ids(client: httpx.AsyncClient, project: ProjectWithKey) -> list[str]:
    listed = (await client.get("/auth_configs", params={"show_disabled": "true", "limit": 200}, headers=project.headers)).json()
    return [item["id"] for item in listed["items"]]


class TestList:
    async def test_columns(self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient) -> None:
        stripe = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY", name="Stripe live")
        managed = await create_auth_config(client, project, "localmanaged", type="use_composio_managed_auth", name="Managed one")
        for user in ("u1", "u2"):
            await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", user_id=user)
        await dashboard.sign_in(admin)
        page = await dashboard.http.get(configs_url(org, project))
        assert page.status_code == 200
        assert ROW_LINK.findall(page.text) == [managed, stripe]  # newest first
        stripe_row = page.text[page.text.index(f"/auth-configs/{stripe}\">"):].split("</tr>")[0]
        assert "Stripe live" in stripe_row and ">stripe<" in stripe_row and ">API_KEY<" in stripe_row
        assert ">custom<" in stripe_row and ">enabled<" in stripe_row
        assert f"connected-accounts?auth_config_id={stripe}" in stripe_row and ">2</a>" in stripe_row
        managed_row = page.text[page.text.index(f"/auth-configs/{managed}\">"):].split("</tr>")[0]
        assert ">managed<" in managed_row and ">OAUTH2<" in managed_row and ">0</a>" in managed_row

    async def test_toolkit_and_other_filters(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        stripe = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY", name="Payments")
        github = await create_auth_config(client, project, "github", type="use_custom_auth", authScheme="BEARER_TOKEN", name="Code")
        managed = await create_auth_config(client, project, "localmanaged")
        await client.patch(f"/auth_configs/{github}/DISABLED", headers=project.headers)
        await dashboard.sign_in(admin)
        for query, expected in (
            ({"toolkit": "stripe"}, [stripe]),
            ({"toolkit": "github"}, [github]),
            ({"toolkit": "slack"}, []),
            ({"kind": "managed"}, [managed]),
            ({"kind": "custom"}, [github, stripe]),
            ({"status": "enabled"}, [managed, stripe]),
            ({"q": "Pay"}, [stripe]),
            ({}, [managed, github, stripe]),
        ):
            page = await dashboard.http.get(configs_url(org, project), params=query)
            assert page.status_code == 200 and ROW_LINK.findall(page.text) == expected, query
        nothing = await dashboard.http.get(configs_url(org, project), params={"toolkit": "slack"})
        assert "No auth config matches these filters." in nothing.text
        assert 'option value="slack" selected' in nothing.text

    async def test_pages(self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient) -> None:
        created = [await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY") for _ in range(PAGE_SIZE + 2)]
        await create_auth_config(client, project, "github", type="use_custom_auth", authScheme="BEARER_TOKEN")
        await dashboard.sign_in(admin)
        first = await dashboard.http.get(configs_url(org, project), params={"toolkit": "stripe"})
        assert len(ROW_LINK.findall(first.text)) == PAGE_SIZE and "page 1 of 2" in first.text
        next_url = re.search(r'href="(\?[^"]+)">Next page', first.text)
        assert next_url and "toolkit=stripe" in next_url.group(1)
        second = await dashboard.http.get(configs_url(org, project) + html.unescape(next_url.group(1)))
        assert len(ROW_LINK.findall(second.text)) == 2 and "Next page" not in second.text and "page 2 of 2" in second.text
        assert sorted(ROW_LINK.findall(first.text) + ROW_LINK.findall(second.text)) == sorted(created)

    async def test_empty_state_says_how_to_make_one(self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey) -> None:
        await dashboard.sign_in(admin)
        page = await dashboard.http.get(configs_url(org, project))
        assert "No auth configs yet." in page.text and "POST /api/v3.1/auth_configs" in page.text
        assert 'aria-current="page">Auth configs<' in page.text


class TestDetail:
    async def test_shows_the_config_as_the_api_does(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        config_id = await create_auth_config(
            client, project, "github", type="use_custom_auth", authScheme="OAUTH2", name="GitHub app",
            credentials={"client_id": "Iv1.clientid42", "client_secret": "supersecretvalue123", "scopes": "repo,user"},
            proxy_config={"proxy_url": "https://proxy.example.com", "proxy_auth_key": "proxy-key-123456"},
        )
        await dashboard.sign_in(admin)
        page = await dashboard.http.get(configs_url(org, project, f"/{config_id}"))
        assert page.status_code == 200
        api = (await api_config(client, project, config_id)).json()
        assert shown_json(page) == api
        assert api["credentials"]["client_secret"] == "supe..." and api["credentials"]["client_id"] == "Iv1.clientid42"
        for secret in ("supersecretvalue123", "proxy-key-123456"):
            assert secret not in page.text
        for shown in ("supe...", "Iv1.clientid42", "repo,user", "prox...", "https://proxy.example.com", "GitHub app"):
            assert shown in page.text

    async def test_another_projects_config_and_another_orgs_project_answer_404(
        self, dashboard: Dashboard, admin: Person, org: Org, other_org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        sibling = await create_project(client, org)
        theirs = await create_auth_config(client, sibling, "stripe", type="use_custom_auth", authScheme="API_KEY")
        foreign = await create_project(client, other_org)
        await dashboard.sign_in(admin)
        for path in (
            configs_url(org, project, f"/{theirs}"),
            configs_url(org, project, f"/{theirs}/delete"),
            configs_url(org, project, "/ac_doesnotexist"),
            f"/orgs/{org.id}/projects/{foreign.id}/auth-configs",
            f"/orgs/{other_org.id}/projects/{foreign.id}/auth-configs",
            f"/orgs/{other_org.id}/projects/{foreign.id}/auth-configs/new",
        ):
            assert (await dashboard.http.get(path)).status_code == 404, path
        form_page = configs_url(org, project)
        for action, data in ((f"/{theirs}/status", {"status": "DISABLED"}), (f"/{theirs}/delete", {})):
            refused = await dashboard.post_form(form_page, configs_url(org, project, action), data)
            assert refused.status_code == 404
        still = (await api_config(client, sibling, theirs)).json()
        assert still["status"] == "ENABLED"
        refused = await dashboard.post_form(
            form_page, f"/orgs/{org.id}/projects/{foreign.id}/auth-configs/new", {"toolkit": "stripe", "scheme": "API_KEY"}
        )
        assert refused.status_code == 404
        assert await api_ids(client, foreign) == []


class TestActions:
    async def test_disable_and_enable(self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient) -> None:
        config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        await dashboard.sign_in(developer)
        detail = configs_url(org, project, f"/{config_id}")
        disabled = await dashboard.post_form(detail, f"{detail}/status", {"status": "DISABLED"})
        assert disabled.status_code == 303 and disabled.headers["location"].endswith(f"{config_id}?notice=auth_config_disabled")
        assert (await api_config(client, project, config_id)).json()["status"] == "DISABLED"
        page = await dashboard.http.get(disabled.headers["location"].removeprefix("/dashboard"))
        assert "The auth config was disabled." in page.text and ">Enable</button>" in page.text
        enabled = await dashboard.post_form(detail, f"{detail}/status", {"status": "ENABLED"})
        assert enabled.status_code == 303
        assert (await api_config(client, project, config_id)).json()["status"] == "ENABLED"
        bad = await dashboard.post_form(detail, f"{detail}/status", {"status": "SOMETIMES"})
        assert bad.status_code == 400 and "status: must be ENABLED or DISABLED" in bad.text

    async def test_delete_after_a_confirmation_naming_it(
        self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY", name="Old Stripe")
        account_id = await create_api_key_account(client, project, config_id, "sk_live_abcdefgh")
        await dashboard.sign_in(developer)
        confirm = await dashboard.http.get(configs_url(org, project, f"/{config_id}/delete"))
        assert confirm.status_code == 200
        assert "Delete auth config Old Stripe?" in confirm.text and "1 connected account" in confirm.text
        assert ">Delete Old Stripe</button>" in confirm.text
        deleted = await dashboard.post_form(configs_url(org, project, f"/{config_id}/delete"), configs_url(org, project, f"/{config_id}/delete"), {})
        assert deleted.status_code == 303 and deleted.headers["location"].endswith("/auth-configs?notice=auth_config_deleted")
        assert (await api_config(client, project, config_id)).status_code == 404
        assert (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).status_code == 404
        listed = await dashboard.http.get(configs_url(org, project), params={"notice": "auth_config_deleted"})
        assert "The auth config was deleted" in listed.text and config_id not in listed.text


class TestCreate:
    async def test_the_form_goes_toolkit_then_scheme_then_fields(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey
    ) -> None:
        await dashboard.sign_in(admin)
        first = await dashboard.http.get(configs_url(org, project, "/new"))
        assert first.status_code == 200 and 'option value="github"' in first.text and "Choose scheme" not in first.text
        second = await dashboard.http.get(configs_url(org, project, "/new"), params={"toolkit": "github"})
        assert 'option value="OAUTH2"' in second.text and 'option value="BEARER_TOKEN"' in second.text
        assert 'option value="API_KEY"' not in second.text and 'option value="MANAGED"' not in second.text
        assert "Create auth config" not in second.text
        managed = await dashboard.http.get(configs_url(org, project, "/new"), params={"toolkit": "localmanaged"})
        assert 'option value="MANAGED"' in managed.text
        third = await dashboard.http.get(configs_url(org, project, "/new"), params={"toolkit": "github", "scheme": "OAUTH2"})
        for label in ('for="cred_client_id"', 'for="cred_client_secret"', 'for="cred_scopes"', 'for="cred_oauth_redirect_uri"'):
            assert label in third.text
        assert 'id="cred_client_secret" name="cred_client_secret" type="password"' in third.text
        bearer = await dashboard.http.get(configs_url(org, project, "/new"), params={"toolkit": "github", "scheme": "BEARER_TOKEN"})
        assert "needs no app credentials here" in bearer.text and "cred_" not in bearer.text
        # A scheme the toolkit does not offer is not a step reached.
        wrong = await dashboard.http.get(configs_url(org, project, "/new"), params={"toolkit": "stripe", "scheme": "OAUTH2"})
        assert "Create auth config" not in wrong.text

    async def test_custom_oauth2(self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient) -> None:
        await dashboard.sign_in(developer)
        form = configs_url(org, project, "/new?toolkit=github&scheme=OAUTH2")
        created = await dashboard.post_form(form, configs_url(org, project, "/new"), {
            "toolkit": "github", "scheme": "OAUTH2", "name": "Our GitHub", "cred_client_id": "Iv1.abc123",
            "cred_client_secret": "the-client-secret", "cred_scopes": "repo, read:user", "cred_oauth_redirect_uri": "",
            "restrict_to_following_tools": "GITHUB_GET_A_REPOSITORY", "proxy_url": "", "proxy_auth_key": "",
        })
        assert created.status_code == 303, created.text
        config_id = re.search(r"/auth-configs/(ac_[A-Za-z0-9]+)\?notice=auth_config_created$", created.headers["location"])
        assert config_id
        api = (await api_config(client, project, config_id.group(1))).json()
        assert (api["name"], api["auth_scheme"], api["type"], api["toolkit"]["slug"]) == ("Our GitHub", "OAUTH2", "custom", "github")
        assert api["credentials"] == {"client_id": "Iv1.abc123", "client_secret": "the-...", "scopes": "repo, read:user"}
        assert api["restrict_to_following_tools"] == ["GITHUB_GET_A_REPOSITORY"] and api["proxy_config"] is None
        page = await dashboard.http.get(created.headers["location"].removeprefix("/dashboard"))
        assert "The auth config was created." in page.text and "the-client-secret" not in page.text

    async def test_api_key_scheme_and_a_proxy(self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient) -> None:
        await dashboard.sign_in(admin)
        created = await dashboard.post_form(configs_url(org, project, "/new"), configs_url(org, project, "/new"), {
            "toolkit": "stripe", "scheme": "API_KEY", "name": "", "proxy_url": "https://proxy.example.com", "proxy_auth_key": "proxy-secret-9",
            "is_enabled_for_tool_router": "on",
        })
        assert created.status_code == 303, created.text
        [config_id] = await api_ids(client, project)
        api = (await api_config(client, project, config_id)).json()
        assert (api["name"], api["auth_scheme"], api["is_enabled_for_tool_router"]) == ("Stripe Auth", "API_KEY", True)
        assert api["proxy_config"] == {"proxy_url": "https://proxy.example.com", "proxy_auth_key": "prox..."}

    async def test_managed(self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient) -> None:
        await dashboard.sign_in(admin)
        created = await dashboard.post_form(configs_url(org, project, "/new"), configs_url(org, project, "/new"), {
            "toolkit": "localmanaged", "scheme": "MANAGED", "name": "Via the operator", "cred_scopes": "read",
        })
        assert created.status_code == 303, created.text
        [config_id] = await api_ids(client, project)
        api = (await api_config(client, project, config_id)).json()
        assert (api["type"], api["is_composio_managed"], api["credentials"]) == ("default", True, {"scopes": "read"})

    async def test_problems_name_the_field_and_nothing_is_saved(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        new = configs_url(org, project, "/new")
        missing = await dashboard.post_form(new, new, {"toolkit": "github", "scheme": "OAUTH2", "name": "Half done", "cred_client_id": "Iv1.kept"})
        assert missing.status_code == 400
        assert "The auth config was not created." in missing.text and "<li>Client secret: required</li>" in missing.text
        # The form comes back filled in, the field at fault marked.
        assert 'value="Half done"' in missing.text and 'value="Iv1.kept"' in missing.text
        assert re.search(r'id="cred_client_secret"[^>]*aria-invalid="true"', missing.text)

        secret_kept_out = await dashboard.post_form(new, new, {
            "toolkit": "github", "scheme": "OAUTH2", "cred_client_id": "Iv1.kept", "cred_client_secret": "never-echo-this",
            "proxy_url": "http://insecure.example.com",
        })
        assert secret_kept_out.status_code == 400 and "Proxy URL:" in secret_kept_out.text and "https URL" in secret_kept_out.text
        assert "never-echo-this" not in secret_kept_out.text and "<details class=\"scopes\" open>" in secret_kept_out.text

        too_long = await dashboard.post_form(new, new, {"toolkit": "stripe", "scheme": "API_KEY", "name": "x" * 300})
        assert too_long.status_code == 400 and "<li>Name: String should have at most 255 characters</li>" in too_long.text

        no_scheme = await dashboard.post_form(new, new, {"toolkit": "stripe", "scheme": "BASIC"})
        assert no_scheme.status_code == 400 and "Auth scheme: choose one of the schemes this toolkit offers" in no_scheme.text
        no_toolkit = await dashboard.post_form(new, new, {"toolkit": "nope", "scheme": "API_KEY"})
        assert no_toolkit.status_code == 400 and "Toolkit: choose a toolkit" in no_toolkit.text
        assert await api_ids(client, project) == []


def password_input(page: httpx.Response, input_id: str) -> str:
    found = re.search(rf'<input id="{input_id}" name="[a-z_]+" type="password"[^>]*>', page.text)
    assert found, page.text
    return found.group(0)


async def finish_oauth(client: httpx.AsyncClient, project: ProjectWithKey, auth_config_id: str) -> str:
    """Connects an end user through the loopback provider; its token endpoint checks the client secret."""
    body = {"auth_config": {"id": auth_config_id}, "connection": {"user_id": "enduser"}}
    created = (await client.post("/connected_accounts", json=body, headers=project.headers)).json()
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(created["redirect_url"])
        assert at_provider.status_code in (302, 307), at_provider.text
        await browser.get(at_provider.headers["location"])
    return str((await client.get(f"/connected_accounts/{created['id']}", headers=project.headers)).json()["status"])


class TestEdit:
    async def test_name_and_secret_and_an_empty_secret_keeps_it(
        self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        config_id = await create_auth_config(
            client, project, "github", type="use_custom_auth", authScheme="OAUTH2", name="GitHub app",
            credentials={"client_id": "Iv1.clientid42", "client_secret": "supersecretvalue123", "scopes": "repo",
                         "oauth_redirect_uri": "https://app.example.com/cb"},
        )
        await dashboard.sign_in(developer)
        detail = configs_url(org, project, f"/{config_id}")
        assert f'href="/dashboard{detail}/edit">Edit</a>' in (await dashboard.http.get(detail)).text
        form = await dashboard.http.get(f"{detail}/edit")
        assert form.status_code == 200
        assert 'value="GitHub app"' in form.text and 'value="Iv1.clientid42"' in form.text and 'value="repo"' in form.text
        # Neither the secret nor its obfuscated form is ever an input's value; an obfuscated non-secret neither.
        assert "supersecretvalue123" not in form.text and "value=\"supe" not in form.text and "value=\"http" not in form.text
        assert "value=" not in password_input(form, "cred_client_secret")
        assert re.search(r'<input id="cred_oauth_redirect_uri" name="cred_oauth_redirect_uri" autocomplete="off"', form.text)
        saved = await dashboard.post_form(f"{detail}/edit", f"{detail}/edit", {
            "name": "Renamed app", "cred_client_id": "Iv1.clientid42", "cred_client_secret": "newsecretvalue456", "cred_scopes": "repo, user",
            "cred_oauth_redirect_uri": "", "restrict_to_following_tools": "GITHUB_GET_A_REPOSITORY GITHUB_STAR",
            "is_enabled_for_tool_router": "on",
        })
        assert saved.status_code == 303 and saved.headers["location"].endswith(f"/auth-configs/{config_id}?notice=auth_config_saved")
        api = (await api_config(client, project, config_id)).json()
        assert (api["name"], api["is_enabled_for_tool_router"]) == ("Renamed app", True)
        # An empty input for a value the API obfuscates keeps it.
        assert api["credentials"] == {"client_id": "Iv1.clientid42", "client_secret": "news...", "scopes": "repo, user", "oauth_redirect_uri": "http..."}
        assert api["restrict_to_following_tools"] == ["GITHUB_GET_A_REPOSITORY", "GITHUB_STAR"]
        page = await dashboard.http.get(saved.headers["location"].removeprefix("/dashboard"))
        assert "The auth config was saved." in page.text and "Renamed app" in page.text

        again = await dashboard.post_form(f"{detail}/edit", f"{detail}/edit", {
            "name": "Renamed app", "cred_client_id": "Iv1.other", "cred_client_secret": "", "cred_scopes": "",
            "clear_oauth_redirect_uri": "on", "restrict_to_following_tools": "",
        })
        assert again.status_code == 303
        api = (await api_config(client, project, config_id)).json()
        assert api["credentials"] == {"client_id": "Iv1.other", "client_secret": "news..."}
        assert (api["restrict_to_following_tools"], api["is_enabled_for_tool_router"]) == ([], False)

    async def test_the_kept_secret_still_works_whole(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        config_id = await create_auth_config(
            client, project, "localoauth", type="use_custom_auth", authScheme="OAUTH2", name="Local app",
            credentials={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        )
        await dashboard.sign_in(admin)
        edit = configs_url(org, project, f"/{config_id}/edit")
        saved = await dashboard.post_form(edit, edit, {"name": "Local app, renamed", "cred_client_id": CLIENT_ID, "cred_client_secret": ""})
        assert saved.status_code == 303
        assert (await api_config(client, project, config_id)).json()["name"] == "Local app, renamed"
        # The loopback provider refuses any other client secret: the whole secret was kept.
        assert await finish_oauth(client, project, config_id) == "ACTIVE"

    async def test_proxy_url_and_key(self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient) -> None:
        config_id = await create_auth_config(
            client, project, "stripe", type="use_custom_auth", authScheme="API_KEY",
            proxy_config={"proxy_url": "https://proxy.example.com", "proxy_auth_key": "proxy-key-123456"},
        )
        await dashboard.sign_in(admin)
        edit = configs_url(org, project, f"/{config_id}/edit")
        form = await dashboard.http.get(edit)
        assert 'value="https://proxy.example.com"' in form.text and "value=" not in password_input(form, "edit-proxy-key")
        assert "proxy-key-123456" not in form.text
        name = (await api_config(client, project, config_id)).json()["name"]

        async def proxy_after(data: dict[str, str]) -> Any:
            response = await dashboard.post_form(edit, edit, {"name": name, **data})
            assert response.status_code == 303, response.text
            return (await api_config(client, project, config_id)).json()["proxy_config"]

        # A new URL with an empty key input keeps the key.
        assert await proxy_after({"proxy_url": "https://proxy2.example.com"}) == {"proxy_url": "https://proxy2.example.com", "proxy_auth_key": "prox..."}
        assert await proxy_after({"proxy_url": "https://proxy2.example.com", "proxy_auth_key": "zzzz-new-key"}) == {
            "proxy_url": "https://proxy2.example.com", "proxy_auth_key": "zzzz..."}
        assert await proxy_after({"proxy_url": "https://proxy2.example.com", "clear_proxy_auth_key": "on"}) == {
            "proxy_url": "https://proxy2.example.com", "proxy_auth_key": None}
        assert await proxy_after({"proxy_url": ""}) is None

    async def test_problems_name_the_field_and_nothing_changes(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        config_id = await create_auth_config(
            client, project, "github", type="use_custom_auth", authScheme="OAUTH2", name="GitHub app",
            credentials={"client_id": "Iv1.clientid42", "client_secret": "supersecretvalue123"},
        )
        before = (await api_config(client, project, config_id)).json()
        await dashboard.sign_in(admin)
        edit = configs_url(org, project, f"/{config_id}/edit")
        valid = {"name": "GitHub app", "cred_client_id": "Iv1.clientid42", "restrict_to_following_tools": "GITHUB_STAR"}
        for changed, line, input_id in (
            ({"name": "x" * 300}, "<li>Name: String should have at most 255 characters</li>", "edit-name"),
            ({"name": ""}, "<li>Name: String should have at least 1 character</li>", "edit-name"),
            ({"cred_client_id": ""}, "<li>Client ID: required</li>", "cred_client_id"),
            ({"proxy_url": "http://insecure.example.com"}, "<li>Proxy URL:", "edit-proxy-url"),
            ({"proxy_auth_key": "orphan-key-1"}, "<li>Proxy URL: give the proxy&#39;s URL with its auth key</li>", "edit-proxy-url"),
        ):
            refused = await dashboard.post_form(edit, edit, {**valid, "cred_client_secret": "typed-secret-99", **changed})
            assert refused.status_code == 400, changed
            assert "The auth config was not saved." in refused.text and line in refused.text, refused.text
            assert re.search(rf'id="{input_id}"[^>]*aria-invalid="true"', refused.text), input_id
            # The typed secret is not sent back; the other inputs come back as typed.
            assert "typed-secret-99" not in refused.text and "GITHUB_STAR</textarea>" in refused.text
            after = (await api_config(client, project, config_id)).json()
            assert after == before, changed

    async def test_managed_changes_only_what_the_api_allows(
        self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        config_id = await create_auth_config(client, project, "localmanaged", type="use_composio_managed_auth", name="Managed", credentials={"scopes": "read"})
        await dashboard.sign_in(developer)
        edit = configs_url(org, project, f"/{config_id}/edit")
        form = await dashboard.http.get(edit)
        assert 'id="cred_scopes"' in form.text and 'value="read"' in form.text
        assert "cred_client_secret" not in form.text and "proxy_url" not in form.text
        saved = await dashboard.post_form(edit, edit, {"name": "Managed, renamed", "cred_scopes": "read write"})
        assert saved.status_code == 303
        api = (await api_config(client, project, config_id)).json()
        assert (api["name"], api["type"], api["credentials"]) == ("Managed, renamed", "default", {"scopes": "read write"})
        cleared = await dashboard.post_form(edit, edit, {"name": "Managed, renamed", "cred_scopes": ""})
        assert cleared.status_code == 303
        assert (await api_config(client, project, config_id)).json()["credentials"] == {}
        # A proxy is not something a managed config has: the input is ignored, as the form has none.
        ignored = await dashboard.post_form(edit, edit, {"name": "Managed, renamed", "proxy_url": "https://proxy.example.com"})
        assert ignored.status_code == 303 and ignored.headers["location"].endswith("?notice=auth_config_unchanged")
        assert (await api_config(client, project, config_id)).json()["proxy_config"] is None

    async def test_another_projects_config_answers_404(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        sibling = await create_project(client, org)
        theirs = await create_auth_config(client, sibling, "stripe", type="use_custom_auth", authScheme="API_KEY", name="Theirs")
        await dashboard.sign_in(admin)
        assert (await dashboard.http.get(configs_url(org, project, f"/{theirs}/edit"))).status_code == 404
        refused = await dashboard.post_form(configs_url(org, project), configs_url(org, project, f"/{theirs}/edit"), {"name": "Mine now"})
        assert refused.status_code == 404
        assert (await api_config(client, sibling, theirs)).json()["name"] == "Theirs"


class TestInTheBrowser:
    async def test_create_look_disable(self, page: Page, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient) -> None:
        stripe = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY", name="Stripe live")
        await create_api_key_account(client, project, stripe, "sk_live_abcdefgh")
        await sign_in(page, admin)
        await page.goto(f"/dashboard/orgs/{org.id}/projects/{project.id}")
        await page.get_by_role("link", name="Auth configs").click()
        await expect(page.get_by_role("heading", name="Auth configs")).to_be_visible()
        await page.get_by_role("link", name="New auth config").click()
        await page.get_by_label("Toolkit").select_option("localoauth")
        await page.get_by_role("button", name="Choose toolkit").click()
        await page.get_by_label("How end users of Local OAuth connect").select_option("OAUTH2")
        await page.get_by_role("button", name="Choose scheme").click()
        await page.get_by_label("Name").fill("Local app")
        await page.get_by_label("Client ID").fill(CLIENT_ID)
        await page.get_by_label("Client secret").fill(CLIENT_SECRET)
        await shot(page, "auth-config-new")
        await page.get_by_role("button", name="Create auth config").click()
        await expect(page.get_by_text("The auth config was created.")).to_be_visible()
        await expect(page.get_by_role("heading", name="Local app")).to_be_visible()
        await expect(page.get_by_role("cell", name=CLIENT_SECRET[:4] + "...")).to_be_visible()
        assert CLIENT_SECRET not in await page.content()
        await shot(page, "auth-config-detail")

        await page.get_by_role("button", name="Disable").click()
        await expect(page.get_by_text("The auth config was disabled.")).to_be_visible()
        [created] = [item for item in (await client.get("/auth_configs", params={"show_disabled": "true"}, headers=project.headers)).json()["items"] if item["name"] == "Local app"]
        assert created["status"] == "DISABLED"

        await page.get_by_role("link", name="Auth configs", exact=True).first.click()
        await expect(page.get_by_role("link", name="Local app", exact=True)).to_be_visible()
        await expect(page.get_by_role("link", name="Stripe live", exact=True)).to_be_visible()
        await shot(page, "project-auth-configs")
        await page.set_viewport_size({"width": 390, "height": 844})
        await shot(page, "project-auth-configs-phone")
        page_width = await page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= 390

        await page.get_by_label("Toolkit").select_option("stripe")
        await page.get_by_role("button", name="Filter").click()
        await expect(page.get_by_role("link", name="Local app", exact=True)).to_have_count(0)
        await page.get_by_role("link", name="Stripe live", exact=True).click()
        await page.get_by_role("link", name="Delete…").click()
        await page.get_by_role("button", name="Delete Stripe live").click()
        await expect(page.get_by_text("The auth config was deleted")).to_be_visible()
        assert (await api_config(client, project, stripe)).status_code == 404

    async def test_edit(self, page: Page, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient) -> None:
        config_id = await create_auth_config(
            client, project, "github", type="use_custom_auth", authScheme="OAUTH2", name="GitHub app",
            credentials={"client_id": "Iv1.clientid42", "client_secret": "supersecretvalue123"},
        )
        await sign_in(page, developer)
        await page.goto(f"/dashboard{configs_url(org, project, f'/{config_id}')}")
        await page.get_by_role("link", name="Edit", exact=True).click()
        await expect(page.get_by_role("heading", name="Edit GitHub app")).to_be_visible()
        await expect(page.get_by_label("Client secret")).to_have_value("")
        await page.get_by_label("Name").fill("GitHub, rotated")
        await page.get_by_label("Client secret").fill("rotatedsecret789")
        await page.get_by_label("Restrict to tools").fill("GITHUB_STAR")
        await shot(page, "auth-config-edit")
        await page.get_by_role("button", name="Save changes").click()
        await expect(page.get_by_text("The auth config was saved.")).to_be_visible()
        await expect(page.get_by_role("heading", name="GitHub, rotated")).to_be_visible()
        await expect(page.get_by_role("cell", name="rota...")).to_be_visible()
        api = (await api_config(client, project, config_id)).json()
        assert (api["name"], api["credentials"]["client_secret"], api["restrict_to_following_tools"]) == ("GitHub, rotated", "rota...", ["GITHUB_STAR"])
        assert "rotatedsecret789" not in await page.content()
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.get_by_role("link", name="Edit", exact=True).click()
        await expect(page.get_by_label("Name")).to_have_value("GitHub, rotated")
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        await shot(page, "auth-config-edit-phone")
