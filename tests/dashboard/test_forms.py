"""A form the services refuse is shown again with the problem, and changes nothing."""

from __future__ import annotations

import httpx

from tests.dashboard.conftest import Dashboard, Person
from tests.factories import Org, ProjectWithKey


class TestRefusedForms:
    async def test_a_taken_project_name_refused_by_the_database_shows_the_form_again(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        form = f"/orgs/{org.id}/projects/new"
        before = (await client.get("/org/owner/project/list", headers=org.headers)).json()["total_items"]
        refused = await dashboard.post_form(form, form, {"name": project.name, "create_key": "on"})
        assert refused.status_code == 409 and "already exists" in refused.text
        # The page around the form still shows the organization and the member, read again after the rollback.
        assert org.id in refused.text and admin.email in refused.text
        assert (await client.get("/org/owner/project/list", headers=org.headers)).json()["total_items"] == before

    async def test_a_taken_key_name_creates_no_key(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        keys_page = f"/orgs/{org.id}/projects/{project.id}"
        assert (await dashboard.post_form(keys_page, f"{keys_page}/keys", {"name": "ci"})).status_code == 200
        again = await dashboard.post_form(keys_page, f"{keys_page}/keys", {"name": "ci"})
        assert again.status_code == 409 and project.name in again.text
        listed = (await client.get(f"/org/owner/project/{project.id}/api_keys", headers=org.headers)).json()["items"]
        assert [item["name"] for item in listed].count("ci") == 1
