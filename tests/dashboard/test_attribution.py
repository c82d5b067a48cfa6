"""Who made a thing: a member when a member did (on the dashboard), else the key that did."""

from __future__ import annotations

import re

import httpx

from tests.dashboard.conftest import Dashboard, Person
from tests.factories import Org, ProjectWithKey, create_auth_config


class TestCreatedBy:
    async def test_an_auth_config_made_on_the_dashboard_names_the_member(
        self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(developer)
        base = f"/orgs/{org.id}/projects/{project.id}/auth-configs"
        created = await dashboard.post_form(f"{base}/new?toolkit=github&scheme=BEARER_TOKEN", f"{base}/new", {
            "toolkit": "github", "scheme": "BEARER_TOKEN", "name": "Made by a person",
            "restrict_to_following_tools": "", "proxy_url": "", "proxy_auth_key": "",
        })
        assert created.status_code == 303, created.text
        found = re.search(r"/auth-configs/(ac_[A-Za-z0-9]+)\?", created.headers["location"])
        assert found
        shown = (await client.get(f"/auth_configs/{found.group(1)}", headers=project.headers)).json()
        assert shown["created_by"] == developer.member.id

    async def test_one_made_with_a_project_key_names_the_key(
        self, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        [key] = (await client.get(f"/org/owner/project/{project.id}/api_keys", headers=org.headers)).json()["items"]
        shown = (await client.get(f"/auth_configs/{config_id}", headers=project.headers)).json()
        assert shown["created_by"] == key["id"]
