from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tenantry.webhooks import events
from tests.factories import ProjectWithKey
from tests.webhooks.receiver import Endpoint, Receiver, start_receiver

ALL_EVENTS = [event.name for event in events.CATALOG]


@dataclass
class Subscription:
    id: str
    secret: str
    endpoint: Endpoint
    body: dict[str, Any]


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    receiver, server = start_receiver()
    yield receiver
    server.should_exit = True


async def subscribe(
    client: httpx.AsyncClient, project: ProjectWithKey, endpoint: Endpoint, enabled_events: list[str] | None = None
) -> Subscription:
    body = {"webhook_url": endpoint.url, "enabled_events": ALL_EVENTS if enabled_events is None else enabled_events}
    response = await client.post("/webhook_subscriptions", json=body, headers=project.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    return Subscription(created["id"], created["secret"], endpoint, created)


@pytest.fixture
def endpoint(receiver: Receiver) -> Endpoint:
    return receiver.endpoint()


@pytest.fixture
async def subscription(client: httpx.AsyncClient, project: ProjectWithKey, endpoint: Endpoint) -> Subscription:
    return await subscribe(client, project, endpoint)
