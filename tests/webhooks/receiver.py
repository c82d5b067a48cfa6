"""A real webhook receiver on loopback, and the two verifiers a receiver would use.

Each test takes its own endpoint (a path on the one receiver) with a script of answers: a list of
status codes for the first requests, then `then` for every later one, or `hold` to keep requests
waiting until released. Every request is recorded with what it was answered.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import standardwebhooks
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fixtures.server import free_port

# What a failing endpoint answers: longer than the server keeps, to see it truncated.
FAILURE_BODY = "receiver says no. " * 200


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    answered: int
    received_at: float

    @property
    def ok(self) -> bool:
        return 200 <= self.answered < 300

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class Endpoint:
    name: str
    base_url: str
    script: list[int] = field(default_factory=list)
    then: int = 200
    hold: bool = False
    redirect_to: str | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    # Requests that arrived, answered or not (a held request is recorded only once answered).
    arrivals: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.base_url}/hooks/{self.name}"

    def delivered(self) -> list[Delivery]:
        """Requests answered with a 2xx, in arrival order."""
        return [delivery for delivery in list(self.deliveries) if delivery.ok]

    def delivered_ids(self) -> set[str]:
        return {delivery.id for delivery in self.delivered()}

    def of_type(self, event_type: str) -> list[Delivery]:
        return [delivery for delivery in self.delivered() if delivery.json()["type"] == event_type]


class Receiver:
    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        self.base_url = ""

    def endpoint(self, *script: int, then: int = 200, hold: bool = False) -> Endpoint:
        name = secrets.token_hex(6)
        self.endpoints[name] = Endpoint(name, self.base_url, list(script), then, hold)
        return self.endpoints[name]

    async def _handle(self, request: Request) -> Response:
        endpoint = self.endpoints.get(request.path_params["name"])
        if endpoint is None:
            return PlainTextResponse("no such endpoint", status_code=404)
        body = await request.body()
        endpoint.arrivals.append(request.headers.get("webhook-id", ""))
        held = endpoint.hold
        while endpoint.hold:
            await asyncio.sleep(0.02)
        status = 503 if held else (endpoint.script.pop(0) if endpoint.script else endpoint.then)
        endpoint.deliveries.append(Delivery(dict(request.headers), body, status, time.monotonic()))
        if endpoint.redirect_to and status in (301, 302, 303, 307, 308):
            return RedirectResponse(endpoint.redirect_to, status_code=status)
        return PlainTextResponse("thanks" if status < 300 else FAILURE_BODY, status_code=status)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hooks/{name}", self._handle, methods=["POST"])])


def start_receiver() -> tuple[Receiver, uvicorn.Server]:
    receiver = Receiver()
    port = free_port()
    receiver.base_url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(receiver.app(), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the webhook receiver did not start")
        time.sleep(0.02)
    return receiver, server


# --- verifying, as receivers do --------------------------------------------------------------------


class SignatureRejected(Exception):
    pass


def composio_verify(secret: str, delivery: Delivery, tolerance: int = 300) -> None:
    """Composio's SDK verifier: HMAC-SHA256 keyed with the secret string's own bytes over
    `id.timestamp.body`, accepting any `v1,` entry of the space-separated header."""
    headers = delivery.headers
    if abs(time.time() - int(headers["webhook-timestamp"])) > tolerance:
        raise SignatureRejected("timestamp outside tolerance")
    to_sign = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{delivery.body.decode()}"
    expected = base64.b64encode(hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).digest()).decode()
    offered = [part[3:] for part in headers["webhook-signature"].split(" ") if part.startswith("v1,")]
    if not any(hmac.compare_digest(candidate, expected) for candidate in offered):
        raise SignatureRejected("no matching signature")


def standard_verify(secret: str, delivery: Delivery) -> None:
    """The stock Standard Webhooks library."""
    try:
        standardwebhooks.Webhook(secret).verify(delivery.body, delivery.headers)
    except standardwebhooks.WebhookVerificationError as exc:
        raise SignatureRejected(str(exc)) from exc


def verify_both(secret: str, delivery: Delivery) -> None:
    composio_verify(secret, delivery)
    standard_verify(secret, delivery)


def rejected_by_both(secret: str, delivery: Delivery) -> bool:
    for verify in (composio_verify, standard_verify):
        try:
            verify(secret, delivery)
        except SignatureRejected:
            continue
        return False
    return True


async def eventually(check: Callable[[], bool], timeout: float = 20.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
