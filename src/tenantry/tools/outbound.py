"""Calls to a toolkit's API, with the limits that keep a credential where it belongs.

A request may only go to the toolkit's base URL host (its placeholders each standing for one DNS
label), or to a host the operator listed in the toolkit's `allowed_hosts`. Redirects are followed
only on the same scheme, host and port; a redirect elsewhere is answered as it is, unfollowed.
Every call has an overall time limit and a response-size limit. Error messages name hosts and
limits, never a URL, which may carry a credential in its query.
"""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp
import httpx
import yarl

from tenantry import __version__

# httpx logs every request's full URL at INFO, and a URL may carry a credential in its query
# (other parts of the service send with httpx).
logging.getLogger("httpx").setLevel(logging.WARNING)

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"


class OutboundError(Exception):
    """A call that could not be made or finished; the message is safe to show and to log."""


def _split_authority(template: str) -> tuple[str, str, int | None]:
    scheme, _, rest = template.partition("://")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host, port = authority, None
    match = re.fullmatch(r"(.*):([0-9]{1,5})", authority)
    if match:
        host, port = match.group(1), int(match.group(2))
    return scheme.lower(), host.lower(), port


def _host_pattern(host_template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^{}]*\})", host_template)
    return re.compile("".join(_LABEL if part.startswith("{") else re.escape(part) for part in parts))


@dataclass(frozen=True)
class HostPolicy:
    """Where one toolkit's requests may go."""

    scheme: str
    host: re.Pattern[str]
    port: int
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def of(cls, base_url_template: str, allowed_hosts: Sequence[str] = ()) -> HostPolicy:
        scheme, host, port = _split_authority(base_url_template)
        return cls(scheme, _host_pattern(host), port or _DEFAULT_PORTS.get(scheme, 0), tuple(allowed_hosts))

    def permits(self, url: httpx.URL) -> bool:
        scheme, host = url.scheme, (url.host or "").lower()
        port = url.port or _DEFAULT_PORTS.get(scheme)
        if scheme == self.scheme and port == self.port and self.host.fullmatch(host):
            return True
        # Other hosts only over https, or over the base URL's own scheme when that is http (local APIs).
        if scheme not in ("https", self.scheme):
            return False
        for allowed in self.allowed_hosts:
            pattern, _, wanted_port = allowed.lower().partition(":")
            if (int(wanted_port) if wanted_port else _DEFAULT_PORTS.get(scheme)) != port:
                continue
            if pattern.startswith("*."):
                if re.fullmatch(_LABEL + re.escape(pattern[1:]), host):
                    return True
            elif host == pattern:
                return True
        return False


@dataclass
class Call:
    """One request, credential included."""

    method: str
    url: str
    # The credential is in these: kept out of repr().
    query: list[tuple[str, str]] = field(default_factory=list, repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    content: bytes | None = field(default=None, repr=False)
    # Query parameters that carry the credential: put back on every same-origin redirect.
    credential_query: list[tuple[str, str]] = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    content: bytes
    # Set when the API redirected to another origin, which was not followed.
    refused_redirect_to: str | None = None

    @property
    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return ""


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, (url.host or "").lower(), url.port or _DEFAULT_PORTS.get(url.scheme)


class Outbound:
    """The process's HTTP client for toolkit APIs: one keep-alive connection pool, shared by every call.

    It is aiohttp's rather than httpx's. Against the same local API (bench/http_clients.py,
    docs/benchmarks.md §8) httpx spent about 710 µs of CPU per request made one at a time and
    1,530 µs with 16 at once, its pool polling every connection on each request; aiohttp spent
    190 µs and 100 µs. URLs are still parsed and checked with httpx.URL, as elsewhere in the service.
    """

    def __init__(self, timeout_seconds: float, max_response_bytes: int, max_connections: int = 200) -> None:
        self.timeout_seconds = timeout_seconds
        self.max_response_bytes = max_response_bytes
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use, inside the event loop that serves the calls.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections, limit_per_host=0, ttl_dns_cache=60),
                # An API's cookies may belong to one account: never send them with another's call.
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": f"tenantry/{__version__}"},
                timeout=aiohttp.ClientTimeout(total=None, connect=min(5.0, self.timeout_seconds)),
                # HTTP(S)_PROXY and NO_PROXY are honoured, as an operator's egress proxy expects;
                # only then, because aiohttp looks them up on a worker thread for every request.
                trust_env=bool(urllib.request.getproxies()),
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, call: Call, policy: HostPolicy) -> Answer:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return await self._exchange(call, policy)
        except TimeoutError:
            raise OutboundError(f"the API did not answer within {self.timeout_seconds:g} s") from None

    async def _exchange(self, call: Call, policy: HostPolicy) -> Answer:
        method, content = call.method, call.content
        url = httpx.URL(call.url).copy_merge_params(call.query) if call.query else httpx.URL(call.url)
        for _ in range(MAX_REDIRECTS + 1):
            if not policy.permits(url):
                raise OutboundError(f"{url.host or 'that URL'} is not a host this toolkit may call")
            answer, location = await self._one(method, url, call.headers, content)
            if location is None:
                return answer
            target = url.join(location)
            if _origin(target) != _origin(url):
                return Answer(answer.status, answer.headers, answer.content, refused_redirect_to=target.host or "?")
            if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
                method, content = ("HEAD" if method == "HEAD" else "GET"), None
            url = target.copy_merge_params(call.credential_query) if call.credential_query else target
        raise OutboundError(f"the API redirected more than {MAX_REDIRECTS} times")

    async def _one(
        self, method: str, url: httpx.URL, headers: dict[str, str], content: bytes | None
    ) -> tuple[Answer, str | None]:
        try:
            response = await self._client().request(
                method,
                # Already encoded by httpx.URL: sent exactly as checked.
                yarl.URL(str(url), encoded=True),
                headers=headers,
                data=content,
                allow_redirects=False,
                # No Content-Type the caller did not ask for (aiohttp would add one for bytes).
                skip_auto_headers=_NOT_ADDED,
            )
        except (aiohttp.ClientError, ValueError) as exc:
            # The exception's text may hold the URL, and so a credential: name only its kind.
            raise OutboundError(f"could not reach {url.host}: {type(exc).__name__}") from None
        complete = False
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_response_bytes:
                raise OutboundError(f"the API's answer is larger than {self.max_response_bytes} bytes")
            body = bytearray()
            if method != "HEAD":
                try:
                    async for chunk in response.content.iter_any():
                        body += chunk
                        if len(body) > self.max_response_bytes:
                            raise OutboundError(f"the API's answer is larger than {self.max_response_bytes} bytes")
                except aiohttp.ClientError as exc:
                    raise OutboundError(f"the answer from {url.host} broke off: {type(exc).__name__}") from None
            complete = True
        finally:
            # A connection whose answer was not read to its end cannot carry the next request.
            response.release() if complete else response.close()
        location = response.headers.get("location") if response.status in REDIRECTS else None
        return Answer(response.status, list(response.headers.items()), bytes(body)), location


_NOT_ADDED = frozenset({"Content-Type"})
