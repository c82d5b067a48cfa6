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
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import aiohttp
import yarl
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry import __version__, outbox
from tenantry.config import Settings
from tenantry.db import unit_of_work
from tenantry.kit import ids
from tenantry.kit.time import iso, utcnow
from tenantry.models import WebhookAttempt
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
    """The handler the outbox worker calls for each due delivery."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessionmaker = sessionmaker
        self._delays = settings.webhook_retry_delays
        self._timeout = settings.webhook_timeout_seconds
        self._disable_after = timedelta(seconds=settings.webhook_disable_after_seconds)
        self._session: aiohttp.ClientSession | None = None

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
        message_id = str(job.payload["message_id"])
        async with unit_of_work(self._sessionmaker, read_only=True) as session:
            loaded = await DeliveryRepository(session).load(message_id)
            if loaded is None:
                return Outcome.done()  # its project was destroyed
            message, subscription = loaded
            # A delivery queued before its subscription was deleted or disabled is not sent.
            if subscription.deleted_at is not None or subscription.disabled_at is not None:
                return Outcome.done()
            secrets = await signing.signing_secrets(session, subscription)
        result = await self._attempt(subscription.webhook_url, subscription.version, message.id, message.payload, secrets)
        failing = subscription.failing_since is not None
        abandoned_at = utcnow() if job.reclaimed else None
        record = partial(self._record, message.id, message.project_id, subscription.id, failing, result, abandoned_at)
        if result.succeeded:
            return Outcome.done(partial(record, None))
        if job.attempts < len(self._delays):
            retry_at = utcnow() + timedelta(seconds=self._delays[job.attempts])
            return Outcome.retry(retry_at, result.summary(), partial(record, retry_at))
        return Outcome.done(partial(record, None))

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

    async def _record(
        self,
        message_id: str,
        project_id: str,
        subscription_id: str,
        failing: bool,
        result: AttemptResult,
        abandoned_at: datetime | None,
        retry_at: datetime | None,
        session: AsyncSession,
    ) -> None:
        repository = DeliveryRepository(session)
        if abandoned_at is not None:
            # Delivery is at least once: the worker that held this message before stopped before
            # writing what became of its attempt, which the receiver may well have received.
            repository.add_attempt(
                WebhookAttempt(
                    id=f"atmpt_{ids.ulid()}",
                    message_id=message_id,
                    project_id=project_id,
                    # It happened before this reclaim; when exactly, nobody wrote down.
                    attempted_at=min(abandoned_at, result.attempted_at) - timedelta(milliseconds=1),
                    succeeded=False,
                    status_code=None,
                    latency_ms=None,
                    response_body=None,
                    error=ABANDONED_ATTEMPT,
                )
            )
        repository.add_attempt(
            WebhookAttempt(
                id=f"atmpt_{ids.ulid()}",
                message_id=message_id,
                project_id=project_id,
                attempted_at=result.attempted_at,
                succeeded=result.succeeded,
                status_code=result.status_code,
                latency_ms=result.latency_ms,
                response_body=result.response_body,
                error=result.error,
            )
        )
        if result.succeeded:
            # The common case costs one statement besides the attempt: no row is read or locked first,
            # and a subscription that was not failing when the attempt began is not touched.
            await repository.mark_delivered(message_id, result.attempted_at)
            if failing:
                await repository.clear_failing(subscription_id)
            return
        loaded = await repository.load(message_id, for_update=True)
        if loaded is None:
            return
        message, subscription = loaded
        message.attempts += 1
        message.last_attempt_at = result.attempted_at
        await repository.mark_failing(subscription_id, result.attempted_at)
        reason = (
            f"Every delivery failed for {self._disable_after.total_seconds() / 86400:g} days "
            f"(no success since {iso(subscription.failing_since or result.attempted_at)}); "
            f"the last attempt: {result.summary()}"
        )
        disabled_now = await repository.disable_if_failing_since(
            subscription_id, result.attempted_at - self._disable_after, result.attempted_at, reason[:500]
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
