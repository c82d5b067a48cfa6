"""A project's connected accounts page: list and filters, the account masked exactly as the API
masks it for the project, enable/disable, restarting OAuth, delete; every change checked through the API."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tenantry.dashboard.pages.params import PAGE_SIZE
from tests.dashboard.conftest import Dashboard, Person, shot, sign_in
from tests.factories import Org, ProjectWithKey, create_api_key_account, create_auth_config, create_project
from tests.fixtures.oauth_provider import CLIENT_ID, CLIENT_SECRET

ROW_LINK = re.compile(r'/connected-accounts/(ca_[A-Za-z0-9]+)"')
API_JSON = re.compile(r'<pre class="cred-json" id="api-json">(.*?)</pre>', re.DOTALL)
STATE_TABLE = re.compile(r'<table class="cred-kv" id="state">(.*?)</table>', re.DOTALL)


def accounts_url(org: Org, project: ProjectWithKey, tail: str = "") -> str:
    return f"/orgs/{org.id}/projects/{project.id}/connected-accounts{tail}"


def shown_json(page: httpx.Response) -> dict[str, Any]:
    found = API_JSON.search(page.text)
    assert found, page.text
    return dict(json.loads(html.unescape(found.group(1))))


def state_rows(page: httpx.Response) -> dict[str, str]:
    found = STATE_TABLE.search(page.text)
    assert found, page.text
    cells = re.findall(r"<tr><th scope=\"row\"><code>(.*?)</code></th><td><code>(.*?)</code></td></tr>", found.group(1))
    return {html.unescape(key): html.unescape(value) for key, value in cells}


async def api_account(client: httpx.AsyncClient, project: ProjectWithKey, account_id: str) -> httpx.Response:
    return await client.get(f"/connected_accounts/{account_id}", headers=project.headers)


async def set_masking(client: httpx.AsyncClient, project: ProjectWithKey, on: bool) -> None:
    response = await client.patch("/org/project/config", json={"mask_secret_keys_in_connected_account": on}, headers=project.headers)
    assert response.status_code == 200, response.text


@pytest.fixture
async def stripe(client: httpx.AsyncClient, project: ProjectWithKey) -> str:
    return await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY", name="Stripe live")


@pytest.fixture
async def oauth_config(client: httpx.AsyncClient, project: ProjectWithKey) -> str:
    return await create_auth_config(
        client, project, "localoauth", type="use_custom_auth", authScheme="OAUTH2", name="Local app",
        credentials={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )


async def initiate(client: httpx.AsyncClient, project: ProjectWithKey, auth_config_id: str, user_id: str = "enduser") -> dict[str, Any]:
    body = {"auth_config": {"id": auth_config_id}, "connection": {"user_id": user_id}}
    response = await client.post("/connected_accounts", json=body, headers=project.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def active_oauth_account(client: httpx.AsyncClient, project: ProjectWithKey, auth_config_id: str) -> str:
    """An OAuth2 account the end user finished: consent at the loopback provider, back to our callback."""
    created = await initiate(client, project, auth_config_id)
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(created["redirect_url"])
        assert at_provider.status_code in (302, 307), at_provider.text
        await browser.get(at_provider.headers["location"])
    assert (await api_account(client, project, created["id"])).json()["status"] == "ACTIVE"
    return str(created["id"])


class TestList:
    async def test_columns_and_filters(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, stripe: str, oauth_config: str
    ) -> None:
        github = await create_auth_config(client, project, "github", type="use_custom_auth", authScheme="BEARER_TOKEN", name="GitHub tokens")
        alice = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", user_id="alice", alias="main")
        bob = await create_api_key_account(client, project, stripe, "sk_live_bbbbbbbb", user_id="bob")
        body = {"auth_config": {"id": github}, "connection": {"user_id": "alice", "state": {"authScheme": "BEARER_TOKEN", "val": {"token": "ghp_0123456789"}}}}
        alice_github = (await client.post("/connected_accounts", json=body, headers=project.headers)).json()["id"]
        waiting = (await initiate(client, project, oauth_config, user_id="carol"))["id"]
        await dashboard.sign_in(admin)
        page = await dashboard.http.get(accounts_url(org, project))
        assert page.status_code == 200 and 'aria-current="page">Connected accounts<' in page.text
        assert ROW_LINK.findall(page.text) == [waiting, alice_github, bob, alice]
        row = page.text[page.text.index(f'/connected-accounts/{alice}"'):].split("</tr>")[0]
        for cell in (">alice<", ">stripe<", ">Stripe live</a>", f"/auth-configs/{stripe}", ">active<", ">main<"):
            assert cell in row, cell
        assert "sk_live_abcdefgh" not in page.text
        for query, expected in (
            ({"status": "INITIATED"}, [waiting]),
            ({"status": "ACTIVE"}, [alice_github, bob, alice]),
            ({"toolkit": "github"}, [alice_github]),
            ({"user_id": "alice"}, [alice_github, alice]),
            ({"auth_config_id": stripe}, [bob, alice]),
            ({"auth_config_id": stripe, "user_id": "bob"}, [bob]),
            ({"status": "EXPIRED"}, []),
        ):
            filtered = await dashboard.http.get(accounts_url(org, project), params=query)
            assert filtered.status_code == 200 and ROW_LINK.findall(filtered.text) == expected, query
        none = await dashboard.http.get(accounts_url(org, project), params={"status": "EXPIRED"})
        assert "No connected account matches these filters." in none.text
        chosen = await dashboard.http.get(accounts_url(org, project), params={"auth_config_id": stripe})
        assert f'<option value="{stripe}" selected>Stripe live ({stripe})</option>' in chosen.text
        unknown = await dashboard.http.get(accounts_url(org, project), params={"status": "SLEEPING"})
        assert unknown.status_code == 400 and "status: must be one of" in unknown.text

    async def test_pages(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, stripe: str
    ) -> None:
        created = [await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", user_id="many") for _ in range(PAGE_SIZE + 3)]
        await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", user_id="someone-else")
        await dashboard.sign_in(admin)
        first = await dashboard.http.get(accounts_url(org, project), params={"user_id": "many"})
        assert len(ROW_LINK.findall(first.text)) == PAGE_SIZE and "page 1 of 2" in first.text
        next_url = re.search(r'href="(\?[^"]+)">Next page', first.text)
        assert next_url and "user_id=many" in next_url.group(1)
        second = await dashboard.http.get(accounts_url(org, project) + html.unescape(next_url.group(1)))
        assert len(ROW_LINK.findall(second.text)) == 3 and "Next page" not in second.text
        assert sorted(ROW_LINK.findall(first.text) + ROW_LINK.findall(second.text)) == sorted(created)

    async def test_empty_state_says_how_accounts_are_made(self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey) -> None:
        await dashboard.sign_in(admin)
        page = await dashboard.http.get(accounts_url(org, project))
        assert "No connected accounts yet." in page.text
        assert "POST /api/v3.1/connected_accounts</code>" in page.text and "POST /api/v3.1/connected_accounts/link" in page.text


class TestMasking:
    @pytest.mark.parametrize("masked", [True, False])
    async def test_the_page_shows_what_the_api_shows(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, stripe: str, masked: bool
    ) -> None:
        account_id = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", user_id="alice")
        await set_masking(client, project, masked)
        await dashboard.sign_in(admin)
        page = await dashboard.http.get(accounts_url(org, project, f"/{account_id}"))
        assert page.status_code == 200
        api = (await api_account(client, project, account_id)).json()
        assert shown_json(page) == api
        assert state_rows(page) == api["state"]["val"] == {"status": "ACTIVE", "api_key": "sk_l..." if masked else "sk_live_abcdefgh"}
        assert ("sk_live_abcdefgh" in page.text) is not masked
        assert ("Secrets are masked" if masked else "Shown whole") in page.text

    async def test_oauth_tokens_and_nested_values_mask_alike(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, oauth_config: str
    ) -> None:
        account_id = await active_oauth_account(client, project, oauth_config)
        await dashboard.sign_in(admin)
        for masked in (True, False):
            await set_masking(client, project, masked)
            page = await dashboard.http.get(accounts_url(org, project, f"/{account_id}"))
            api = (await api_account(client, project, account_id)).json()
            assert shown_json(page) == api
            token = api["state"]["val"]["access_token"]
            assert token.endswith("...") is masked and state_rows(page)["access_token"] == token


class TestActions:
    async def test_disable_and_enable(
        self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, stripe: str
    ) -> None:
        account_id = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh")
        await dashboard.sign_in(developer)
        detail = accounts_url(org, project, f"/{account_id}")
        disabled = await dashboard.post_form(detail, f"{detail}/status", {"enabled": "false"})
        assert disabled.status_code == 303 and disabled.headers["location"].endswith("?notice=account_disabled")
        api = (await api_account(client, project, account_id)).json()
        assert (api["status"], api["is_disabled"]) == ("INACTIVE", True)
        page = await dashboard.http.get(disabled.headers["location"].removeprefix("/dashboard"))
        assert "The connected account was disabled." in page.text and ">Enable</button>" in page.text
        enabled = await dashboard.post_form(detail, f"{detail}/status", {"enabled": "true"})
        assert enabled.status_code == 303
        assert (await api_account(client, project, account_id)).json()["status"] == "ACTIVE"

    async def test_an_unfinished_account_cannot_be_disabled(
        self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, oauth_config: str
    ) -> None:
        account_id = (await initiate(client, project, oauth_config))["id"]
        await dashboard.sign_in(developer)
        detail = accounts_url(org, project, f"/{account_id}")
        page = await dashboard.http.get(detail)
        assert ">Disable</button>" not in page.text and 'id="authorization-link"' in page.text
        refused = await dashboard.post_form(detail, f"{detail}/status", {"enabled": "false"})
        assert refused.status_code == 409 and "A INITIATED account cannot be disabled" in refused.text
        assert (await api_account(client, project, account_id)).json()["status"] == "INITIATED"

    async def test_restart_oauth(
        self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, oauth_config: str
    ) -> None:
        account_id = await active_oauth_account(client, project, oauth_config)
        await dashboard.sign_in(developer)
        detail = accounts_url(org, project, f"/{account_id}")
        assert ">Restart authorization</button>" in (await dashboard.http.get(detail)).text
        refreshed = await dashboard.post_form(detail, f"{detail}/refresh", {"redirect_url": "https://app.example.com/back"})
        assert refreshed.status_code == 303 and refreshed.headers["location"].endswith("?notice=account_refreshed")
        api = (await api_account(client, project, account_id)).json()
        assert api["status"] == "INITIATED" and api["state"]["val"]["callback_url"] == "https://app.example.com/back"
        page = await dashboard.http.get(refreshed.headers["location"].removeprefix("/dashboard"))
        assert "The authorization was restarted" in page.text
        assert f'id="authorization-link" value="{html.escape(api["state"]["val"]["redirectUrl"])}"' in page.text

        bad = await dashboard.post_form(detail, f"{detail}/refresh", {"redirect_url": "javascript:alert(1)"})
        assert bad.status_code == 400 and "redirect_url: must be an http(s) URL" in bad.text
        assert (await api_account(client, project, account_id)).json()["state"]["val"]["redirectUrl"] == api["state"]["val"]["redirectUrl"]

    async def test_api_key_accounts_have_nothing_to_restart(
        self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, stripe: str
    ) -> None:
        account_id = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh")
        await dashboard.sign_in(developer)
        detail = accounts_url(org, project, f"/{account_id}")
        assert "Restart authorization" not in (await dashboard.http.get(detail)).text
        refused = await dashboard.post_form(detail, f"{detail}/refresh", {})
        assert refused.status_code == 409 and "API_KEY accounts have no flow to restart" in refused.text

    async def test_delete_after_a_confirmation_naming_it(
        self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, stripe: str
    ) -> None:
        account_id = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", user_id="dora", alias="work")
        await dashboard.sign_in(developer)
        confirm_url = accounts_url(org, project, f"/{account_id}/delete")
        confirm = await dashboard.http.get(confirm_url)
        assert confirm.status_code == 200
        assert f"Delete connected account {account_id}?" in confirm.text and "<strong>dora</strong>" in confirm.text and "work" in confirm.text
        deleted = await dashboard.post_form(confirm_url, confirm_url, {})
        assert deleted.status_code == 303 and deleted.headers["location"].endswith("/connected-accounts?notice=account_deleted")
        assert (await api_account(client, project, account_id)).status_code == 404
        assert (await dashboard.http.get(accounts_url(org, project, f"/{account_id}"))).status_code == 404


class TestEdit:
    async def test_alias_and_the_api_key(
        self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, stripe: str
    ) -> None:
        account_id = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", user_id="alice", alias="main")
        await set_masking(client, project, False)
        await dashboard.sign_in(developer)
        detail = accounts_url(org, project, f"/{account_id}")
        assert f'href="/dashboard{detail}/edit">Edit</a>' in (await dashboard.http.get(detail)).text
        form = await dashboard.http.get(f"{detail}/edit")
        assert form.status_code == 200 and 'id="edit-alias" name="alias" maxlength="256" value="main"' in form.text
        # Even where the project shows secrets whole, none is put into the form.
        assert "sk_live_abcdefgh" not in form.text
        assert re.search(r'<input id="cred_api_key" name="cred_api_key" type="password" autocomplete="new-password"', form.text)

        saved = await dashboard.post_form(f"{detail}/edit", f"{detail}/edit", {"alias": "work", "cred_api_key": "sk_live_newkey99"})
        assert saved.status_code == 303 and saved.headers["location"].endswith(f"/connected-accounts/{account_id}?notice=account_saved")
        api = (await api_account(client, project, account_id)).json()
        assert (api["alias"], api["state"]["val"]["api_key"]) == ("work", "sk_live_newkey99")
        page = await dashboard.http.get(saved.headers["location"].removeprefix("/dashboard"))
        assert "The connected account was saved." in page.text

        # An empty secret input keeps the key; an empty alias removes the alias.
        kept = await dashboard.post_form(f"{detail}/edit", f"{detail}/edit", {"alias": "", "cred_api_key": ""})
        assert kept.status_code == 303
        api = (await api_account(client, project, account_id)).json()
        assert (api["alias"], api["state"]["val"]["api_key"]) == (None, "sk_live_newkey99")

    async def test_a_taken_alias_shows_the_conflict_and_changes_nothing(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, stripe: str
    ) -> None:
        await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", user_id="alice", alias="main")
        other = await create_api_key_account(client, project, stripe, "sk_live_bbbbbbbb", user_id="alice", alias="spare")
        await set_masking(client, project, False)
        await dashboard.sign_in(admin)
        edit = accounts_url(org, project, f"/{other}/edit")
        refused = await dashboard.post_form(edit, edit, {"alias": "main", "cred_api_key": "sk_live_replaced"})
        assert refused.status_code == 409
        assert "This alias is already used by another account of the same user and toolkit" in refused.text
        assert "<li>Alias: already in use</li>" in refused.text and re.search(r'id="edit-alias"[^>]*aria-invalid="true"', refused.text)
        assert 'value="main"' in refused.text and "sk_live_replaced" not in refused.text
        # The key sent with it rolled back too.
        api = (await api_account(client, project, other)).json()
        assert (api["alias"], api["state"]["val"]["api_key"]) == ("spare", "sk_live_bbbbbbbb")
        # Another user's account may carry the same alias.
        bob = await create_api_key_account(client, project, stripe, "sk_live_cccccccc", user_id="bob")
        bob_edit = accounts_url(org, project, f"/{bob}/edit")
        assert (await dashboard.post_form(bob_edit, bob_edit, {"alias": "main"})).status_code == 303
        assert (await api_account(client, project, bob)).json()["alias"] == "main"

    async def test_validation_names_the_field(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, stripe: str
    ) -> None:
        account_id = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", alias="main")
        before = (await api_account(client, project, account_id)).json()
        await dashboard.sign_in(admin)
        edit = accounts_url(org, project, f"/{account_id}/edit")
        refused = await dashboard.post_form(edit, edit, {"alias": "x" * 300, "cred_api_key": "sk_live_replaced"})
        assert refused.status_code == 400 and "The connected account was not saved." in refused.text
        assert "<li>Alias: String should have at most 256 characters</li>" in refused.text
        assert (await api_account(client, project, account_id)).json() == before

    async def test_an_oauth_account_changes_only_its_alias(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, oauth_config: str
    ) -> None:
        account_id = await active_oauth_account(client, project, oauth_config)
        await dashboard.sign_in(admin)
        edit = accounts_url(org, project, f"/{account_id}/edit")
        form = await dashboard.http.get(edit)
        assert "cred_" not in form.text and "restart the authorization" in form.text
        saved = await dashboard.post_form(edit, edit, {"alias": "team", "cred_access_token": "forged"})
        assert saved.status_code == 303
        api = (await api_account(client, project, account_id)).json()
        assert api["alias"] == "team" and api["status"] == "ACTIVE" and not api["state"]["val"]["access_token"].startswith("forg")


class TestTenancy:
    async def test_another_projects_account_and_another_orgs_project_answer_404(
        self, dashboard: Dashboard, admin: Person, org: Org, other_org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        sibling = await create_project(client, org)
        their_config = await create_auth_config(client, sibling, "stripe", type="use_custom_auth", authScheme="API_KEY")
        theirs = await create_api_key_account(client, sibling, their_config, "sk_live_theirsss")
        foreign = await create_project(client, other_org)
        await dashboard.sign_in(admin)
        for path in (
            accounts_url(org, project, f"/{theirs}"),
            accounts_url(org, project, f"/{theirs}/delete"),
            accounts_url(org, project, f"/{theirs}/edit"),
            accounts_url(org, project, "/ca_doesnotexist"),
            f"/orgs/{org.id}/projects/{foreign.id}/connected-accounts",
            f"/orgs/{other_org.id}/projects/{foreign.id}/connected-accounts",
        ):
            assert (await dashboard.http.get(path)).status_code == 404, path
        listed = await dashboard.http.get(accounts_url(org, project), params={"auth_config_id": their_config})
        assert ROW_LINK.findall(listed.text) == []
        form_page = accounts_url(org, project)
        for action, data in ((f"/{theirs}/status", {"enabled": "false"}), (f"/{theirs}/refresh", {}), (f"/{theirs}/delete", {}),
                             (f"/{theirs}/edit", {"alias": "mine now"})):
            refused = await dashboard.post_form(form_page, accounts_url(org, project, action), data)
            assert refused.status_code == 404, action
        still = await api_account(client, sibling, theirs)
        assert still.status_code == 200 and still.json()["status"] == "ACTIVE" and still.json()["alias"] is None


class TestInTheBrowser:
    async def test_find_look_disable_delete(
        self, page: Page, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, stripe: str, oauth_config: str
    ) -> None:
        account_id = await create_api_key_account(client, project, stripe, "sk_live_abcdefgh", user_id="alice", alias="main")
        await create_api_key_account(client, project, stripe, "sk_live_bbbbbbbb", user_id="bob")
        await initiate(client, project, oauth_config, user_id="carol")
        await sign_in(page, admin)
        await page.goto(f"/dashboard/orgs/{org.id}/projects/{project.id}")
        await page.get_by_role("link", name="Connected accounts").click()
        await expect(page.get_by_role("heading", name="Connected accounts")).to_be_visible()
        await expect(page.get_by_role("link", name=account_id)).to_be_visible()
        await shot(page, "project-connected-accounts")

        await page.get_by_label("User id").fill("alice")
        await page.get_by_role("button", name="Filter").click()
        await expect(page.get_by_text("1 connected account ·")).to_be_visible()
        await page.get_by_role("link", name=account_id).click()
        await expect(page.get_by_role("heading", name=f"Connected account {account_id}")).to_be_visible()
        await expect(page.get_by_role("cell", name="sk_l...")).to_be_visible()
        assert "sk_live_abcdefgh" not in await page.content()
        await shot(page, "connected-account-detail")

        await page.get_by_role("link", name="Edit", exact=True).click()
        await expect(page.get_by_label("Alias")).to_have_value("main")
        await page.get_by_label("Alias").fill("primary")
        await shot(page, "connected-account-edit")
        await page.get_by_role("button", name="Save changes").click()
        await expect(page.get_by_text("The connected account was saved.")).to_be_visible()
        assert (await api_account(client, project, account_id)).json()["alias"] == "primary"

        await page.get_by_role("button", name="Disable").click()
        await expect(page.get_by_text("The connected account was disabled.")).to_be_visible()
        assert (await api_account(client, project, account_id)).json()["status"] == "INACTIVE"

        await page.set_viewport_size({"width": 390, "height": 844})
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        await page.get_by_role("link", name="Delete…").click()
        await page.get_by_role("button", name=f"Delete {account_id}").click()
        await expect(page.get_by_text("The connected account was deleted.")).to_be_visible()
        assert (await api_account(client, project, account_id)).status_code == 404
