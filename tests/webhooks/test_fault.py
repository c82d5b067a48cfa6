"""The fault test: deliveries pending and in flight, the server SIGKILLed and started again.

The server runs on a database of its own, so no other test server's worker can deliver in its
place: what arrives after the restart was recovered by the restarted process from the outbox.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tenantry.db import create_engine, create_sessionmaker
from tenantry.webhooks import events
from tests.factories import (
    create_api_key_account,
    create_auth_config,
    create_org,
    create_project,
)
from tests.fixtures.database import fresh_database
from tests.fixtures.server import Server, start_server
from tests.webhooks.conftest import subscribe
from tests.webhooks.receiver import Receiver, eventually, verify_both

EVENTS = 20
CONCURRENCY = 4


@pytest.fixture
def own_database(tmp_path: Path, server_env: dict[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    (tmp_path / "database").mkdir()
    database = fresh_database(tmp_path / "database")
    url = next(database)
    env = {
        **server_env,
        "TENANTRY_DATABASE_URL": url,
        "TENANTRY_DATA_DIR": str(tmp_path / "data"),
        # A claim of the killed process lapses quickly; four deliveries in flight at a time.
        "TENANTRY_OUTBOX_LEASE_SECONDS": "2",
        "TENANTRY_OUTBOX_CONCURRENCY": str(CONCURRENCY),
    }
    yield url, env
    database.close()


def sigkill(server: Server) -> None:
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)


class TestCrash:
    async def test_every_event_is_delivered_at_least_once_after_a_sigkill(
        self, own_database: tuple[str, dict[str, str]], receiver: Receiver, tmp_path: Path
    ) -> None:
        url, env = own_database
        engine = create_engine(url)
        try:
            org = await create_org(create_sessionmaker(engine))
        finally:
            await engine.dispose()
        endpoint = receiver.endpoint(hold=True)

        first = start_server(env, tmp_path / "first.log")
        try:
            async with httpx.AsyncClient(base_url=f"{first.base_url}/api/v3.1", timeout=30) as client:
                project = await create_project(client, org)
                subscription = await subscribe(client, project, endpoint, [events.CONNECTED_ACCOUNT_ACTIVE])
                stripe = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
                for number in range(EVENTS):
                    await create_api_key_account(client, project, stripe, f"sk_live_fault_{number}", user_id=f"user-{number}")
                # Every delivery slot of the worker is now waiting on the receiver; the rest are queued.
                await eventually(lambda: len(endpoint.arrivals) >= CONCURRENCY, what="deliveries in flight")
        finally:
            sigkill(first)
        in_flight = set(endpoint.arrivals)
        assert first.process.returncode == -signal.SIGKILL
        endpoint.hold = False

        second = start_server(env, tmp_path / "second.log")
        try:
            async with httpx.AsyncClient(base_url=f"{second.base_url}/api/v3.1", timeout=30) as client:
                listed = await client.get(
                    f"/webhook_subscriptions/{subscription.id}/messages", params={"limit": 100}, headers=project.headers
                )
                message_ids = {item["id"] for item in listed.json()["items"]}
                assert len(message_ids) == EVENTS and in_flight <= message_ids
                await eventually(lambda: endpoint.delivered_ids() == message_ids, timeout=60, what="every event")

                # The receiver deduplicates on webhook-id: one event per id, whatever was sent twice.
                first_seen = {}
                for delivery in endpoint.delivered():
                    verify_both(subscription.secret, delivery)
                    first_seen.setdefault(delivery.id, delivery.json())
                assert sorted(first_seen) == sorted(message_ids)
                assert len({body["data"]["id"] for body in first_seen.values()}) == EVENTS

                async def all_recorded() -> bool:
                    response = await client.get(
                        f"/webhook_subscriptions/{subscription.id}/messages",
                        params={"limit": 100, "status": "delivered"},
                        headers=project.headers,
                    )
                    return len(response.json()["items"]) == EVENTS

                for _ in range(100):
                    if await all_recorded():
                        break
                    await asyncio.sleep(0.1)
                assert await all_recorded()
        finally:
            second.stop()
        assert "Traceback" not in second.log(), second.log()


class TestRecoveryTime:
    async def test_a_restarted_server_delivers_a_killed_ones_claims_within_seconds(
        self, own_database: tuple[str, dict[str, str]], receiver: Receiver, tmp_path: Path
    ) -> None:
        url, env = own_database
        # The default lease: the killed process's claims are not left to a short test setting.
        env = {name: value for name, value in env.items() if name != "TENANTRY_OUTBOX_LEASE_SECONDS"}
        engine = create_engine(url)
        try:
            org = await create_org(create_sessionmaker(engine))
        finally:
            await engine.dispose()
        endpoint = receiver.endpoint(hold=True)

        first = start_server(env, tmp_path / "first.log")
        try:
            async with httpx.AsyncClient(base_url=f"{first.base_url}/api/v3.1", timeout=30) as client:
                project = await create_project(client, org)
                subscription = await subscribe(client, project, endpoint, [events.CONNECTED_ACCOUNT_ACTIVE])
                stripe = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
                for number in range(EVENTS):
                    await create_api_key_account(client, project, stripe, f"sk_live_lease_{number}", user_id=f"user-{number}")
                await eventually(lambda: len(endpoint.arrivals) >= CONCURRENCY, what="deliveries in flight")
                # Longer than a lease: the running worker renews its claims, so nothing is sent twice yet.
                await asyncio.sleep(8)
                assert len(endpoint.arrivals) == CONCURRENCY, "a claim of a live worker lapsed"
        finally:
            sigkill(first)
        in_flight = set(endpoint.arrivals)
        endpoint.hold = False

        second = start_server(env, tmp_path / "second.log")
        restarted = asyncio.get_running_loop().time()
        try:
            async with httpx.AsyncClient(base_url=f"{second.base_url}/api/v3.1", timeout=30) as client:
                listed = await client.get(f"/webhook_subscriptions/{subscription.id}/messages", params={"limit": 100}, headers=project.headers)
                message_ids = {item["id"] for item in listed.json()["items"]}
                assert len(message_ids) == EVENTS
                await eventually(lambda: endpoint.delivered_ids() == message_ids, timeout=30, what="every event")
                assert asyncio.get_running_loop().time() - restarted < 10, "the killed worker's claims waited too long"

                # The attempts the killed process made and never recorded are in the delivery log.
                for message_id in in_flight:
                    async def recorded() -> list[dict[str, object]]:
                        detail = await client.get(f"/webhook_subscriptions/{subscription.id}/messages/{message_id}", headers=project.headers)
                        return list(detail.json()["attempts"])

                    for _ in range(100):
                        attempts = await recorded()
                        if any(attempt["succeeded"] for attempt in attempts):
                            break
                        await asyncio.sleep(0.1)
                    assert [attempt["succeeded"] for attempt in attempts] == [False, True], attempts
                    assert "stopped before recording" in str(attempts[0]["error"])
        finally:
            second.stop()
        assert "Traceback" not in second.log(), second.log()
