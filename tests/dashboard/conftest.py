"""Members who can sign in, a browser to sign them in with, and a plain-HTTP dashboard client."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.dashboard import accounts
from tenantry.db import unit_of_work
from tests.factories import MemberWithKey, Org, create_member
from tests.fixtures.server import Server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# CI keeps this folder out of the repository (.gitignore: test-artifacts/).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@dataclass
class Person:
    member: MemberWithKey
    password: str

    @property
    def email(self) -> str:
        return self.member.email


async def member_with_password(
    sessionmaker: async_sessionmaker[AsyncSession], org: Org, *, role: str = "admin", email: str | None = None
) -> Person:
    """A member of `org` (made by the members service) whose dashboard password is set as the CLI sets it."""
    member = await create_member(sessionmaker, org, role=role, email=email)
    password = f"pw-{secrets.token_urlsafe(12)}"
    async with unit_of_work(sessionmaker) as session:
        await accounts.set_password(session, member.email, password)
    return Person(member, password)


@pytest.fixture
async def admin(sessionmaker: async_sessionmaker[AsyncSession], org: Org) -> Person:
    return await member_with_password(sessionmaker, org, role="admin")


@pytest.fixture
async def developer(sessionmaker: async_sessionmaker[AsyncSession], org: Org) -> Person:
    return await member_with_password(sessionmaker, org, role="developer")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM) and not os.environ.get("TENANTRY_REQUIRE_BROWSER"):
        # A laptop without Debian's Chromium can still run everything else; CI sets the variable.
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


class Dashboard:
    """A browser-less dashboard client over plain HTTP: it keeps cookies and reads CSRF tokens from pages."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=f"{base_url}/dashboard", timeout=30, follow_redirects=False)

    async def sign_in(self, person: Person, password: str | None = None) -> httpx.Response:
        page = await self.http.get("/sign-in")
        return await self.http.post(
            "/sign-in", data={"email": person.email, "password": password or person.password, "csrf_token": csrf_of(page.text)}
        )

    async def post_form(self, form_page: str, action: str, data: dict[str, str]) -> httpx.Response:
        """Posts `data` to `action` with the CSRF token of `form_page`, as a browser submitting that form would."""
        page = await self.http.get(form_page)
        assert page.status_code == 200, page.text
        return await self.http.post(action, data={**data, "csrf_token": csrf_of(page.text)})


@pytest.fixture
async def dashboard(server: Server) -> AsyncIterator[Dashboard]:
    client = Dashboard(server.base_url)
    yield client
    await client.http.aclose()


@pytest.fixture
async def page(browser: Browser, server: Server) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 900})
    opened = await context.new_page()
    yield opened
    await context.close()


async def sign_in(page: Page, person: Person) -> None:
    """Signs `person` in through the form, from a fresh browser context."""
    await page.goto("/dashboard")
    await expect(page).to_have_url(re.compile(r"/dashboard/sign-in\?next="))
    await page.get_by_label("Email").fill(person.email)
    await page.get_by_label("Password").fill(person.password)
    await page.get_by_role("button", name="Sign in").click()


async def shot(page: Page, name: str) -> None:
    """A full-page screenshot into test-artifacts/screenshots/ (kept out of the repository)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
