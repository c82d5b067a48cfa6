"""The subscriptions API (reference §6.1) over real HTTP: create, read, change, rotate, delete."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.models import WebhookSubscription
from tests.factories import Org, ProjectWithKey, create_project, without_request_id
from tests.webhooks.conftest import ALL_EVENTS, Subscription, subscribe
from tests.webhooks.receiver import Endpoint, Receiver

EXPIRED = "composio.connected_account.expired"


class TestCreate:
    async def test_the_secret_is_whole_once_then_masked(self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription) -> None:
        created = subscription.body
        assert created["id"].startswith("ws_") and created["version"] == "V3" and created["status"] == "ENABLED"
        assert created["secret"].startswith("whsec_") and len(created["secret"]) == 50
        assert created["enabled_events"] == ALL_EVENTS and created["webhook_url"] == subscription.endpoint.url
        fetched = (await client.get(f"/webhook_subscriptions/{subscription.id}", headers=project.headers)).json()
        assert fetched["secret"] == f"whsec_**{subscription.secret[-4:]}"
        assert {key: value for key, value in fetched.items() if key != "secret"} == {
            key: value for key, value in created.items() if key != "secret"
        }
        listed = (await client.get("/webhook_subscriptions", headers=project.headers)).json()
        assert listed["total_items"] == 1 and listed["items"][0]["id"] == subscription.id
        assert subscription.secret not in str(listed)

    async def test_the_secret_is_not_stored_in_plaintext(
        self, subscription: Subscription, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with unit_of_work(sessionmaker, read_only=True) as session:
            row = await session.scalar(select(WebhookSubscription).where(WebhookSubscription.id == subscription.id))
        assert row is not None
        secret_body = subscription.secret.removeprefix("whsec_")
        assert subscription.secret.encode() not in row.secrets and secret_body.encode() not in row.secrets

    async def test_a_project_has_one_subscription(self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription) -> None:
        again = await client.post(
            "/webhook_subscriptions", json={"webhook_url": subscription.endpoint.url, "enabled_events": []}, headers=project.headers
        )
        assert again.status_code == 409 and again.headers["x-should-retry"] == "false"
        assert again.json()["error"]["slug"] == "WebhookSubscription_AlreadyExists"

    async def test_a_deleted_subscription_frees_the_place(
        self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription, receiver: Receiver
    ) -> None:
        deleted = await client.delete(f"/webhook_subscriptions/{subscription.id}", headers=project.headers)
        assert deleted.status_code == 200 and deleted.json() == {"success": True}
        assert (await client.get(f"/webhook_subscriptions/{subscription.id}", headers=project.headers)).status_code == 404
        assert (await client.get("/webhook_subscriptions", headers=project.headers)).json()["items"] == []
        replacement = await subscribe(client, project, receiver.endpoint(), [EXPIRED])
        assert replacement.id != subscription.id

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"webhook_url": "ftp://example.com/hook", "enabled_events": []}, "webhook_url"),
            ({"webhook_url": "https://user:pw@example.com/hook", "enabled_events": []}, "webhook_url"),
            ({"webhook_url": "https://example.com/hook", "enabled_events": ["composio.nothing.like.this"]}, "enabled_events[0]"),
            ({"webhook_url": "https://example.com/hook", "enabled_events": [EXPIRED], "version": "V2"}, "enabled_events[0]"),
            ({"webhook_url": "https://example.com/hook", "enabled_events": [], "version": "V4"}, "version"),
            ({"enabled_events": []}, "webhook_url"),
        ],
    )
    async def test_invalid_bodies_name_the_field(
        self, client: httpx.AsyncClient, project: ProjectWithKey, body: dict[str, object], field: str
    ) -> None:
        response = await client.post("/webhook_subscriptions", json=body, headers=project.headers)
        assert response.status_code == 400, response.text
        assert any(error.startswith(f"{field}:") for error in response.json()["error"]["errors"]), response.text

    async def test_both_prefixes(self, server, project: ProjectWithKey, endpoint: Endpoint) -> None:  # type: ignore[no-untyped-def]
        async with httpx.AsyncClient(base_url=f"{server.base_url}/api/v3") as v3:
            created = await v3.post("/webhook_subscriptions", json={"webhook_url": endpoint.url, "enabled_events": []}, headers=project.headers)
            assert created.status_code == 201
            assert (await v3.get(f"/webhook_subscriptions/{created.json()['id']}", headers=project.headers)).status_code == 200


class TestEventTypes:
    async def test_every_type_with_description_and_versions(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await client.get("/webhook_subscriptions/event_types", headers=project.headers)
        assert response.status_code == 200
        items = response.json()["items"]
        assert [item["event_type"] for item in items] == ALL_EVENTS
        assert EXPIRED in ALL_EVENTS
        for item in items:
            assert item["description"] and item["supported_versions"] == ["V3"]


class TestUpdate:
    async def test_partial_changes(self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription, receiver: Receiver) -> None:
        elsewhere = receiver.endpoint()
        response = await client.patch(
            f"/webhook_subscriptions/{subscription.id}", json={"webhook_url": elsewhere.url}, headers=project.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["webhook_url"] == elsewhere.url and response.json()["enabled_events"] == ALL_EVENTS
        response = await client.patch(f"/webhook_subscriptions/{subscription.id}", json={"enabled_events": [EXPIRED, EXPIRED]}, headers=project.headers)
        assert response.json()["enabled_events"] == [EXPIRED]
        assert response.json()["updated_at"] >= subscription.body["updated_at"]

    async def test_an_empty_patch_is_refused(self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription) -> None:
        response = await client.patch(f"/webhook_subscriptions/{subscription.id}", json={}, headers=project.headers)
        assert response.status_code == 400

    async def test_disable_and_enable(self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription) -> None:
        off = (await client.patch(f"/webhook_subscriptions/{subscription.id}", json={"enabled": False}, headers=project.headers)).json()
        assert off["status"] == "DISABLED" and "enabled: false" in off["disabled_reason"] and off["disabled_at"]
        on = (await client.patch(f"/webhook_subscriptions/{subscription.id}", json={"enabled": True}, headers=project.headers)).json()
        assert on["status"] == "ENABLED" and on["disabled_reason"] is None


class TestRotate:
    async def test_rotation_shows_the_new_secret_once(self, client: httpx.AsyncClient, project: ProjectWithKey, subscription: Subscription) -> None:
        response = await client.post(f"/webhook_subscriptions/{subscription.id}/rotate_secret", headers=project.headers)
        assert response.status_code == 200
        rotated = response.json()
        assert rotated["id"] == subscription.id and rotated["secret"].startswith("whsec_") and rotated["secret"] != subscription.secret
        assert rotated["previous_secret_expires_at"] > subscription.body["created_at"]
        fetched = (await client.get(f"/webhook_subscriptions/{subscription.id}", headers=project.headers)).json()
        assert fetched["secret"] == f"whsec_**{rotated['secret'][-4:]}"


class TestIsolation:
    async def test_another_projects_key_sees_nothing(
        self, client: httpx.AsyncClient, org: Org, other_org: Org, subscription: Subscription, project: ProjectWithKey
    ) -> None:
        for intruder in (await create_project(client, org), await create_project(client, other_org)):
            listed = (await client.get("/webhook_subscriptions", headers=intruder.headers)).json()
            assert listed["items"] == [] and subscription.id not in str(listed)
            for method, path, body in [
                ("GET", f"/webhook_subscriptions/{subscription.id}", None),
                ("PATCH", f"/webhook_subscriptions/{subscription.id}", {"enabled_events": []}),
                ("POST", f"/webhook_subscriptions/{subscription.id}/rotate_secret", None),
                ("GET", f"/webhook_subscriptions/{subscription.id}/messages", None),
                ("POST", f"/webhook_subscriptions/{subscription.id}/recover", {"since": "2026-01-01T00:00:00Z"}),
                ("DELETE", f"/webhook_subscriptions/{subscription.id}", None),
            ]:
                stolen = await client.request(method, path, json=body, headers=intruder.headers)
                missing = await client.request(method, path.replace(subscription.id, "ws_000000000000"), json=body, headers=intruder.headers)
                assert stolen.status_code == 404, f"{method} {path}: {stolen.status_code}"
                assert without_request_id(stolen.json()) == without_request_id(missing.json())
        mine = (await client.get(f"/webhook_subscriptions/{subscription.id}", headers=project.headers)).json()
        assert mine["enabled_events"] == ALL_EVENTS and mine["secret"].endswith(subscription.secret[-4:])
