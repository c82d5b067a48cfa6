"""Deleted projects: restore within the retention, purge after it, and upstream revocation on delete."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.kit.time import utcnow
from tenantry.models import ApiKey, ConnectedAccount, Project
from tenantry.vault import service as vault
from tenantry.vault.errors import VaultError
from tests.factories import (
    Org,
    ProjectWithKey,
    create_api_key,
    create_api_key_account,
    create_auth_config,
    create_project,
)
from tests.fixtures.oauth_provider import CLIENT_ID, CLIENT_SECRET, Provider
from tests.fixtures.server import Server, start_server

RETENTION = timedelta(days=30)


async def backdate_deletion(sessionmaker: async_sessionmaker[AsyncSession], project_id: str, by: timedelta) -> None:
    """Moves the project's deletion into the past, as if the retention period had gone by."""
    async with unit_of_work(sessionmaker) as session:
        await session.execute(update(Project).where(Project.id == project_id).values(deleted_at=utcnow() - by))


async def delete(client: httpx.AsyncClient, org: Org, project_id: str, **params: Any) -> httpx.Response:
    response = await client.delete(f"/org/owner/project/{project_id}", params=params, headers=org.headers)
    assert response.status_code == 200, response.text
    return response


class TestRestore:
    async def test_the_project_comes_back_with_what_it_owned_but_not_its_keys(
        self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey
    ) -> None:
        await client.patch("/org/project/config", json={"display_name": "Kept"}, headers=project.headers)
        auth_config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        await delete(client, org, project.id)
        trash = (await client.get("/org/owner/project/list", params={"deleted": "true"}, headers=org.headers)).json()
        assert [(item["id"], item["deleted"]) for item in trash["data"]] == [(project.id, True)]
        assert trash["total_items"] == 1

        response = await client.post(f"/org/owner/project/{project.id}/restore", headers=org.headers)
        assert response.status_code == 200, response.text
        restored = response.json()
        assert restored["id"] == project.id and restored["deleted"] is False and restored["api_keys"] == []
        assert (await client.get("/org/project/config", headers=project.headers)).status_code == 401
        listed = (await client.get("/org/owner/project/list", headers=org.headers)).json()
        assert [item["id"] for item in listed["data"]] == [project.id] and listed["total_items"] == 1
        assert (await client.get("/org/owner/project/list", params={"deleted": "true"}, headers=org.headers)).json()["data"] == []

        key = await create_api_key(client, org, project.id)
        headers = {"x-api-key": key["key"]}
        assert (await client.get("/org/project/config", headers=headers)).json()["display_name"] == "Kept"
        assert (await client.get(f"/auth_configs/{auth_config_id}", headers=headers)).status_code == 200

    async def test_a_live_project_cannot_be_restored(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        response = await client.post(f"/org/owner/project/{project.id}/restore", headers=org.headers)
        assert response.status_code == 404 and response.json()["error"]["slug"] == "Project_ResourceNotFound"

    async def test_restoring_twice_is_404(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        await delete(client, org, project.id)
        assert (await client.post(f"/org/owner/project/{project.id}/restore", headers=org.headers)).status_code == 200
        assert (await client.post(f"/org/owner/project/{project.id}/restore", headers=org.headers)).status_code == 404

    async def test_a_name_taken_meanwhile_is_a_final_409(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        await delete(client, org, project.id)
        await client.post("/org/owner/project/new", json={"name": project.name}, headers=org.headers)
        response = await client.post(f"/org/owner/project/{project.id}/restore", headers=org.headers)
        assert response.status_code == 409 and response.headers["x-should-retry"] == "false"
        assert response.json()["error"]["slug"] == "Project_NameAlreadyExists"
        trash = (await client.get("/org/owner/project/list", params={"deleted": "true"}, headers=org.headers)).json()
        assert [item["id"] for item in trash["data"]] == [project.id]

    async def test_past_the_retention_it_is_gone(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], org: Org, project: ProjectWithKey
    ) -> None:
        await delete(client, org, project.id)
        await backdate_deletion(sessionmaker, project.id, RETENTION + timedelta(minutes=1))
        assert (await client.post(f"/org/owner/project/{project.id}/restore", headers=org.headers)).status_code == 404
        trash = (await client.get("/org/owner/project/list", params={"deleted": "true"}, headers=org.headers)).json()
        assert trash["data"] == [] and trash["total_items"] == 0

    async def test_another_organizations_project_is_404(self, client: httpx.AsyncClient, org: Org, other_org: Org) -> None:
        theirs = await create_project(client, other_org)
        await delete(client, other_org, theirs.id)
        assert (await client.post(f"/org/owner/project/{theirs.id}/restore", headers=org.headers)).status_code == 404
        assert (await client.get("/org/owner/project/list", params={"deleted": "true"}, headers=org.headers)).json()["data"] == []


# --- the purge, by the background job of a real server ---------------------------------------------


@pytest.fixture(scope="module")
def purging_server(server: Server, server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A worker whose purge job runs every tenth of a second (the default is a minute)."""
    env = {**server_env, "TENANTRY_PURGE_INTERVAL_SECONDS": "0.1"}
    worker = start_server(env, tmp_path_factory.mktemp("purging-server") / "server.log")
    yield worker
    worker.stop()
    assert "Traceback" not in worker.log(), worker.log()


async def everything_stored(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the database has (reflected, not only our models)."""
    async with unit_of_work(sessionmaker) as session:
        connection = await session.connection()
        metadata = MetaData()
        await connection.run_sync(lambda sync: metadata.reflect(sync))
        return {table.name: [tuple(row) for row in (await session.execute(select(table))).all()] for table in metadata.sorted_tables}


def mentions(row: tuple[Any, ...], needle: str) -> bool:
    return any(needle in (bytes(value).decode("latin-1") if isinstance(value, (bytes, memoryview)) else str(value)) for value in row)


class TestPurge:
    async def test_the_job_leaves_nothing_of_the_project_in_the_database(
        self,
        client: httpx.AsyncClient,
        purging_server: Server,
        sessionmaker: async_sessionmaker[AsyncSession],
        org: Org,
        project: ProjectWithKey,
    ) -> None:
        kept = await create_project(client, org)
        await client.patch("/org/project/config", json={"display_name": "Doomed Display"}, headers=project.headers)
        auth_config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        account_id = await create_api_key_account(client, project, auth_config_id, "sk_live_purged_secret_value")
        named = await create_api_key(client, org, project.id, name="doomed-key")
        mcp = await client.post("/mcp/servers", json={"name": "Doomed", "auth_config_ids": [auth_config_id]}, headers=project.headers)
        assert mcp.status_code == 201, mcp.text
        hook = await client.post(
            "/webhook_subscriptions", json={"webhook_url": "http://127.0.0.1:9/doomed-hook", "enabled_events": []}, headers=project.headers
        )
        assert hook.status_code == 201, hook.text
        async with unit_of_work(sessionmaker) as session:
            sealed = bytes(await session.scalar(select(ConnectedAccount.secrets).where(ConnectedAccount.id == account_id)))
            key_hashes = list(await session.scalars(select(ApiKey.key_hash).where(ApiKey.project_id == project.id)))
        await delete(client, org, project.id)
        await backdate_deletion(sessionmaker, project.id, RETENTION + timedelta(minutes=1))

        deadline = time.monotonic() + 10
        while (await client.get("/org/owner/audit_log", params={"action": "project.purged", "project_id": project.id}, headers=org.headers)).json()["items"] == []:
            assert time.monotonic() < deadline, "the purge job did not purge the project"
            await asyncio.sleep(0.1)

        traces = [
            project.id, project.name, auth_config_id, account_id, named["id"], mcp.json()["id"], hook.json()["id"],
            "Doomed Display", "doomed-hook", *key_hashes,
        ]
        for table, rows in (await everything_stored(sessionmaker)).items():
            for row in rows:
                if table == "audit_events":
                    continue
                for trace in traces:
                    assert not mentions(row, trace), f"{table} still holds {trace!r}: {row}"
                assert sealed.hex() not in str(row) and not any(
                    isinstance(value, (bytes, memoryview)) and bytes(value) == sealed for value in row
                ), f"{table} still holds the sealed credentials"
        # The audit trail keeps who did what, and nothing the project held.
        trail = (await client.get("/org/owner/audit_log", params={"project_id": project.id}, headers=org.headers)).json()["items"]
        assert trail[0]["action"] == "project.purged" and trail[0]["actor_type"] == "system"
        assert {"project.created", "project.deleted", "api_key.created", "auth_config.created"} <= {event["action"] for event in trail}
        assert all(event["details"] is None for event in trail)
        for trace in (project.name, "Doomed Display", "doomed-key"):
            assert trace not in str(trail)
        # Crypto-shredding: a copy of the sealed credentials (a backup, a free page) no longer opens.
        vault.reset()
        async with unit_of_work(sessionmaker) as session:
            with pytest.raises(VaultError):
                await vault.unseal(session, project.id, sealed, context=f"connected_account:{account_id}:secrets")
        # Nothing else was touched.
        assert (await client.get(f"/org/owner/project/{kept.id}", headers=org.headers)).status_code == 200
        assert (await client.get("/org/project/config", headers=kept.headers)).status_code == 200

    async def test_projects_within_the_retention_are_kept(
        self, client: httpx.AsyncClient, purging_server: Server, sessionmaker: async_sessionmaker[AsyncSession], org: Org, project: ProjectWithKey
    ) -> None:
        await delete(client, org, project.id)
        await backdate_deletion(sessionmaker, project.id, RETENTION - timedelta(minutes=5))
        await asyncio.sleep(0.5)
        assert (await client.post(f"/org/owner/project/{project.id}/restore", headers=org.headers)).status_code == 200


# --- revoke_on_delete --------------------------------------------------------------------------------


async def connect_oauth_account(client: httpx.AsyncClient, project: ProjectWithKey) -> str:
    """An ACTIVE OAuth2 account at the loopback provider, through the whole authorization-code flow."""
    auth_config_id = await create_auth_config(
        client, project, "localoauth", type="use_custom_auth", authScheme="OAUTH2",
        credentials={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    body = {"auth_config": {"id": auth_config_id}, "connection": {"user_id": "enduser"}}
    created = (await client.post("/connected_accounts", json=body, headers=project.headers)).json()
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(created["redirect_url"])
        await browser.get(at_provider.headers["location"])
    detail = (await client.get(f"/connected_accounts/{created['id']}", headers=project.headers)).json()
    assert detail["status"] == "ACTIVE", detail
    return str(created["id"])


class TestRevokeOnDelete:
    async def test_grants_are_revoked_upstream_by_a_background_job(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], org: Org, project: ProjectWithKey, oauth_provider: Provider
    ) -> None:
        await client.patch("/org/project/config", json={"mask_secret_keys_in_connected_account": False}, headers=project.headers)
        account_id = await connect_oauth_account(client, project)
        tokens = (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).json()["state"]["val"]
        response = await delete(client, org, project.id, revoke_on_delete="true")
        body = response.json()
        assert set(body) == {"status", "revoke_job_id"} and body["status"] == "success"
        assert body["revoke_job_id"].startswith("oj_")

        deadline = time.monotonic() + 10
        while not {tokens["refresh_token"], tokens["access_token"]} <= {revocation["token"] for revocation in oauth_provider.revocations}:
            assert time.monotonic() < deadline, "the tokens were not revoked at the provider"
            await asyncio.sleep(0.1)
        revoked = {revocation["token"]: revocation["token_type_hint"] for revocation in oauth_provider.revocations}
        assert revoked[tokens["refresh_token"]] == "refresh_token" and revoked[tokens["access_token"]] == "access_token"

        deadline = time.monotonic() + 10
        while not (trail := (await client.get("/org/owner/audit_log", params={"action": "project.upstream_revoked", "project_id": project.id}, headers=org.headers)).json()["items"]):
            assert time.monotonic() < deadline, "the revocation job did not finish"
            await asyncio.sleep(0.1)
        assert trail[0]["details"] == {"revoke_job_id": body["revoke_job_id"], "revoked": 1, "refused": 0, "unreachable": 0}

        await client.post(f"/org/owner/project/{project.id}/restore", headers=org.headers)
        key = await create_api_key(client, org, project.id)
        account = (await client.get(f"/connected_accounts/{account_id}", headers={"x-api-key": key["key"]})).json()
        assert account["status"] == "REVOKED"
        assert "access_token" not in account["state"]["val"] and "refresh_token" not in account["state"]["val"]

    async def test_without_it_nothing_is_revoked_and_the_body_is_composios(
        self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey, oauth_provider: Provider
    ) -> None:
        await connect_oauth_account(client, project)
        seen = len(oauth_provider.revocations)
        response = await delete(client, org, project.id, revoke_on_delete="false")
        assert response.json() == {"status": "success"}
        await asyncio.sleep(1.5)
        assert len(oauth_provider.revocations) == seen
