"""Delivering a webhook message: the outbox handler for `events.DELIVERY` jobs.

Every attempt is signed afresh (its timestamp is part of what is signed), POSTed to an address
checked just before connecting, with a timeout, without following redirects and reading at most
a little of the answer. Any 2xx is a success; anything else, or no answer, is a failure retried
on the configured schedule. The attempt, the message's new state and the job's fate are written
in one transaction. A subscription whose deliveries have failed without a single success for
`webhook_disable_after_seconds` is disabled, with the reason.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import yarl
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry import __version__, outbox
from tenantry.config import Settings
from tenantry.db import unit_of_work
from tenantry.kit import ids
from tenantry.kit.coalesce import Coalesced
from tenantry.kit.time import iso, utcnow
from tenantry.models import WebhookMessage, WebhookSubscription
from tenantry.outbox import Job, Outcome
from tenantry.webhooks import events, service, signing, urls
from tenantry.webhooks.repository import DeliveryRepository

# How much of a receiver's answer is read and kept; the rest is never downloaded.
RESPONSE_BODY_LIMIT = 1024
ERROR_LENGTH = 500
# How long a receiver's checked addresses are reused before its name is looked up and checked again.
RESOLVED_ADDRESSES_KEPT_SECONDS = 10
# What the delivery log says of an attempt whose worker stopped before recording it.
ABANDONED_ATTEMPT = (
    "Outcome unknown: the worker sending this attempt stopped before recording it; "
    "the receiver may have received the event (delivery is at least once, deduplicate on webhook-id)"
)


def _described(failure: Exception) -> str:
    if isinstance(failure, aiohttp.ClientConnectorError):
        # Its text names the host and port, never the path or query (which may carry a token).
        return f"Could not connect: {failure.os_error.strerror or failure.os_error}"
    if isinstance(failure, aiohttp.ServerDisconnectedError):
        return "The receiver closed the connection without answering"
    text = str(failure)
    return f"{type(failure).__name__}: {text}" if text else type(failure).__name__


@dataclass(frozen=True)
class AttemptResult:
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    response_body: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def summary(self) -> str:
        return f"HTTP {self.status_code}" if self.status_code is not None else (self.error or "no answer")


@dataclass(frozen=True)
class Attempted:
    """What one attempt learned: the note its outcome hands to `Deliverer.record_all`."""

    message_id: str
    project_id: str
    subscription_id: str
    # Whether the subscription was failing when the attempt began (a success then clears it).
    was_failing: bool
    result: AttemptResult
    # Set when an earlier claim of this job was abandoned, with the moment this one began.
    abandoned_at: datetime | None
    retry_at: datetime | None = None


# A claimed message, its subscription and the secrets that sign it.
Loaded = tuple[WebhookMessage, WebhookSubscription, list[str]]


async def _read_some(response: aiohttp.ClientResponse) -> tuple[bytes, bool]:
    """The start of the answer, and whether that was all of it."""
    received = bytearray()
    while len(received) < RESPONSE_BODY_LIMIT:
        chunk = await response.content.read(RESPONSE_BODY_LIMIT - len(received))
        if not chunk:
            return bytes(received), True
        received += chunk
    return bytes(received), response.content.at_eof()


class Deliverer:
    """The handler the outbox worker calls for each due delivery (an outbox.RecordingHandler)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessionmaker = sessionmaker
        self._delays = settings.webhook_retry_delays
        self._timeout = settings.webhook_timeout_seconds
        self._disable_after = timedelta(seconds=settings.webhook_disable_after_seconds)
        self._session: aiohttp.ClientSession | None = None
        # The jobs of one claim start together, so their messages are read in one query.
        self._deliveries: Coalesced[str, Loaded] = Coalesced(self._load_many)

    def _client(self) -> aiohttp.ClientSession:
        # aiohttp rather than httpx for the CPU per request (docs/benchmarks.md §8); made on first
        # use, inside the event loop that delivers. Keep-alive connections are pooled per receiver.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=0, resolver=urls.CheckingResolver(), ttl_dns_cache=RESOLVED_ADDRESSES_KEPT_SECONDS
                ),
                # A receiver's cookies are not sent back, to it or to anyone else.
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": f"Tenantry-Webhooks/{__version__}"},
                timeout=aiohttp.ClientTimeout(total=None),
                trust_env=False,
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __call__(self, job: Job) -> Outcome:
        loaded = await self._deliveries.get(str(job.payload["message_id"]))
        if loaded is None:
            return Outcome.done()  # its project was destroyed
        message, subscription, secrets = loaded
        # A delivery queued before its subscription was deleted or disabled is not sent.
        if subscription.deleted_at is not None or subscription.disabled_at is not None:
            return Outcome.done()
        result = await self._attempt(subscription.webhook_url, subscription.version, message.id, message.payload, secrets)
        note = Attempted(
            message_id=message.id,
            project_id=message.project_id,
            subscription_id=subscription.id,
            was_failing=subscription.failing_since is not None,
            result=result,
            abandoned_at=utcnow() if job.reclaimed else None,
        )
        if result.succeeded:
            return Outcome.done(note=note)
        if job.attempts < len(self._delays):
            retry_at = utcnow() + timedelta(seconds=self._delays[job.attempts])
            return Outcome.retry(retry_at, result.summary(), note=replace(note, retry_at=retry_at))
        return Outcome.done(note=note)

    async def _load_many(self, message_ids: list[str]) -> dict[str, Loaded]:
        """The deliveries of one claim, read together: one query, and each subscription's secrets opened once."""
        async with unit_of_work(self._sessionmaker, read_only=True) as session:
            found = await DeliveryRepository(session).load_many(message_ids)
            secrets: dict[str, list[str]] = {}
            for _, subscription in found.values():
                if subscription.id not in secrets and subscription.deleted_at is None and subscription.disabled_at is None:
                    secrets[subscription.id] = await signing.signing_secrets(session, subscription)
        return {
            message_id: (message, subscription, secrets.get(subscription.id, []))
            for message_id, (message, subscription) in found.items()
        }

    async def _attempt(self, url: str, version: str, message_id: str, payload: str, secrets: list[str]) -> AttemptResult:
        attempted_at = utcnow()
        timestamp = str(int(attempted_at.timestamp()))
        body = payload.encode()
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": signing.signature_header(secrets, message_id, timestamp, body),
            "x-composio-webhook-version": version,
        }
        started = time.perf_counter()
        status_code: int | None = None
        excerpt: bytes | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(self._timeout):
                urls.check_before_sending(url)
                response = await self._client().post(
                    yarl.URL(url, encoded=True), data=body, headers=headers, allow_redirects=False
                )
                complete = False
                try:
                    status_code = response.status
                    excerpt, complete = await _read_some(response)
                finally:
                    # A connection whose answer was not read to its end cannot carry the next delivery.
                    response.release() if complete else response.close()
        except urls.UnsafeUrl as unsafe:
            error = f"Not sent: the URL {unsafe}"
        except TimeoutError:
            error = f"No answer within {self._timeout:g} s"
        except (aiohttp.ClientError, ValueError) as failure:
            error = _described(failure)
        latency_ms = round((time.perf_counter() - started) * 1000)
        return AttemptResult(
            attempted_at=attempted_at,
            status_code=status_code,
            latency_ms=latency_ms,
            response_body=excerpt.decode("utf-8", errors="replace") if excerpt is not None else None,
            error=error[:ERROR_LENGTH] if error else None,
        )

    async def record_all(self, session: AsyncSession, notes: list[Attempted]) -> None:
        """Writes the attempts of the deliveries settled together; successes cost three statements
        whatever their number, and a subscription that was not failing is not touched."""
        repository = DeliveryRepository(session)
        rows: list[dict[str, Any]] = []
        for note in notes:
            if note.abandoned_at is not None:
                # Delivery is at least once: the worker that held this message before stopped before
                # writing what became of its attempt, which the receiver may well have received.
                rows.append(
                    _attempt_row(
                        note,
                        succeeded=False,
                        # It happened before this reclaim; when exactly, nobody wrote down.
                        attempted_at=min(note.abandoned_at, note.result.attempted_at) - timedelta(milliseconds=1),
                        error=ABANDONED_ATTEMPT,
                    )
                )
            result = note.result
            rows.append(
                _attempt_row(
                    note,
                    succeeded=result.succeeded,
                    attempted_at=result.attempted_at,
                    status_code=result.status_code,
                    latency_ms=result.latency_ms,
                    response_body=result.response_body,
                    error=result.error,
                )
            )
        await repository.add_attempts(rows)
        delivered = [note for note in notes if note.result.succeeded]
        await repository.mark_delivered([(note.message_id, note.result.attempted_at) for note in delivered])
        for subscription_id in sorted({note.subscription_id for note in delivered if note.was_failing}):
            await repository.clear_failing(subscription_id)
        for note in notes:
            if not note.result.succeeded:
                await self._record_failure(session, note)

    async def _record_failure(self, session: AsyncSession, note: Attempted) -> None:
        repository = DeliveryRepository(session)
        loaded = await repository.load_for_update(note.message_id)
        if loaded is None:
            return
        message, subscription = loaded
        result, retry_at = note.result, note.retry_at
        message.attempts += 1
        message.last_attempt_at = result.attempted_at
        await repository.mark_failing(note.subscription_id, result.attempted_at)
        reason = (
            f"Every delivery failed for {self._disable_after.total_seconds() / 86400:g} days "
            f"(no success since {iso(subscription.failing_since or result.attempted_at)}); "
            f"the last attempt: {result.summary()}"
        )
        disabled_now = await repository.disable_if_failing_since(
            note.subscription_id, result.attempted_at - self._disable_after, result.attempted_at, reason[:500]
        )
        # A stopped subscription gets no retry, whether it stopped now or while this attempt was in flight.
        stopped = disabled_now or subscription.deleted_at is not None or subscription.disabled_at is not None
        message.status = "failed" if stopped or retry_at is None else "pending"
        message.next_attempt_at = None if stopped else retry_at
        await session.flush()
        if stopped:
            await outbox.cancel(session, events.DELIVERY, [message.id])
        if disabled_now:
            await service.stop_deliveries(session, subscription)


def _attempt_row(note: Attempted, *, succeeded: bool, attempted_at: datetime, **answer: Any) -> dict[str, Any]:
    return {
        "id": f"atmpt_{ids.ulid()}",
        "message_id": note.message_id,
        "project_id": note.project_id,
        "attempted_at": attempted_at,
        "succeeded": succeeded,
        "status_code": None,
        "latency_ms": None,
        "response_body": None,
        "error": None,
        **answer,
    }
