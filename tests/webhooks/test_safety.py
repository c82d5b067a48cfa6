"""Where deliveries may go, and the signatures both kinds of verifier accept, checked in-process."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tenantry.config import Settings
from tenantry.webhooks import signing, urls
from tenantry.webhooks.delivery import Deliverer
from tests.webhooks.receiver import (
    Delivery,
    SignatureRejected,
    composio_verify,
    rejected_by_both,
    standard_verify,
    verify_both,
)


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The production defaults: https only, public addresses only."""
    monkeypatch.setattr(urls, "get_settings", lambda: Settings(webhook_allow_private_urls=False, webhook_allow_http=False))
    yield


class TestUrls:
    @pytest.mark.parametrize(
        ("url", "problem"),
        [
            ("http://93.184.215.14/hook", "must be an https URL"),
            ("https://127.0.0.1/hook", "a loopback address"),
            ("https://localhost:8443/hook", "a loopback address"),
            ("https://[::1]/hook", "a loopback address"),
            ("https://[::ffff:10.0.0.8]/hook", "a private address"),
            ("https://10.1.2.3/hook", "a private address"),
            ("https://192.168.0.10/hook", "a private address"),
            ("https://169.254.169.254/latest/meta-data", "a link-local address"),
            ("https://100.64.0.1/hook", "not a public address"),
            ("https://0.0.0.0/hook", "an unspecified address"),
            ("https://user:secret@93.184.215.14/hook", "must not carry credentials"),
            ("https:///hook", "must name a host"),
            ("https://93.184.215.14:99999/hook", "is not a valid URL"),
        ],
    )
    async def test_refused_at_subscription_and_at_delivery(self, strict: None, url: str, problem: str) -> None:
        with pytest.raises(urls.UnsafeUrl, match=problem):
            await urls.check(url)
        with pytest.raises(urls.UnsafeUrl, match=problem):
            await _before_connecting(url)

    async def test_public_addresses_are_accepted(self, strict: None) -> None:
        assert await urls.check("https://93.184.215.14/hook?x=1") == "https://93.184.215.14/hook?x=1"
        urls.check_before_sending("https://93.184.215.14:8443/hook")

    async def test_the_client_is_handed_only_the_addresses_that_were_checked(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(urls, "get_settings", lambda: Settings(webhook_allow_private_urls=True, webhook_allow_http=False))
        resolved = await urls.CheckingResolver().resolve("localhost", 8443)
        assert {(entry["hostname"], entry["port"]) for entry in resolved} == {("localhost", 8443)}
        assert {entry["host"] for entry in resolved} <= {"127.0.0.1", "::1"}

    async def test_a_name_that_rebinds_to_a_private_address_is_refused_as_the_client_connects(
        self, strict: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        answers = iter([["93.184.215.14"], ["10.0.0.8"]])

        async def rebinding(host: str, port: int) -> list[urls.IPAddress]:
            return [ipaddress.ip_address(address) for address in next(answers)]

        monkeypatch.setattr(urls, "_resolve", rebinding)
        assert await urls.check("https://rebinding.example/hook") == "https://rebinding.example/hook"
        with pytest.raises(urls.UnsafeUrl, match=r"rebinding.example \(10.0.0.8\), a private address"):
            await urls.CheckingResolver().resolve("rebinding.example", 443)

    async def test_an_attempt_to_a_name_of_a_forbidden_address_is_not_sent(self, monkeypatch: pytest.MonkeyPatch) -> None:
        settings = Settings(webhook_allow_private_urls=False, webhook_allow_http=True)
        monkeypatch.setattr(urls, "get_settings", lambda: settings)
        deliverer = Deliverer(None, settings)  # type: ignore[arg-type] - an attempt touches no database
        try:
            result = await deliverer._attempt("http://localhost:9/hook", "V3", "msg_x", "{}", [signing.new_secret()])
        finally:
            await deliverer.aclose()
        assert result.status_code is None and re.fullmatch(
            r"Not sent: the URL points at localhost \((127\.0\.0\.1|::1)\), a loopback address; webhooks only go to public addresses",
            result.error or "",
        )

    async def test_a_name_that_does_not_resolve(self, strict: None) -> None:
        # Accepted for a subscription (its receiver may come up later), refused for an attempt.
        assert await urls.check("https://receiver.invalid/hook") == "https://receiver.invalid/hook"
        with pytest.raises(urls.UnsafeUrl, match="does not resolve"):
            await _before_connecting("https://receiver.invalid/hook")


async def _before_connecting(url: str) -> None:
    """What an attempt checks before and as it connects to `url`."""
    urls.check_before_sending(url)
    parts = urlsplit(url)
    if ipaddress_or_none(parts.hostname or "") is None:
        await urls.CheckingResolver().resolve(parts.hostname or "", parts.port or 443)


def ipaddress_or_none(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _delivery(header: str, body: bytes, message_id: str = "msg_2f1c9e4a-3b6d-4a1e-9c2f-7d8e5a6b4c31") -> Delivery:
    headers = {"webhook-id": message_id, "webhook-timestamp": str(int(time.time())), "webhook-signature": header}
    return Delivery(headers, body, 200, 0.0)


def _signed(secrets: list[str], body: bytes = b'{"id":"msg_x","data":{"caf\xc3\xa9":1}}') -> Delivery:
    unsigned = _delivery("", body)
    header = signing.signature_header(secrets, unsigned.id, unsigned.headers["webhook-timestamp"], body)
    return _delivery(header, body)


class TestSignatures:
    def test_secrets_are_standard_webhooks_secrets(self) -> None:
        secret = signing.new_secret()
        assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
        assert signing.new_secret() != secret

    def test_one_delivery_satisfies_both_verifiers(self) -> None:
        secret = signing.new_secret()
        delivery = _signed([secret])
        verify_both(secret, delivery)
        entries = delivery.headers["webhook-signature"].split(" ")
        assert len(entries) == 2 and all(entry.startswith("v1,") for entry in entries)
        # Each verifier is satisfied by a different entry: neither alone would do for both.
        composio_only, standard_only = (_delivery(entry, delivery.body) for entry in entries)
        composio_verify(secret, composio_only)
        standard_verify(secret, standard_only)
        assert rejected_by_both(secret, _delivery(entries[0][:-4] + "AAA=", delivery.body))
        with pytest.raises(SignatureRejected):
            standard_verify(secret, composio_only)
        with pytest.raises(SignatureRejected):
            composio_verify(secret, standard_only)

    def test_the_composio_signature_is_keyed_with_the_secret_string(self) -> None:
        secret = signing.new_secret()
        delivery = _signed([secret])
        content = f"{delivery.id}.{delivery.headers['webhook-timestamp']}.".encode() + delivery.body
        expected = base64.b64encode(hmac.new(secret.encode(), content, hashlib.sha256).digest()).decode()
        assert f"v1,{expected}" in delivery.headers["webhook-signature"].split(" ")

    def test_a_changed_body_or_another_secret_is_rejected(self) -> None:
        secret = signing.new_secret()
        delivery = _signed([secret])
        assert rejected_by_both(secret, _delivery(delivery.headers["webhook-signature"], delivery.body + b" "))
        assert rejected_by_both(signing.new_secret(), delivery)

    def test_several_secrets_sign_side_by_side(self) -> None:
        old, new = signing.new_secret(), signing.new_secret()
        delivery = _signed([new, old])
        verify_both(new, delivery)
        verify_both(old, delivery)
        assert len(delivery.headers["webhook-signature"].split(" ")) == 4

    def test_masked(self) -> None:
        assert signing.masked("whsec_abcdefgh1234") == "whsec_**1234"
