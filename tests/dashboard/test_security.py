"""Sign-in, sessions, CSRF, roles and tenancy of the dashboard, over plain HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.models import DashboardSession
from tests.dashboard.conftest import Dashboard, Person, csrf_of, member_with_password
from tests.factories import Org, ProjectWithKey, create_org, create_project
from tests.fixtures.server import Server, start_server


def _cookie_header(response: httpx.Response, name: str) -> str:
    [header] = [value for value in response.headers.get_list("set-cookie") if value.startswith(f"{name}=")]
    return header.lower()


class TestSignIn:
    async def test_the_session_cookie_is_httponly_lax_and_scoped(self, dashboard: Dashboard, admin: Person) -> None:
        response = await dashboard.sign_in(admin)
        assert response.status_code == 303 and response.headers["location"] == "/dashboard"
        cookie = _cookie_header(response, "tenantry_session")
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/dashboard" in cookie
        # Served over plain http here, so not Secure (see TestBehindTls).
        assert "secure" not in cookie.replace("samesite", "")

    async def test_only_a_digest_of_the_session_token_is_stored(
        self, dashboard: Dashboard, admin: Person, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        response = await dashboard.sign_in(admin)
        token = response.cookies["tenantry_session"]
        async with unit_of_work(sessionmaker, read_only=True) as session:
            rows = (await session.scalars(select(DashboardSession).where(DashboardSession.member_id == admin.member.id))).all()
        assert len(rows) == 1 and token not in rows[0].token_hash and len(rows[0].token_hash) == 64

    async def test_a_wrong_password_and_an_unknown_email_read_alike(self, dashboard: Dashboard, admin: Person) -> None:
        wrong = await dashboard.sign_in(admin, password="not-the-password-at-all")
        unknown = await dashboard.sign_in(Person(admin.member.__class__("mb_x", "nobody@example.com", "", ""), "whatever-password"))
        assert wrong.status_code == unknown.status_code == 400
        assert "The email or password is not right." in wrong.text and "The email or password is not right." in unknown.text
        assert "tenantry_session" not in wrong.cookies

    async def test_lock_out_after_repeated_failures(self, dashboard: Dashboard, admin: Person) -> None:
        for _ in range(5):
            assert (await dashboard.sign_in(admin, password="wrong-password-here")).status_code == 400
        locked = await dashboard.sign_in(admin)
        assert locked.status_code == 400 and "Too many failed sign-ins" in locked.text
        assert "tenantry_session" not in locked.cookies

    async def test_pages_need_a_session(self, dashboard: Dashboard, org: Org) -> None:
        response = await dashboard.http.get(f"/orgs/{org.id}/projects")
        assert response.status_code == 303 and response.headers["location"].startswith("/dashboard/sign-in?next=")

    async def test_sign_out_ends_the_session(self, dashboard: Dashboard, admin: Person, org: Org) -> None:
        await dashboard.sign_in(admin)
        token = dashboard.http.cookies["tenantry_session"]
        signed_out = await dashboard.post_form(f"/orgs/{org.id}/projects", "/sign-out", {})
        assert signed_out.status_code == 303
        # The old cookie, replayed, no longer signs anyone in.
        async with httpx.AsyncClient(base_url=str(dashboard.http.base_url), cookies={"tenantry_session": token}) as replay:
            assert (await replay.get(f"/orgs/{org.id}/projects")).status_code == 303

    async def test_the_cli_sets_a_password_from_stdin(self, server_env: dict[str, str], dashboard: Dashboard, admin: Person) -> None:
        new_password = "a-brand-new-password"
        result = subprocess.run(
            [sys.executable, "-m", "tenantry", "member", "set-password", admin.email.upper()],
            input=new_password + "\n", env={**os.environ, **server_env}, capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert (await dashboard.sign_in(admin)).status_code == 400
        assert (await dashboard.sign_in(admin, password=new_password)).status_code == 303
        too_short = subprocess.run(
            [sys.executable, "-m", "tenantry", "member", "set-password", admin.email],
            input="short\n", env={**os.environ, **server_env}, capture_output=True, text=True, timeout=60,
        )
        assert too_short.returncode == 1 and "at least 12" in too_short.stderr


class TestCsrf:
    async def test_a_post_without_the_token_is_refused_and_does_nothing(
        self, dashboard: Dashboard, admin: Person, org: Org, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        name = "csrf-less-project"
        for data in ({"name": name}, {"name": name, "csrf_token": "forged"}):
            refused = await dashboard.http.post(f"/orgs/{org.id}/projects/new", data=data)
            assert refused.status_code == 403 and "did not come from this site" in refused.text
        listed = (await client.get("/org/owner/project/list", headers=org.headers)).json()
        assert name not in [project["name"] for project in listed["data"]]

    async def test_the_sign_in_form_needs_its_token(self, dashboard: Dashboard, admin: Person) -> None:
        refused = await dashboard.http.post("/sign-in", data={"email": admin.email, "password": admin.password})
        assert refused.status_code == 403 and "tenantry_session" not in refused.cookies

    async def test_one_sessions_token_does_not_work_for_another(self, server: Server, admin: Person, org: Org) -> None:
        first, second = Dashboard(server.base_url), Dashboard(server.base_url)
        try:
            await first.sign_in(admin)
            await second.sign_in(admin)
            token = csrf_of((await first.http.get(f"/orgs/{org.id}/projects/new")).text)
            refused = await second.http.post(f"/orgs/{org.id}/projects/new", data={"name": "cross-token", "csrf_token": token})
            assert refused.status_code == 403
        finally:
            await first.http.aclose()
            await second.http.aclose()


class TestTenancy:
    async def test_another_organizations_project_answers_404(
        self, dashboard: Dashboard, admin: Person, org: Org, other_org: Org, client: httpx.AsyncClient
    ) -> None:
        theirs = await create_project(client, other_org)
        await dashboard.sign_in(admin)
        for path in (
            f"/orgs/{org.id}/projects/{theirs.id}",
            f"/orgs/{org.id}/projects/{theirs.id}/settings",
            f"/orgs/{other_org.id}/projects/{theirs.id}",
            f"/orgs/{other_org.id}/projects",
            f"/orgs/{org.id}/projects/pr_doesnotexist",
        ):
            response = await dashboard.http.get(path)
            assert response.status_code == 404, path
        refused = await dashboard.post_form(
            f"/orgs/{org.id}/projects/new", f"/orgs/{org.id}/projects/{theirs.id}/keys/regenerate", {"grace_period_seconds": "0"}
        )
        assert refused.status_code == 404
        still = await client.get("/org/project/config", headers=theirs.headers)
        assert still.status_code == 200

    async def test_members_see_only_their_organizations(
        self, dashboard: Dashboard, sessionmaker: async_sessionmaker[AsyncSession], org: Org
    ) -> None:
        second = await create_org(sessionmaker)
        await member_with_password(sessionmaker, org, role="developer", email="both@example.com")
        # One person in two organizations; the second call set the password they sign in with.
        person = await member_with_password(sessionmaker, second, role="admin", email="both@example.com")
        await dashboard.sign_in(person)
        home = await dashboard.http.get(str(dashboard.http.base_url).rstrip("/"))
        assert home.status_code == 200 and org.id in home.text and second.id in home.text
        third = await create_org(sessionmaker)
        assert third.id not in home.text
        assert (await dashboard.http.get(f"/orgs/{third.id}/projects")).status_code == 404


class TestRoles:
    async def test_a_developer_cannot_delete_a_project(
        self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(developer)
        page = await dashboard.http.get(f"/orgs/{org.id}/projects/{project.id}")
        assert page.status_code == 200 and "Delete project" not in page.text
        assert (await dashboard.http.get(f"/orgs/{org.id}/projects/{project.id}/delete")).status_code == 403
        refused = await dashboard.post_form(
            f"/orgs/{org.id}/projects/{project.id}", f"/orgs/{org.id}/projects/{project.id}/delete", {"confirm_name": project.name}
        )
        assert refused.status_code == 403 and "admin role" in refused.text
        assert (await client.get(f"/org/owner/project/{project.id}", headers=org.headers)).status_code == 200
        assert (await dashboard.http.get(f"/orgs/{org.id}/audit")).status_code == 403

    async def test_an_admin_deletes_only_after_typing_the_name(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient
    ) -> None:
        await dashboard.sign_in(admin)
        form = f"/orgs/{org.id}/projects/{project.id}/delete"
        confirm = await dashboard.http.get(form)
        assert confirm.status_code == 200 and project.name in confirm.text
        wrong = await dashboard.post_form(form, form, {"confirm_name": "something-else"})
        assert wrong.status_code == 400 and (await client.get(f"/org/owner/project/{project.id}", headers=org.headers)).status_code == 200
        done = await dashboard.post_form(form, form, {"confirm_name": project.name})
        assert done.status_code == 303
        assert (await client.get(f"/org/owner/project/{project.id}", headers=org.headers)).status_code == 404
        assert (await client.get("/org/project/config", headers=project.headers)).status_code == 401
        audit = await dashboard.http.get(f"/orgs/{org.id}/audit", params={"action": "project.deleted", "project_id": project.id})
        assert audit.status_code == 200 and admin.member.id in audit.text


@pytest.fixture(scope="module")
def tls_server(server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server told that browsers reach it over https (a TLS proxy in front), served here over http."""
    started = start_server({**server_env, "TENANTRY_PUBLIC_URL": "https://tenantry.example.com"}, tmp_path_factory.mktemp("tls") / "server.log")
    yield started
    started.stop()


class TestBehindTls:
    async def test_cookies_are_secure_when_the_public_url_is_https(self, tls_server: Server, admin: Person) -> None:
        client = Dashboard(tls_server.base_url)
        try:
            page = await client.http.get("/sign-in")
            assert "secure" in _cookie_header(page, "tenantry_csrf").split("; ")
            token = csrf_of(page.text)
            # httpx keeps Secure cookies off plain http, as a browser would; send it as one behind TLS would.
            client.http.cookies.set("tenantry_csrf", token)
            response = await client.http.post("/sign-in", data={"email": admin.email, "password": admin.password, "csrf_token": token})
            assert response.status_code == 303
            assert {"httponly", "secure", "samesite=lax"} <= set(_cookie_header(response, "tenantry_session").split("; "))
        finally:
            await client.http.aclose()


class TestFindingIt:
    async def test_serve_says_where_the_dashboard_is(self, server: Server) -> None:
        assert f"dashboard: {server.base_url}/dashboard" in server.log()
        response = httpx.get(f"{server.base_url}/dashboard", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/dashboard/sign-in")
