"""Where webhooks may be sent: https, and public addresses only, unless the operator allows more.

A URL is checked when a subscription is created or changed (literal addresses and names that
resolve to forbidden ones are refused at once), and again before every attempt, because a name
can resolve somewhere else later. An attempt's connection is made only to addresses that were
checked: the delivery client resolves names through `CheckingResolver`, which refuses a name when
any of its addresses is forbidden and hands the client the very addresses it checked, so a name
that changes its answer between the check and the connection (DNS rebinding) cannot steer a
delivery into a private network. The name itself stays in the URL, for the Host header and TLS.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

from tenantry.config import get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Creating a subscription should not hang on a slow resolver; an unanswered name is checked later.
RESOLVE_TIMEOUT_SECONDS = 2.0


class UnsafeUrl(Exception):
    """The URL may not be delivered to; the message says why in words a user can act on."""


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


def check_before_sending(url: str) -> None:
    """Checks what an attempt can check without I/O: the URL's form, and its address when it is
    literal (a client does not resolve those). Names are checked by `CheckingResolver` as the
    connection is made. Raises UnsafeUrl."""
    parts = _parts(url)
    host = parts.hostname or ""
    literal = _literal_address(host)
    if literal is not None:
        _check_all(host, [literal])


async def checked_addresses(host: str, port: int) -> list[IPAddress]:
    """The addresses `host` resolves to now, when every one of them may be delivered to."""
    try:
        addresses = await _resolve(host, port)
    except OSError as exc:
        raise UnsafeUrl(f"host {host} does not resolve ({exc.strerror or exc})") from None
    if not addresses:
        raise UnsafeUrl(f"host {host} does not resolve")
    _check_all(host, addresses)
    return addresses


class CheckingResolver(AbstractResolver):
    """aiohttp's name lookups for deliveries: only checked addresses come back (or UnsafeUrl)."""

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=str(address),
                port=port,
                family=socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in await checked_addresses(host, port)
        ]

    async def close(self) -> None:
        return None
