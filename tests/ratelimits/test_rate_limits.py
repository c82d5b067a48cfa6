"""Per-organization limits in a fixed window: headers on every answer, 429 past the limit,
per-project limits set with the org key, and one count across workers through Redis."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import Org, ProjectWithKey, create_org, create_project
from tests.fixtures.server import Server, free_port, start_server

LIMIT = 5
# An hour, so no window boundary falls inside a test.
WINDOW = 3600


def _limited(server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, name: str, **extra: str) -> Iterator[Server]:
    env = {**server_env, "TENANTRY_RATE_LIMIT_REQUESTS": str(LIMIT), "TENANTRY_RATE_LIMIT_WINDOW_SECONDS": str(WINDOW), **extra}
    server = start_server(env, tmp_path_factory.mktemp(name) / "server.log")
    yield server
    server.stop()
    assert "Traceback" not in server.log(), server.log()


@pytest.fixture(scope="module")
def limited(server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _limited(server_env, tmp_path_factory, "limited")


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            import socket

            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def shared_workers(server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[tuple[Server, Server]]:
    first = _limited(server_env, tmp_path_factory, "redis-a", TENANTRY_REDIS_URL=redis_url)
    second = _limited(server_env, tmp_path_factory, "redis-b", TENANTRY_REDIS_URL=redis_url)
    yield next(first), next(second)
    for generator in (first, second):
        next(generator, None)


async def _project(base_url: str, org: Org) -> ProjectWithKey:
    async with httpx.AsyncClient(base_url=f"{base_url}/api/v3.1") as http:
        return await create_project(http, org)


CONFIG = "/api/v3.1/org/project/config"


class TestHeaders:
    async def test_every_authenticated_answer_carries_them(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        ok = await client.get("/org/project/config", headers=project.headers)
        missing = await client.get("/connected_accounts/ca_000000000000", headers=project.headers)
        invalid = await client.post("/connected_accounts", json={}, headers=project.headers)
        for response in (ok, missing, invalid):
            assert response.headers["x-ratelimit"] == "10000"
            assert response.headers["x-ratelimit-window-size"] == "60s"
        remaining = [int(response.headers["x-ratelimit-remaining"]) for response in (ok, missing, invalid)]
        assert remaining[0] > remaining[1] > remaining[2]


class TestLimits:
    async def test_past_the_limit_is_a_429_in_the_envelope(self, limited: Server, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        org = await create_org(sessionmaker)
        async with httpx.AsyncClient(base_url=limited.base_url) as http:
            answers = [await http.get("/api/v3.1/org/owner/project/list", headers=org.headers) for _ in range(LIMIT + 2)]
        assert [answer.status_code for answer in answers] == [200] * LIMIT + [429, 429]
        assert [answer.headers["x-ratelimit-remaining"] for answer in answers] == ["4", "3", "2", "1", "0", "0", "0"]
        refused = answers[-1]
        error = refused.json()["error"]
        assert error["status"] == 429 and error["message"] == f"Rate limit exceeded. Limit: {LIMIT} requests per 60 minutes"
        assert 0 < int(refused.headers["retry-after"]) <= WINDOW
        assert refused.headers["x-ratelimit"] == str(LIMIT) and refused.headers["x-ratelimit-window-size"] == f"{WINDOW}s"

    async def test_projects_share_their_organizations_limit_unless_given_their_own(
        self, limited: Server, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        org = await create_org(sessionmaker)
        async with httpx.AsyncClient(base_url=limited.base_url) as http:
            created = await http.post("/api/v3.1/org/owner/project/new", json={"name": "rl-own", "should_create_api_key": True}, headers=org.headers)
            own = ProjectWithKey(created.json()["id"], "rl-own", created.json()["api_key"])
            created = await http.post("/api/v3.1/org/owner/project/new", json={"name": "rl-shared", "should_create_api_key": True}, headers=org.headers)
            shared = ProjectWithKey(created.json()["id"], "rl-shared", created.json()["api_key"])
            given = await http.patch(f"/api/v3.1/org/owner/project/{own.id}/rate_limit", json={"requests_per_window": 3}, headers=org.headers)
            assert given.json() == {"project_id": own.id, "requests_per_window": 3, "window_size_seconds": WINDOW, "source": "project"}
            # Three requests with the org key so far; the shared project has what is left of the five.
            answers = [await http.get(CONFIG, headers=shared.headers) for _ in range(3)]
            assert [answer.status_code for answer in answers] == [200, 200, 429]
            # The project with its own limit has its own count.
            answers = [await http.get(CONFIG, headers=own.headers) for _ in range(4)]
            assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
            assert answers[0].headers["x-ratelimit"] == "3"

    async def test_the_org_key_reads_and_clears_an_override_of_its_own_projects_only(
        self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey, other_org: Org
    ) -> None:
        path = f"/org/owner/project/{project.id}/rate_limit"
        assert (await client.get(path, headers=org.headers)).json()["source"] == "organization"
        assert (await client.patch(path, json={"requests_per_window": 50}, headers=org.headers)).json()["requests_per_window"] == 50
        assert (await client.get("/org/project/config", headers=project.headers)).headers["x-ratelimit"] == "50"
        cleared = (await client.patch(path, json={"requests_per_window": None}, headers=org.headers)).json()
        assert cleared == {"project_id": project.id, "requests_per_window": 10000, "window_size_seconds": 60, "source": "organization"}
        assert (await client.get("/org/project/config", headers=project.headers)).headers["x-ratelimit"] == "10000"
        assert (await client.get(path, headers=other_org.headers)).status_code == 404
        assert (await client.patch(path, json={"requests_per_window": 0}, headers=org.headers)).status_code == 400
        assert (await client.get(path, headers=project.headers)).status_code == 401


class TestAcrossWorkers:
    async def test_redis_counts_once_for_every_worker(
        self, shared_workers: tuple[Server, Server], sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        org = await create_org(sessionmaker)
        first, second = shared_workers
        statuses = []
        async with httpx.AsyncClient() as http:
            for index in range(LIMIT + 3):
                worker = (first, second)[index % 2]
                statuses.append((await http.get(f"{worker.base_url}/api/v3.1/org/owner/project/list", headers=org.headers)).status_code)
        assert statuses == [200] * LIMIT + [429] * 3

    async def test_without_redis_each_worker_counts_alone(self, limited: Server, server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        org = await create_org(sessionmaker)
        other = _limited(server_env, tmp_path_factory, "limited-b")
        second = next(other)
        try:
            async with httpx.AsyncClient() as http:
                statuses = [
                    (await http.get(f"{worker.base_url}/api/v3.1/org/owner/project/list", headers=org.headers)).status_code
                    for worker in (limited, second) * LIMIT
                ]
        finally:
            next(other, None)
        assert statuses == [200] * (2 * LIMIT)
