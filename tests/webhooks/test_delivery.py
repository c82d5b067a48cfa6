"""Deliveries to a real receiver: every event type, signatures, retries, the log, resend and recovery."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.auth.principal import capability_principal
from tenantry.connected_accounts import service as connected_accounts
from tenantry.connected_accounts.repository import ConnectedAccountRepository
from tenantry.db import unit_of_work
from tenantry.kit.time import utcnow
from tenantry.models import WebhookMessage, WebhookSubscription
from tenantry.webhooks import events, signing
from tests.factories import (
    Org,
    ProjectWithKey,
    create_api_key_account,
    create_auth_config,
)
from tests.fixtures.oauth_provider import CLIENT_ID, CLIENT_SECRET, Provider
from tests.webhooks.conftest import ALL_EVENTS, Subscription, subscribe
from tests.webhooks.receiver import (
    Endpoint,
    Receiver,
    eventually,
    rejected_by_both,
    verify_both,
)

ACTIVE, EXPIRED, DISABLED, DELETED, AUTH_CONFIG_DISABLED = (
    events.CONNECTED_ACCOUNT_ACTIVE,
    events.CONNECTED_ACCOUNT_EXPIRED,
    events.CONNECTED_ACCOUNT_DISABLED,
    events.CONNECTED_ACCOUNT_DELETED,
    events.AUTH_CONFIG_DISABLED,
)


async def stripe_config(client: httpx.AsyncClient, project: ProjectWithKey) -> str:
    return await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")


async def messages(client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(f"/webhook_subscriptions/{subscription.id}/messages", params=params, headers=project.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def message(client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription, message_id: str) -> dict[str, Any]:
    response = await client.get(f"/webhook_subscriptions/{subscription.id}/messages/{message_id}", headers=project.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def settled(client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription, status: str, timeout: float = 20) -> dict[str, Any]:
    """Waits for the subscription's only message to reach `status`, and returns it in detail."""
    deadline = time.monotonic() + timeout
    while True:
        items = await messages(client, project, subscription)
        if items and items[0]["status"] == status:
            return await message(client, project, subscription, items[0]["id"])
        if time.monotonic() > deadline:
            raise AssertionError(f"no {status} message: {items}")
        await asyncio.sleep(0.1)


async def oauth_account(client: httpx.AsyncClient, project: ProjectWithKey, provider: Provider) -> str:
    """An OAuth2 account finished through the provider, whose access token is already due for refresh."""
    auth_config_id = await create_auth_config(
        client, project, "localoauth", type="use_custom_auth", authScheme="OAUTH2",
        credentials={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    provider.access_token_lifetime = 30
    try:
        body = {"auth_config": {"id": auth_config_id}, "connection": {"user_id": "enduser"}}
        created = (await client.post("/connected_accounts", json=body, headers=project.headers)).json()
        async with httpx.AsyncClient() as browser:
            at_provider = await browser.get(created["redirect_url"])
            assert (await browser.get(at_provider.headers["location"])).status_code in (200, 303)
    finally:
        provider.access_token_lifetime = 3600
    return str(created["id"])


class TestEveryEventType:
    async def test_each_arrives_signed_for_both_verifiers(
        self,
        client: httpx.AsyncClient,
        org: Org,
        project: ProjectWithKey,
        subscription: Subscription,
        oauth_provider: Provider,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        endpoint = subscription.endpoint
        stripe = await stripe_config(client, project)
        account = await create_api_key_account(client, project, stripe, "sk_live_direct_create")
        for enabled in (False, True):
            response = await client.patch(f"/connected_accounts/{account}/status", json={"enabled": enabled}, headers=project.headers)
            assert response.status_code == 200
        oauth = await oauth_account(client, project, oauth_provider)
        oauth_provider.revoke_refresh_tokens()
        async with unit_of_work(sessionmaker) as session:
            principal = capability_principal(project.id)
            loaded = await ConnectedAccountRepository(session, principal).get(oauth, for_update=True)
            assert loaded is not None
            _, credentials = await connected_accounts.credentials_for_use(session, principal, loaded)
        assert credentials is None
        link = (await client.post("/connected_accounts/link", json={"auth_config_id": stripe, "user_id": "u-link"}, headers=project.headers)).json()
        async with httpx.AsyncClient() as browser:
            submitted = await browser.post(link["redirect_url"], data={"api_key": "sk_live_from_the_link_page"})
            assert submitted.status_code == 200 and "Connected" in submitted.text
        assert (await client.delete(f"/connected_accounts/{account}", headers=project.headers)).status_code == 200
        assert (await client.patch(f"/auth_configs/{stripe}/DISABLED", headers=project.headers)).status_code == 200

        await eventually(lambda: {d.json()["type"] for d in endpoint.delivered()} == set(ALL_EVENTS), what="every event type")
        await eventually(lambda: len(endpoint.of_type(ACTIVE)) == 4, what="four activations")
        for delivery in endpoint.delivered():
            verify_both(subscription.secret, delivery)
            assert not rejected_by_both(subscription.secret, delivery)
            assert rejected_by_both("whsec_" + "A" * 44, delivery)
            body = delivery.json()
            assert body["id"] == delivery.id and body["id"].startswith("msg_") and len(body["id"]) == 40
            assert body["metadata"] == {"project_id": project.id, "org_id": org.id}
            assert body["timestamp"].endswith("Z")
            assert delivery.headers["x-composio-webhook-version"] == "V3"
            assert delivery.headers["content-type"] == "application/json"

        activations = {d.json()["data"]["id"]: d.json()["data"] for d in endpoint.of_type(ACTIVE)}
        assert set(activations) == {account, oauth, link["connected_account_id"]}
        direct = activations[account]
        assert direct["state"]["val"]["api_key"] == "sk_l..." and direct["params"]["api_key"] == "sk_l..."
        assert direct["auth_config"]["id"] == stripe and direct["toolkit"] == {"slug": "stripe"}
        assert activations[link["connected_account_id"]]["state"]["val"]["api_key"] == "sk_l..."
        (expired,) = [d.json()["data"] for d in endpoint.of_type(EXPIRED)]
        assert expired["id"] == oauth and expired["status"] == "EXPIRED"
        assert expired["status_reason"].startswith("Permanent auth error during token refresh")
        assert expired["state"]["val"]["access_token"].endswith("...") and "expired_at" in expired["state"]["val"]
        (disabled,) = [d.json()["data"] for d in endpoint.of_type(DISABLED)]
        assert disabled["id"] == account and disabled["status"] == "INACTIVE" and disabled["is_disabled"] is True
        (deleted,) = [d.json()["data"] for d in endpoint.of_type(DELETED)]
        assert deleted["id"] == account
        (config,) = [d.json()["data"] for d in endpoint.of_type(AUTH_CONFIG_DISABLED)]
        assert config["id"] == stripe and config["status"] == "DISABLED"
        assert "sk_live" not in str([d.body for d in endpoint.delivered()])

    async def test_unmasked_when_the_project_says_so(self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription) -> None:
        await client.patch("/org/project/config", json={"mask_secret_keys_in_connected_account": False}, headers=project.headers)
        account = await create_api_key_account(client, project, await stripe_config(client, project), "sk_live_plainly_visible")
        await eventually(lambda: len(subscription.endpoint.of_type(ACTIVE)) == 1)
        data = subscription.endpoint.of_type(ACTIVE)[0].json()["data"]
        assert data["id"] == account and data["state"]["val"]["api_key"] == "sk_live_plainly_visible"

    async def test_only_enabled_events_are_sent(
        self, client: httpx.AsyncClient, project: ProjectWithKey, endpoint: Endpoint
    ) -> None:
        subscription = await subscribe(client, project, endpoint, [DELETED])
        account = await create_api_key_account(client, project, await stripe_config(client, project), "sk_live_only_deleted")
        await client.delete(f"/connected_accounts/{account}", headers=project.headers)
        await eventually(lambda: len(endpoint.delivered()) == 1)
        assert endpoint.delivered()[0].json()["type"] == DELETED
        assert [item["event_type"] for item in await messages(client, project, subscription)] == [DELETED]


class TestDurability:
    async def test_a_rolled_back_change_sends_nothing(
        self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        with pytest.raises(RuntimeError):
            async with unit_of_work(sessionmaker) as session:
                rolled_back = await events.emit(session, project.id, DELETED, {"id": "ca_rolledback"})
                assert rolled_back is not None
                raise RuntimeError("the change fails")
        async with unit_of_work(sessionmaker) as session:
            committed = await events.emit(session, project.id, DELETED, {"id": "ca_committed"})
        await eventually(lambda: committed in subscription.endpoint.delivered_ids())
        await asyncio.sleep(0.5)
        assert subscription.endpoint.delivered_ids() == {committed}
        assert [item["id"] for item in await messages(client, project, subscription)] == [committed]

    async def test_nothing_is_sent_before_the_commit(
        self, project: ProjectWithKey, subscription: Subscription, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with unit_of_work(sessionmaker) as session:
            held = await events.emit(session, project.id, DELETED, {"id": "ca_held"})
            await asyncio.sleep(1.5)  # longer than a worker's poll interval
            assert subscription.endpoint.deliveries == []
        await eventually(lambda: held in subscription.endpoint.delivered_ids())


class TestRetries:
    async def test_a_failure_then_a_success(self, client: httpx.AsyncClient, project: ProjectWithKey, receiver: Receiver) -> None:
        subscription = await subscribe(client, project, receiver.endpoint(500))
        await create_api_key_account(client, project, await stripe_config(client, project), "sk_live_retried")
        detail = await settled(client, project, subscription, "delivered")
        assert detail["attempt_count"] == 2 and detail["next_attempt_at"] is None and detail["delivered_at"]
        first, second = detail["attempts"]
        assert (first["status_code"], first["succeeded"], second["status_code"], second["succeeded"]) == (500, False, 200, True)
        assert first["response_body"].startswith("receiver says no.") and len(first["response_body"]) == 1024
        assert second["response_body"] == "thanks" and isinstance(second["latency_ms"], int) and first["error"] is None
        assert detail["last_attempt"] == second and detail["payload"]["id"] == detail["id"]
        deliveries = subscription.endpoint.deliveries
        assert [d.answered for d in deliveries] == [500, 200] and deliveries[0].id == deliveries[1].id == detail["id"]
        for delivery in deliveries:
            verify_both(subscription.secret, delivery)

    async def test_a_failed_message_is_recovered(self, client: httpx.AsyncClient, project: ProjectWithKey, receiver: Receiver) -> None:
        endpoint = receiver.endpoint(then=500)
        subscription = await subscribe(client, project, endpoint)
        await create_api_key_account(client, project, await stripe_config(client, project), "sk_live_recovered")
        pending = await settled(client, project, subscription, "pending")
        assert pending["next_attempt_at"] is not None
        failed = await settled(client, project, subscription, "failed")
        assert failed["attempt_count"] == 4 and failed["next_attempt_at"] is None
        assert [attempt["status_code"] for attempt in failed["attempts"]] == [500] * 4
        assert [item["id"] for item in await messages(client, project, subscription, status="failed")] == [failed["id"]]
        assert await messages(client, project, subscription, status="delivered") == []

        endpoint.then = 200
        response = await client.post(
            f"/webhook_subscriptions/{subscription.id}/recover", json={"since": failed["created_at"]}, headers=project.headers
        )
        assert response.status_code == 202 and response.json() == {"recovered": 1}
        delivered = await settled(client, project, subscription, "delivered")
        assert delivered["id"] == failed["id"] and delivered["attempt_count"] == 5
        assert endpoint.delivered_ids() == {failed["id"]}
        later = await client.post(
            f"/webhook_subscriptions/{subscription.id}/recover", json={"since": failed["created_at"]}, headers=project.headers
        )
        assert later.json() == {"recovered": 0}

    async def test_resend_sends_the_same_message_again(self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription) -> None:
        await create_api_key_account(client, project, await stripe_config(client, project), "sk_live_resent")
        delivered = await settled(client, project, subscription, "delivered")
        response = await client.post(
            f"/webhook_subscriptions/{subscription.id}/messages/{delivered['id']}/resend", headers=project.headers
        )
        assert response.status_code == 202 and response.json()["status"] == "pending"
        await eventually(lambda: len(subscription.endpoint.delivered()) == 2)
        first, again = subscription.endpoint.delivered()
        assert first.id == again.id == delivered["id"] and first.body == again.body
        verify_both(subscription.secret, again)
        missing = await client.post(
            f"/webhook_subscriptions/{subscription.id}/messages/msg_00000000-0000-4000-8000-000000000000/resend", headers=project.headers
        )
        assert missing.status_code == 404 and missing.json()["error"]["slug"] == "WebhookMessage_ResourceNotFound"

    async def test_redirects_are_not_followed(self, client: httpx.AsyncClient, project: ProjectWithKey, receiver: Receiver) -> None:
        target = receiver.endpoint()
        endpoint = receiver.endpoint(then=307)
        endpoint.redirect_to = target.url
        subscription = await subscribe(client, project, endpoint)
        await create_api_key_account(client, project, await stripe_config(client, project), "sk_live_redirected")
        await eventually(lambda: len(endpoint.deliveries) >= 1)
        detail = await message(client, project, subscription, (await messages(client, project, subscription))[0]["id"])
        await client.delete(f"/webhook_subscriptions/{subscription.id}", headers=project.headers)
        assert detail["attempts"][0]["status_code"] == 307 and not detail["attempts"][0]["succeeded"]
        assert target.deliveries == []


class TestStopping:
    async def test_a_deleted_subscription_stops_receiving_at_once(
        self, client: httpx.AsyncClient, project: ProjectWithKey, receiver: Receiver
    ) -> None:
        endpoint = receiver.endpoint(then=500)
        subscription = await subscribe(client, project, endpoint)
        stripe = await stripe_config(client, project)
        await create_api_key_account(client, project, stripe, "sk_live_before_delete")
        # "pending" is also the status before the first attempt: wait until that attempt is recorded,
        # so the delete lands between attempts (retries come a second apart) and not during one.
        first = await settled(client, project, subscription, "pending")
        while not first["attempts"]:
            await asyncio.sleep(0.05)
            first = await message(client, project, subscription, first["id"])
        assert (await client.delete(f"/webhook_subscriptions/{subscription.id}", headers=project.headers)).status_code == 200
        deleted_at = time.monotonic()
        await create_api_key_account(client, project, stripe, "sk_live_after_delete")
        await asyncio.sleep(3)  # past every retry the schedule would have made
        assert [d for d in endpoint.deliveries if d.received_at > deleted_at] == []

    async def test_five_days_of_failures_disable_the_subscription(
        self, client: httpx.AsyncClient, project: ProjectWithKey, receiver: Receiver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        endpoint = receiver.endpoint(then=500)
        subscription = await subscribe(client, project, endpoint)
        async with unit_of_work(sessionmaker) as session:
            await session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id == subscription.id)
                .values(failing_since=utcnow() - timedelta(days=5, minutes=1))
            )
        stripe = await stripe_config(client, project)
        await create_api_key_account(client, project, stripe, "sk_live_the_last_straw")
        failed = await settled(client, project, subscription, "failed")
        assert failed["attempt_count"] == 1
        shown = (await client.get(f"/webhook_subscriptions/{subscription.id}", headers=project.headers)).json()
        assert shown["status"] == "DISABLED" and shown["disabled_at"]
        assert "failed for 5 days" in shown["disabled_reason"] and "HTTP 500" in shown["disabled_reason"]
        await create_api_key_account(client, project, stripe, "sk_live_while_disabled")
        await asyncio.sleep(2)
        assert len(endpoint.deliveries) == 1 and len(await messages(client, project, subscription)) == 1
        refused = await client.post(f"/webhook_subscriptions/{subscription.id}/messages/{failed['id']}/resend", headers=project.headers)
        assert refused.status_code == 409 and refused.headers["x-should-retry"] == "false"

        endpoint.then = 200
        on = await client.patch(f"/webhook_subscriptions/{subscription.id}", json={"enabled": True}, headers=project.headers)
        assert on.json()["status"] == "ENABLED"
        recovered = await client.post(
            f"/webhook_subscriptions/{subscription.id}/recover", json={"since": failed["created_at"]}, headers=project.headers
        )
        assert recovered.json() == {"recovered": 1}
        await eventually(lambda: endpoint.delivered_ids() == {failed["id"]})
        async with unit_of_work(sessionmaker, read_only=True) as session:
            row = await session.scalar(select(WebhookSubscription).where(WebhookSubscription.id == subscription.id))
        assert row is not None and row.failing_since is None


class TestRotation:
    async def test_the_old_secret_signs_beside_the_new_one_until_it_lapses(
        self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        endpoint = subscription.endpoint
        new = (await client.post(f"/webhook_subscriptions/{subscription.id}/rotate_secret", headers=project.headers)).json()["secret"]
        stripe = await stripe_config(client, project)
        await create_api_key_account(client, project, stripe, "sk_live_rotated")
        await eventually(lambda: len(endpoint.delivered()) == 1)
        during = endpoint.delivered()[0]
        verify_both(subscription.secret, during)
        verify_both(new, during)
        assert len(during.headers["webhook-signature"].split(" ")) == 4

        async with unit_of_work(sessionmaker) as session:
            row = await session.scalar(select(WebhookSubscription).where(WebhookSubscription.id == subscription.id))
            assert row is not None
            assert await signing.signing_secrets(session, row) == [new, subscription.secret]
            lapsed = (utcnow() - timedelta(seconds=1)).isoformat()
            await signing.seal(session, row, new, [{"secret": subscription.secret, "expires_at": lapsed}])
        await create_api_key_account(client, project, stripe, "sk_live_after_the_overlap")
        await eventually(lambda: len(endpoint.delivered()) == 2)
        after = endpoint.delivered()[1]
        verify_both(new, after)
        assert rejected_by_both(subscription.secret, after)
        assert len(after.headers["webhook-signature"].split(" ")) == 2

    async def test_rotations_in_a_row_keep_only_the_newest_replaced_secrets_signing(
        self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        rotated = [
            (await client.post(f"/webhook_subscriptions/{subscription.id}/rotate_secret", headers=project.headers)).json()["secret"]
            for _ in range(signing.MAX_PREVIOUS_SECRETS + 2)
        ]
        async with unit_of_work(sessionmaker, read_only=True) as session:
            row = await session.scalar(select(WebhookSubscription).where(WebhookSubscription.id == subscription.id))
            assert row is not None
            secrets_ = await signing.signing_secrets(session, row)
        # The current one, then the newest replaced ones; the original and the first rotation stopped.
        assert secrets_ == [rotated[-1], *rotated[-1 - signing.MAX_PREVIOUS_SECRETS : -1]]
        assert subscription.secret not in secrets_


class TestMessageLog:
    async def test_messages_are_listed_newest_first_and_paginated(
        self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        sent = []
        for number in range(5):
            async with unit_of_work(sessionmaker) as session:
                sent.append(await events.emit(session, project.id, DELETED, {"id": f"ca_{number:012d}"}))
        await eventually(lambda: len(subscription.endpoint.delivered()) == 5)
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get(f"/webhook_subscriptions/{subscription.id}/messages", params=params, headers=project.headers)).json()
            seen += [item["id"] for item in page["items"]]
            assert page["total_items"] == 5 and page["total_pages"] == 3
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == list(reversed(sent))
        deadline = time.monotonic() + 10
        while len(await messages(client, project, subscription, status="delivered")) < 5:
            assert time.monotonic() < deadline, "the deliveries were never recorded"
            await asyncio.sleep(0.1)
        async with unit_of_work(sessionmaker, read_only=True) as session:
            statuses = (await session.scalars(select(WebhookMessage.status).where(WebhookMessage.subscription_id == subscription.id))).all()
        assert statuses == ["delivered"] * 5

    async def test_an_unknown_message_is_a_404(self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription) -> None:
        response = await client.get(
            f"/webhook_subscriptions/{subscription.id}/messages/msg_00000000-0000-4000-8000-000000000000", headers=project.headers
        )
        assert response.status_code == 404


class TestCascades:
    async def test_deleting_an_auth_config_announces_each_of_its_accounts(
        self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription
    ) -> None:
        stripe = await stripe_config(client, project)
        accounts = {await create_api_key_account(client, project, stripe, f"sk_live_cascade_{index}") for index in range(2)}
        other = await create_api_key_account(client, project, await stripe_config(client, project), "sk_live_stays")
        assert (await client.delete(f"/auth_configs/{stripe}", headers=project.headers)).status_code == 200

        endpoint = subscription.endpoint
        await eventually(lambda: len(endpoint.of_type(DELETED)) == 2, what="a deleted event per account")
        announced = {delivery.json()["data"]["id"] for delivery in endpoint.of_type(DELETED)}
        assert announced == accounts and other not in announced
        for account in accounts:
            assert (await client.get(f"/connected_accounts/{account}", headers=project.headers)).status_code == 404
        assert (await client.get(f"/connected_accounts/{other}", headers=project.headers)).status_code == 200

    async def test_without_a_subscription_the_accounts_go_all_the_same(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        stripe = await stripe_config(client, project)
        account = await create_api_key_account(client, project, stripe, "sk_live_quietly_gone")
        assert (await client.delete(f"/auth_configs/{stripe}", headers=project.headers)).status_code == 200
        assert (await client.get(f"/connected_accounts/{account}", headers=project.headers)).status_code == 404
