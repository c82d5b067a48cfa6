"""A project's webhook page: the subscription, its secret, the message log, resend and recovery.

Deliveries go to the real test receiver (tests/webhooks/receiver.py) on loopback over http, which
the test servers allow; a second, strict server (production defaults) shows how unsafe URLs are refused.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.webhooks import events
from tests.dashboard.conftest import (
    Dashboard,
    Person,
    member_with_password,
    shot,
    sign_in,
)
from tests.factories import (
    Org,
    ProjectWithKey,
    create_api_key_account,
    create_auth_config,
    create_project,
)
from tests.fixtures.server import Server, start_server
from tests.webhooks.receiver import Endpoint, Receiver, start_receiver, verify_both

DELETED = events.CONNECTED_ACCOUNT_DELETED
ACTIVE = events.CONNECTED_ACCOUNT_ACTIVE
MESSAGE_LINK = re.compile(r"/webhooks/messages/(msg_[0-9a-f-]{36})")
SHOWN_SECRET = re.compile(r'id="new-secret" class="mono" readonly value="(whsec_[^"]+)"')


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver, server = start_receiver()
    yield receiver
    server.should_exit = True


@pytest.fixture
def endpoint(receiver: Receiver) -> Endpoint:
    return receiver.endpoint()


@pytest.fixture(scope="module")
def strict_server(server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with the production defaults for webhook URLs: https only, public addresses only.

    It runs no outbox worker, so it leaves the deliveries of the other tests to the main server
    (on PostgreSQL every worker is woken by every enqueue, and this one would refuse their http URLs).
    """
    env = {
        **server_env,
        "TENANTRY_WEBHOOK_ALLOW_PRIVATE_URLS": "false",
        "TENANTRY_WEBHOOK_ALLOW_HTTP": "false",
        "TENANTRY_OUTBOX_CONCURRENCY": "0",
    }
    started = start_server(env, tmp_path_factory.mktemp("strict") / "server.log")
    yield started
    started.stop()
    assert "Traceback" not in started.log(), started.log()


def hooks(org: Org, project: ProjectWithKey) -> str:
    return f"/orgs/{org.id}/projects/{project.id}/webhooks"


async def create_subscription(
    dashboard: Dashboard, org: Org, project: ProjectWithKey, url: str, enabled_events: list[str], **extra: str
) -> httpx.Response:
    page = hooks(org, project)
    return await dashboard.post_form(page, page, {"webhook_url": url, "enabled_events": enabled_events, "version": "V3", **extra})  # type: ignore[dict-item]


def shown_secret(response: httpx.Response) -> str:
    found = SHOWN_SECRET.search(response.text)
    assert found, response.text
    return found.group(1)


async def api_subscriptions(client: httpx.AsyncClient, project: ProjectWithKey) -> list[dict[str, Any]]:
    response = await client.get("/webhook_subscriptions", headers=project.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def api_subscription(client: httpx.AsyncClient, project: ProjectWithKey) -> dict[str, Any]:
    (subscription,) = await api_subscriptions(client, project)
    return subscription


async def delete_an_account(client: httpx.AsyncClient, project: ProjectWithKey) -> str:
    """Creates an API-key account and deletes it: `composio.connected_account.deleted` is emitted."""
    stripe = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
    account = await create_api_key_account(client, project, stripe, "sk_live_webhook_page")
    assert (await client.delete(f"/connected_accounts/{account}", headers=project.headers)).status_code == 200
    return account


async def until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 20) -> Any:
    """Polls `check` until it returns something truthy, and returns that."""
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def page_text(dashboard: Dashboard, path: str) -> str:
    response = await dashboard.http.get(path)
    assert response.status_code == 200, response.text
    return response.text


async def only_message(dashboard: Dashboard, org: Org, project: ProjectWithKey, status: str) -> str:
    """Waits until the log lists one message, in `status`; returns its id."""

    async def listed() -> str | None:
        text = await page_text(dashboard, hooks(org, project))
        ids = MESSAGE_LINK.findall(text)
        if len(ids) == 1 and f'webhook-status webhook-{status}">{status}<' in text:
            return str(ids[0])
        return None

    return str(await until(listed, f"one {status} message"))


def reloaded_until(page: Page, selector: str, count: int) -> Callable[[], Awaitable[bool]]:
    """A check for `until`: reloads the page and tells whether `selector` matches `count` elements."""

    async def check() -> bool:
        await page.reload()
        return await page.locator(selector).count() == count

    return check


def attempt_rows(html: str) -> int:
    body = html.split('<table class="webhook-attempts">', 1)
    return body[1].split("</table>", 1)[0].count("<tr>") - 1 if len(body) == 2 else 0


class TestUnsafeUrls:
    """First in the module, so the strict server starts before these tests queue any delivery."""

    @pytest.mark.parametrize(
        ("url", "problem"),
        [
            ("https://10.1.2.3/hook", "webhook_url: points at 10.1.2.3, a private address"),
            ("https://127.0.0.1:8443/hook", "webhook_url: points at 127.0.0.1, a loopback address"),
            ("http://93.184.215.14/hook", "webhook_url: must be an https URL"),
        ],
    )
    async def test_refused_in_the_page_and_nothing_saved(
        self, strict_server: Server, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, url: str, problem: str
    ) -> None:
        strict = Dashboard(strict_server.base_url)
        try:
            await strict.sign_in(admin)
            response = await create_subscription(strict, org, project, url, [DELETED])
            assert response.status_code == 400
            assert "The subscription was not created." in response.text and problem in response.text
            # The form comes back as it was sent.
            assert f'value="{url}"' in response.text and re.search(rf'value="{DELETED}"[^>]*checked', response.text)
        finally:
            await strict.http.aclose()
        assert await api_subscriptions(client, project) == []


class TestSubscription:
    async def test_the_empty_state_offers_every_event_type(self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey) -> None:
        await dashboard.sign_in(admin)
        text = await page_text(dashboard, hooks(org, project))
        assert "This project has no webhook subscription" in text and "Create a subscription" in text
        for event in events.CATALOG:
            assert f'name="enabled_events" value="{event.name}"' in text
        assert '<option value="V3" selected>V3</option>' in text

    async def test_create_shows_the_secret_once(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, endpoint: Endpoint
    ) -> None:
        await dashboard.sign_in(admin)
        created = await create_subscription(dashboard, org, project, endpoint.url, [DELETED, ACTIVE])
        assert created.status_code == 200 and "Webhook subscription created" in created.text
        secret = shown_secret(created)
        assert 'data-copy="new-secret"' in created.text
        subscription = await api_subscription(client, project)
        assert subscription["webhook_url"] == endpoint.url and subscription["version"] == "V3"
        assert set(subscription["enabled_events"]) == {DELETED, ACTIVE} and subscription["status"] == "ENABLED"
        assert subscription["secret"] == f"whsec_**{secret[-4:]}"
        text = await page_text(dashboard, hooks(org, project))
        assert secret not in text and secret.removeprefix("whsec_") not in text
        assert subscription["secret"] in text and endpoint.url in text and subscription["id"] in text
        assert "No message yet" in text
        # A second subscription is refused; the one there is kept.
        again = await create_subscription(dashboard, org, project, endpoint.url, [DELETED])
        assert again.status_code == 409 and "The subscription was not created." in again.text
        assert [item["id"] for item in await api_subscriptions(client, project)] == [subscription["id"]]

    @pytest.mark.parametrize(
        ("url", "enabled", "version", "problem"),
        [
            ("ftp://example.com/hook", [DELETED], "V3", "webhook_url: must be an https URL"),
            ("https://user:pw@example.com/hook", [DELETED], "V3", "webhook_url: must not carry credentials"),
            ("https://example.com/hook", ["composio.nothing.happened"], "V3", "enabled_events[0]: unknown event type"),
            ("https://example.com/hook", [DELETED], "V1", f"enabled_events[0]: {DELETED} is sent in V3 payloads only"),
            ("https://example.com/hook", [DELETED], "V9", "version: Input should be"),
            ("", [DELETED], "V3", "webhook_url: String should have at least 1 character"),
        ],
    )
    async def test_invalid_forms_name_the_field_and_save_nothing(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient,
        url: str, enabled: list[str], version: str, problem: str,
    ) -> None:
        await dashboard.sign_in(admin)
        page = hooks(org, project)
        response = await dashboard.post_form(page, page, {"webhook_url": url, "enabled_events": enabled, "version": version})  # type: ignore[dict-item]
        assert response.status_code == 400
        assert 'role="alert"' in response.text and problem in response.text
        assert await api_subscriptions(client, project) == []

    async def test_edit_disable_and_enable_again(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        await dashboard.sign_in(admin)
        first, second = receiver.endpoint(), receiver.endpoint()
        await create_subscription(dashboard, org, project, first.url, [DELETED])
        subscription_id = (await api_subscription(client, project))["id"]
        page = hooks(org, project)

        edit = {"subscription_id": subscription_id, "webhook_url": second.url, "enabled_events": [ACTIVE, DELETED], "version": "V3", "enabled": "on"}
        saved = await dashboard.post_form(page, f"{page}/edit", edit)  # type: ignore[arg-type]
        assert saved.status_code == 303 and saved.headers["location"].endswith("/webhooks?notice=webhook_saved")
        changed = await api_subscription(client, project)
        assert changed["webhook_url"] == second.url and set(changed["enabled_events"]) == {ACTIVE, DELETED}
        assert "The webhook subscription was saved." in await page_text(dashboard, saved.headers["location"].removeprefix("/dashboard"))

        unchanged = await dashboard.post_form(page, f"{page}/edit", edit)  # type: ignore[arg-type]
        assert unchanged.headers["location"].endswith("notice=webhook_unchanged")

        off = {key: value for key, value in edit.items() if key != "enabled"}
        assert (await dashboard.post_form(page, f"{page}/edit", off)).status_code == 303  # type: ignore[arg-type]
        disabled = await api_subscription(client, project)
        assert disabled["status"] == "DISABLED" and disabled["disabled_reason"]
        text = await page_text(dashboard, page)
        assert "Deliveries are off" in text and disabled["disabled_reason"] in text
        assert re.search(r'id="webhook-enabled" name="enabled"\s*>', text)

        assert (await dashboard.post_form(page, f"{page}/edit", edit)).status_code == 303  # type: ignore[arg-type]
        enabled = await api_subscription(client, project)
        assert enabled["status"] == "ENABLED" and enabled["disabled_reason"] is None
        assert "Deliveries are off" not in await page_text(dashboard, page)

    async def test_an_invalid_edit_saves_nothing(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, endpoint: Endpoint
    ) -> None:
        await dashboard.sign_in(admin)
        await create_subscription(dashboard, org, project, endpoint.url, [DELETED])
        before = await api_subscription(client, project)
        page = hooks(org, project)
        edit = {"subscription_id": before["id"], "webhook_url": "ftp://example.com/x", "enabled_events": [ACTIVE], "version": "V3", "enabled": "on"}
        response = await dashboard.post_form(page, f"{page}/edit", edit)  # type: ignore[arg-type]
        assert response.status_code == 400
        assert "Nothing was saved." in response.text and "webhook_url: must be an https URL" in response.text
        assert 'value="ftp://example.com/x"' in response.text
        assert await api_subscription(client, project) == before

    async def test_rotate_shows_the_new_secret_once_and_explains_the_overlap(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, endpoint: Endpoint
    ) -> None:
        await dashboard.sign_in(admin)
        old = shown_secret(await create_subscription(dashboard, org, project, endpoint.url, [DELETED]))
        subscription_id = (await api_subscription(client, project))["id"]
        page = hooks(org, project)
        rotated = await dashboard.post_form(page, f"{page}/rotate-secret", {"subscription_id": subscription_id})
        assert rotated.status_code == 200 and "Signing secret rotated" in rotated.text
        new = shown_secret(rotated)
        assert new != old and "The previous secret keeps signing deliveries beside this one until" in rotated.text
        assert "24 hours" in rotated.text
        assert (await api_subscription(client, project))["secret"] == f"whsec_**{new[-4:]}"
        text = await page_text(dashboard, page)
        assert new not in text and old not in text and f"whsec_**{new[-4:]}" in text

        # Both secrets sign the next delivery.
        await delete_an_account(client, project)
        await until(lambda: asyncio.sleep(0, result=endpoint.delivered()), "a delivery")
        for secret in (old, new):
            verify_both(secret, endpoint.delivered()[0])

    async def test_delete_after_confirmation(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, endpoint: Endpoint
    ) -> None:
        await dashboard.sign_in(admin)
        await create_subscription(dashboard, org, project, endpoint.url, [DELETED])
        subscription_id = (await api_subscription(client, project))["id"]
        page = hooks(org, project)
        confirm = await page_text(dashboard, f"{page}/delete")
        assert "Delete the webhook subscription?" in confirm and endpoint.url in confirm
        assert await api_subscriptions(client, project) != []
        deleted = await dashboard.post_form(f"{page}/delete", f"{page}/delete", {"subscription_id": subscription_id})
        assert deleted.status_code == 303 and deleted.headers["location"].endswith("/webhooks?notice=webhook_deleted")
        assert await api_subscriptions(client, project) == []
        text = await page_text(dashboard, f"{page}?notice=webhook_deleted")
        assert "The webhook subscription was deleted." in text and "This project has no webhook subscription" in text
        # Nothing is left to delete or confirm.
        assert (await dashboard.http.get(f"{page}/delete")).status_code == 404
        again = await dashboard.post_form(page, f"{page}/delete", {"subscription_id": subscription_id})
        assert again.status_code == 404

    async def test_a_developer_manages_it(
        self, dashboard: Dashboard, developer: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, endpoint: Endpoint
    ) -> None:
        await dashboard.sign_in(developer)
        page = hooks(org, project)
        assert (await create_subscription(dashboard, org, project, endpoint.url, [DELETED])).status_code == 200
        subscription_id = (await api_subscription(client, project))["id"]
        edit = {"subscription_id": subscription_id, "webhook_url": endpoint.url, "enabled_events": [ACTIVE], "version": "V3", "enabled": "on"}
        assert (await dashboard.post_form(page, f"{page}/edit", edit)).status_code == 303  # type: ignore[arg-type]
        assert (await api_subscription(client, project))["enabled_events"] == [ACTIVE]
        assert (await dashboard.post_form(page, f"{page}/rotate-secret", {"subscription_id": subscription_id})).status_code == 200
        assert (await dashboard.post_form(page, f"{page}/delete", {"subscription_id": subscription_id})).status_code == 303
        assert await api_subscriptions(client, project) == []


class TestMessages:
    async def test_a_delivered_message_its_attempt_and_a_resend(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, endpoint: Endpoint
    ) -> None:
        await dashboard.sign_in(admin)
        secret = shown_secret(await create_subscription(dashboard, org, project, endpoint.url, [DELETED]))
        account = await delete_an_account(client, project)
        message_id = await only_message(dashboard, org, project, "delivered")
        (delivery,) = endpoint.delivered()
        assert delivery.id == message_id
        verify_both(secret, delivery)

        page = hooks(org, project)
        listing = await page_text(dashboard, page)
        assert DELETED in listing and "1 message, newest first" in listing and "HTTP 200" in listing
        detail = await page_text(dashboard, f"{page}/messages/{message_id}")
        assert attempt_rows(detail) == 1
        assert "HTTP 200" in detail and "thanks" in detail and re.search(r"<td>\d+ ms</td>", detail)
        assert account in detail and f"&#34;id&#34;: &#34;{message_id}&#34;" in detail

        resent = await dashboard.post_form(f"{page}/messages/{message_id}", f"{page}/messages/{message_id}/resend", {})
        assert resent.status_code == 303 and resent.headers["location"].endswith(f"/messages/{message_id}?notice=webhook_resent")
        notice = await page_text(dashboard, resent.headers["location"].removeprefix("/dashboard"))
        assert "The message was queued to be sent again now." in notice
        await until(lambda: asyncio.sleep(0, result=len(endpoint.delivered()) == 2), "the resent delivery")
        assert [delivery.id for delivery in endpoint.delivered()] == [message_id, message_id]
        detail = await until(self._with_attempts(dashboard, f"{page}/messages/{message_id}", 2), "two attempts")
        assert detail.count("HTTP 200") == 2 and "delivered" in detail

    @staticmethod
    def _with_attempts(dashboard: Dashboard, path: str, count: int) -> Callable[[], Awaitable[str | None]]:
        async def check() -> str | None:
            text = await page_text(dashboard, path)
            return text if attempt_rows(text) == count else None

        return check

    async def test_failed_messages_are_shown_and_recovered(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        await dashboard.sign_in(admin)
        endpoint = receiver.endpoint(then=500)
        await create_subscription(dashboard, org, project, endpoint.url, [DELETED])
        subscription_id = (await api_subscription(client, project))["id"]
        await delete_an_account(client, project)
        message_id = await only_message(dashboard, org, project, "failed")
        page = hooks(org, project)
        detail = await page_text(dashboard, f"{page}/messages/{message_id}")
        api = (await client.get(f"/webhook_subscriptions/{subscription_id}/messages/{message_id}", headers=project.headers)).json()
        assert attempt_rows(detail) == len(api["attempts"]) == api["attempt_count"] >= 2
        assert "HTTP 500" in detail and "receiver says no." in detail
        # The answer is shown as the server stored it: its start only.
        stored = api["attempts"][0]["response_body"]
        assert len(stored) == 1024 and stored in detail

        failed_only = await page_text(dashboard, f"{page}?status=failed")
        delivered_only = await page_text(dashboard, f"{page}?status=delivered")
        assert message_id in failed_only and message_id not in delivered_only and "No delivered message." in delivered_only
        assert (await dashboard.http.get(f"{page}?status=bogus")).status_code == 400

        endpoint.then = 200
        future = await dashboard.post_form(page, f"{page}/recover", {"subscription_id": subscription_id, "since": "2999-01-01T00:00"})
        assert future.status_code == 400 and "since: must be in the past" in future.text
        garbled = await dashboard.post_form(page, f"{page}/recover", {"subscription_id": subscription_id, "since": "yesterday"})
        assert garbled.status_code == 400 and "since:" in garbled.text
        assert endpoint.delivered() == []

        recovered = await dashboard.post_form(page, f"{page}/recover", {"subscription_id": subscription_id, "since": "2000-01-01T00:00"})
        assert recovered.status_code == 200 and "1 failed message queued to be sent again." in recovered.text
        await until(lambda: asyncio.sleep(0, result=endpoint.delivered_ids() == {message_id}), "the recovered delivery")
        await only_message(dashboard, org, project, "delivered")

    async def test_resending_on_a_disabled_subscription_says_why_not(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, endpoint: Endpoint
    ) -> None:
        await dashboard.sign_in(admin)
        await create_subscription(dashboard, org, project, endpoint.url, [DELETED])
        subscription_id = (await api_subscription(client, project))["id"]
        await delete_an_account(client, project)
        message_id = await only_message(dashboard, org, project, "delivered")
        page = hooks(org, project)
        off = {"subscription_id": subscription_id, "webhook_url": endpoint.url, "enabled_events": [DELETED], "version": "V3"}
        assert (await dashboard.post_form(page, f"{page}/edit", off)).status_code == 303  # type: ignore[arg-type]
        refused = await dashboard.post_form(f"{page}/messages/{message_id}", f"{page}/messages/{message_id}/resend", {})
        assert refused.status_code == 409 and "The subscription is disabled" in refused.text and message_id in refused.text
        recover = await dashboard.post_form(page, f"{page}/recover", {"subscription_id": subscription_id, "since": "2000-01-01T00:00"})
        assert recover.status_code == 409 and "The subscription is disabled" in recover.text
        await asyncio.sleep(1.5)
        assert len(endpoint.delivered()) == 1

    async def test_the_log_is_paginated_newest_first(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient,
        endpoint: Endpoint, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await dashboard.sign_in(admin)
        await create_subscription(dashboard, org, project, endpoint.url, [DELETED])
        emitted = []
        for index in range(21):
            async with unit_of_work(sessionmaker) as session:
                emitted.append(await events.emit(session, project.id, DELETED, {"id": f"ca_{index}"}))
        page = hooks(org, project)
        first = await page_text(dashboard, page)
        assert MESSAGE_LINK.findall(first) == list(reversed(emitted))[:20]
        assert "21 messages, newest first · page 1 of 2" in first
        older = re.search(r'href="/dashboard([^"]+/webhooks\?status=&amp;cursor=[^"]+)">Older messages', first)
        assert older, first
        second = await page_text(dashboard, older.group(1).replace("&amp;", "&"))
        assert MESSAGE_LINK.findall(second) == [emitted[0]] and "Older messages" not in second


class TestIsolation:
    async def test_another_orgs_project_is_not_found(
        self, dashboard: Dashboard, admin: Person, org: Org, other_org: Org, client: httpx.AsyncClient, endpoint: Endpoint,
        sessionmaker: async_sessionmaker[AsyncSession], server: Server,
    ) -> None:
        theirs = await create_project(client, other_org)
        their_admin = await member_with_password(sessionmaker, other_org)
        other = Dashboard(server.base_url)
        try:
            await other.sign_in(their_admin)
            await create_subscription(other, other_org, theirs, endpoint.url, [DELETED])
        finally:
            await other.http.aclose()
        subscription_id = (await api_subscription(client, theirs))["id"]
        async with unit_of_work(sessionmaker) as session:
            message_id = await events.emit(session, theirs.id, DELETED, {"id": "ca_theirs"})

        await dashboard.sign_in(admin)
        token_page = f"/orgs/{org.id}/projects"
        for path in (hooks(other_org, theirs), f"/orgs/{org.id}/projects/{theirs.id}/webhooks"):
            assert (await dashboard.http.get(path)).status_code == 404
            assert (await dashboard.http.get(f"{path}/messages/{message_id}")).status_code == 404
            assert (await dashboard.http.get(f"{path}/delete")).status_code == 404
            for action, data in (
                ("", {"webhook_url": endpoint.url, "enabled_events": [DELETED], "version": "V3"}),
                ("/edit", {"subscription_id": subscription_id, "webhook_url": "https://example.com/x", "version": "V3"}),
                ("/rotate-secret", {"subscription_id": subscription_id}),
                ("/delete", {"subscription_id": subscription_id}),
                ("/recover", {"subscription_id": subscription_id, "since": "2000-01-01T00:00"}),
                (f"/messages/{message_id}/resend", {}),
            ):
                response = await dashboard.post_form(token_page, f"{path}{action}", data)  # type: ignore[arg-type]
                assert response.status_code == 404, (path, action)
        after = await api_subscription(client, theirs)
        assert after["webhook_url"] == endpoint.url and after["id"] == subscription_id

    async def test_another_projects_subscription_and_message_are_not_found(
        self, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, endpoint: Endpoint,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await dashboard.sign_in(admin)
        sibling = await create_project(client, org)
        await create_subscription(dashboard, org, sibling, endpoint.url, [DELETED])
        sibling_subscription = (await api_subscription(client, sibling))["id"]
        async with unit_of_work(sessionmaker) as session:
            theirs = await events.emit(session, sibling.id, DELETED, {"id": "ca_sibling"})
        await create_subscription(dashboard, org, project, endpoint.url, [DELETED])
        ours = (await api_subscription(client, project))["id"]

        page = hooks(org, project)
        assert (await dashboard.http.get(f"{page}/messages/{theirs}")).status_code == 404
        assert (await dashboard.post_form(page, f"{page}/messages/{theirs}/resend", {})).status_code == 404
        assert (await dashboard.http.get(f"{page}/messages/msg_00000000-0000-0000-0000-000000000000")).status_code == 404
        # The sibling's subscription id does not reach it through this project's pages.
        for action in ("/rotate-secret", "/delete"):
            assert (await dashboard.post_form(page, f"{page}{action}", {"subscription_id": sibling_subscription})).status_code == 404
        assert (await api_subscription(client, sibling))["id"] == sibling_subscription
        assert (await api_subscription(client, project))["id"] == ours


class TestInTheBrowser:
    async def test_create_an_event_its_message_and_a_resend(
        self, page: Page, admin: Person, org: Org, project: ProjectWithKey, client: httpx.AsyncClient, endpoint: Endpoint
    ) -> None:
        await sign_in(page, admin)
        await page.goto(f"/dashboard{hooks(org, project)}")
        await expect(page.get_by_text("This project has no webhook subscription")).to_be_visible()
        await page.get_by_label("Webhook URL").fill(endpoint.url)
        await page.get_by_label(DELETED).check()
        await page.get_by_label(ACTIVE).check()
        await page.get_by_role("button", name="Create subscription").click()
        await expect(page.get_by_role("heading", name="Webhook subscription created")).to_be_visible()
        secret = await page.get_by_label("Signing secret").input_value()
        assert secret.startswith("whsec_")
        await expect(page.get_by_role("button", name="Copy")).to_be_visible()
        await page.get_by_role("link", name="Go to the webhook subscription").click()
        await expect(page.get_by_text(f"whsec_**{secret[-4:]}")).to_be_visible()

        await delete_an_account(client, project)
        await until(reloaded_until(page, "table.webhook-messages .webhook-delivered", 2), "two delivered messages")
        await expect(page.locator("table.webhook-messages tbody tr")).to_have_count(2)
        await shot(page, "project-webhooks")

        await page.get_by_role("link", name=DELETED).click()
        await expect(page.get_by_role("heading", name=f"Message {DELETED}")).to_be_visible()
        await expect(page.locator("table.webhook-attempts tbody tr")).to_have_count(1)
        await page.get_by_role("button", name="Resend").click()
        await expect(page.get_by_text("The message was queued to be sent again now.")).to_be_visible()
        await until(reloaded_until(page, "table.webhook-attempts tbody tr", 2), "the resent attempt")
        assert len(endpoint.delivered()) == 3
        await expect(page.locator("table.webhook-attempts")).to_contain_text("HTTP 200")
        await shot(page, "webhook-message")
        verify_both(secret, endpoint.delivered()[-1])

    async def test_the_pages_fit_a_phone(
        self, browser: Browser, server: Server, dashboard: Dashboard, admin: Person, org: Org, project: ProjectWithKey,
        endpoint: Endpoint, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await dashboard.sign_in(admin)
        await create_subscription(dashboard, org, project, endpoint.url, [DELETED])
        async with unit_of_work(sessionmaker) as session:
            message_id = await events.emit(session, project.id, DELETED, {"id": "ca_phone", "note": "x" * 300})
        context = await browser.new_context(base_url=server.base_url, viewport={"width": 390, "height": 844}, is_mobile=True)
        try:
            page = await context.new_page()
            await sign_in(page, admin)
            for path, heading in ((hooks(org, project), "Messages"), (f"{hooks(org, project)}/messages/{message_id}", "Attempts")):
                await page.goto(f"/dashboard{path}")
                await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
                # Only tables (which scroll inside their own box) and the payload may be wider than the screen.
                assert await page.evaluate("document.documentElement.scrollWidth") <= 390, path
            await shot(page, "webhook-message-phone")
        finally:
            await context.close()
