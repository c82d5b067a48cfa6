"""Who is calling: every way a key can be missing, malformed, of the wrong kind or dead."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.auth.principal import LastUsedRecorder
from tenantry.db import unit_of_work
from tenantry.kit import keys
from tenantry.kit.keys import KeyKind
from tenantry.models import ApiKey
from tests.factories import Org, ProjectWithKey, create_project

ORG_ROUTE = "/org/owner/project/list"
PROJECT_ROUTE = "/org/project/config"
# Every route authenticates through the same front door; revocation is checked on several of them
# (settings answered from the cache, and routes that read the database).
REVOCATION_ROUTES = (PROJECT_ROUTE, "/auth_configs", "/connected_accounts", "/webhook_subscriptions")


def assert_401(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["status"] == 401 and error["slug"] == "Auth_InvalidApiKey"
    assert set(error) >= {"message", "code", "slug", "status", "request_id"}
    return error


class TestRejected:
    @pytest.mark.parametrize(("route", "header"), [(ORG_ROUTE, "x-org-api-key"), (PROJECT_ROUTE, "x-api-key")])
    async def test_missing_key(self, client: httpx.AsyncClient, route: str, header: str) -> None:
        error = assert_401(await client.get(route))
        assert header in str(error["message"])

    @pytest.mark.parametrize("value", ["", "ak_short", "ak_" + "!" * 32, "xx_" + "a" * 32, "a" * 40])
    async def test_malformed_key(self, client: httpx.AsyncClient, value: str) -> None:
        assert_401(await client.get(PROJECT_ROUTE, headers={"x-api-key": value}))

    async def test_well_formed_unknown_key(self, client: httpx.AsyncClient) -> None:
        assert_401(await client.get(PROJECT_ROUTE, headers={"x-api-key": keys.generate(KeyKind.project)}))
        assert_401(await client.get(ORG_ROUTE, headers={"x-org-api-key": keys.generate(KeyKind.organization)}))

    async def test_project_key_on_an_org_route(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        error = assert_401(await client.get(ORG_ROUTE, headers={"x-org-api-key": project.api_key}))
        assert "project API key" in str(error["message"])
        assert project.api_key not in str(error)

    async def test_project_key_in_the_org_header_name_only(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        assert_401(await client.get(ORG_ROUTE, headers={"x-api-key": project.api_key}))

    @pytest.mark.parametrize("route", REVOCATION_ROUTES)
    async def test_revoked_key_fails_on_the_very_next_request(
        self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey, route: str
    ) -> None:
        assert (await client.get(route, headers=project.headers)).status_code == 200
        await client.post(f"/org/owner/project/{project.id}/regenerate_api_key", headers=org.headers)
        assert_401(await client.get(route, headers=project.headers))


class TestAcrossWorkers:
    @pytest.mark.parametrize("route", REVOCATION_ROUTES)
    async def test_revocation_reaches_another_worker_within_a_second(
        self, client: httpx.AsyncClient, other_server, org: Org, route: str  # type: ignore[no-untyped-def]
    ) -> None:
        project = await create_project(client, org)
        async with httpx.AsyncClient(base_url=f"{other_server.base_url}/api/v3.1") as other:
            # The other worker has the key in its cache now.
            assert (await other.get(route, headers=project.headers)).status_code == 200
            await client.post(f"/org/owner/project/{project.id}/regenerate_api_key", headers=org.headers)
            revoked_at = time.monotonic()
            while (await other.get(route, headers=project.headers)).status_code == 200:
                assert time.monotonic() - revoked_at < 1.0, "the other worker still accepts a revoked key"
                await asyncio.sleep(0.02)

    async def test_deleted_project_key_fails_on_another_worker(
        self, client: httpx.AsyncClient, other_server, org: Org  # type: ignore[no-untyped-def]
    ) -> None:
        project = await create_project(client, org)
        async with httpx.AsyncClient(base_url=f"{other_server.base_url}/api/v3.1") as other:
            assert (await other.get(PROJECT_ROUTE, headers=project.headers)).status_code == 200
            await client.delete(f"/org/owner/project/{project.id}", headers=org.headers)
            deleted_at = time.monotonic()
            while (await other.get(PROJECT_ROUTE, headers=project.headers)).status_code == 200:
                assert time.monotonic() - deleted_at < 1.0
                await asyncio.sleep(0.02)


class TestLastUsed:
    async def test_a_request_does_not_write_the_key_row(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], project: ProjectWithKey
    ) -> None:
        for _ in range(20):
            assert (await client.get(PROJECT_ROUTE, headers=project.headers)).status_code == 200
        async with unit_of_work(sessionmaker) as session:
            last_used = await session.scalar(select(ApiKey.last_used_at).where(ApiKey.project_id == project.id))
        # The server batches last_used_at every 30 s; twenty requests wrote nothing.
        assert last_used is None

    async def test_recorder_writes_the_latest_use_in_one_batch(
        self, sessionmaker: async_sessionmaker[AsyncSession], project: ProjectWithKey
    ) -> None:
        async with unit_of_work(sessionmaker) as session:
            key_id = await session.scalar(select(ApiKey.id).where(ApiKey.project_id == project.id))
        recorder = LastUsedRecorder(sessionmaker, interval=60)
        recorder.touch(key_id)
        recorder.touch(key_id)
        await recorder.flush()
        async with unit_of_work(sessionmaker) as session:
            assert await session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id)) is not None
