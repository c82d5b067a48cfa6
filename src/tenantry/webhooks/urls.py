"""Where webhooks may be sent: https, and public addresses only, unless the operator allows more.

A URL is checked when a subscription is created or changed (literal addresses and names that
resolve to forbidden ones are refused at once), and again before every attempt, because a name
can resolve somewhere else later. The attempt then connects to the very address that was checked,
with the name kept for the Host header and TLS, so a name that changes its answer between the
check and the connection (DNS rebinding) cannot steer a delivery into a private network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from tenantry.config import get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Creating a subscription should not hang on a slow resolver; an unanswered name is checked later.
RESOLVE_TIMEOUT_SECONDS = 2.0


class UnsafeUrl(Exception):
    """The URL may not be delivered to; the message says why in words a user can act on."""


@dataclass(frozen=True)
class Destination:
    """How to reach a checked URL: the address-pinned URL, and the headers and TLS name it needs."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _forbidden(address: IPAddress) -> str | None:
    """Why deliveries may not go to `address`, or None when they may."""
    if get_settings().webhook_allow_private_urls:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


def _parts(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError as exc:
        raise UnsafeUrl(f"is not a valid URL ({exc})") from None
    allowed = ("https", "http") if get_settings().webhook_allow_http else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeUrl("must be an https URL" if parts.scheme != "https" else "is not a valid URL")
    if not parts.hostname:
        raise UnsafeUrl("must name a host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("must not carry credentials; receivers authenticate deliveries by their signature")
    return parts


async def _resolve(host: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    answers = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for *_, sockaddr in answers:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def _check_all(host: str, addresses: list[IPAddress]) -> None:
    for address in addresses:
        reason = _forbidden(address)
        if reason is not None:
            shown = host if str(address) == host else f"{host} ({address})"
            raise UnsafeUrl(f"points at {shown}, {reason}; webhooks only go to public addresses")


async def check(url: str) -> str:
    """`url` when a subscription may use it; raises UnsafeUrl otherwise.

    A name that does not resolve now is accepted: its receiver may not be up yet, and every
    attempt checks the address again.
    """
    parts = _parts(url)
    host = parts.hostname or ""
    literal = _literal_address(host)
    if literal is not None:
        _check_all(host, [literal])
        return url
    try:
        addresses = await asyncio.wait_for(_resolve(host, _port(parts)), RESOLVE_TIMEOUT_SECONDS)
    except (OSError, TimeoutError):
        return url
    _check_all(host, addresses)
    return url


async def destination(url: str) -> Destination:
    """Where one attempt connects: a checked address of the URL's host. Raises UnsafeUrl."""
    parts = _parts(url)
    host = parts.hostname or ""
    literal = _literal_address(host)
    if literal is not None:
        _check_all(host, [literal])
        return Destination(url)
    try:
        addresses = await _resolve(host, _port(parts))
    except OSError as exc:
        raise UnsafeUrl(f"host {host} does not resolve ({exc.strerror or exc})") from None
    if not addresses:
        raise UnsafeUrl(f"host {host} does not resolve")
    _check_all(host, addresses)
    address = addresses[0]
    shown = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    host_header = f"{host}:{parts.port}" if parts.port else host
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return Destination(pinned, {"host": host_header}, extensions)
