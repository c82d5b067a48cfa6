"""`tenantry keys rotate` and `tenantry keys prune` as an operator runs them, beside live servers."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry import config
from tenantry.config import get_settings
from tenantry.db import unit_of_work
from tenantry.models import ProjectDataKey
from tenantry.vault import keyring
from tenantry.vault import service as vault
from tenantry.vault.errors import MasterKeyUnavailable
from tenantry.vault.keyring import Keyring, MasterKey
from tests.factories import Org, create_project
from tests.fixtures.server import Server
from tests.vault.raw import store_data_key, stored_data_key

Sessionmaker = async_sessionmaker[AsyncSession]
CONTEXT = "connected_account:ca_test:credentials"
# Sets master keys in the environment; returns the same variables for a CLI run.
UseKeys = Callable[[MasterKey, list[MasterKey]], dict[str, str]]

# Seals one value in a process of its own and prints the blob, as another worker would.
SEAL_ELSEWHERE = """
import asyncio, sys
from tenantry.config import get_settings
from tenantry.db import create_engine, create_sessionmaker, unit_of_work
from tenantry.vault import service

async def main():
    engine = create_engine(get_settings().resolved_database_url)
    async with unit_of_work(create_sessionmaker(engine)) as session:
        blob = await service.seal(session, sys.argv[1], {"client_secret": sys.argv[2]}, context=sys.argv[3])
    await engine.dispose()
    print(blob.hex())

asyncio.run(main())
"""


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tenantry", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def secret_value() -> dict[str, str]:
    return {"client_secret": f"shh-{secrets.token_hex(16)}"}


async def sealed_projects(
    client: httpx.AsyncClient, org: Org, sessionmaker: Sessionmaker, count: int
) -> list[tuple[str, dict[str, str], bytes]]:
    sealed = []
    for _ in range(count):
        project = await create_project(client, org)
        value = secret_value()
        async with unit_of_work(sessionmaker) as session:
            sealed.append((project.id, value, await vault.seal(session, project.id, value, context=CONTEXT)))
    return sealed


async def unseal_all(sessionmaker: Sessionmaker, sealed: list[tuple[str, dict[str, str], bytes]]) -> None:
    async with unit_of_work(sessionmaker) as session:
        for project_id, value, blob in sealed:
            assert await vault.unseal(session, project_id, blob, context=CONTEXT) == value


async def master_key_ids(sessionmaker: Sessionmaker) -> dict[str, str]:
    async with unit_of_work(sessionmaker) as session:
        rows = await session.execute(select(ProjectDataKey.project_id, ProjectDataKey.master_key_id))
        return {project_id: kid for project_id, kid in rows}


def file_keyring() -> Keyring:
    return keyring.load(get_settings())


@pytest.fixture
def environment_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[UseKeys]:
    """Sets master keys in this process's environment; returns the same variables for a CLI run."""

    def use(current: MasterKey, previous: list[MasterKey]) -> dict[str, str]:
        variables = {
            "TENANTRY_MASTER_KEY": current.encode(),
            "TENANTRY_PREVIOUS_MASTER_KEYS": ",".join(key.encode() for key in previous),
        }
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        config.get_settings.cache_clear()
        vault.reset()
        return variables

    yield use
    monkeypatch.undo()
    config.get_settings.cache_clear()
    vault.reset()


class TestRotate:
    async def test_every_data_key_is_rewrapped_under_a_new_key_and_still_opens(
        self, server_env: dict[str, str], client: httpx.AsyncClient, org: Org, sessionmaker: Sessionmaker
    ) -> None:
        sealed = await sealed_projects(client, org, sessionmaker, 5)
        before = file_keyring()

        result = run_cli("keys", "rotate", "--batch-size", "2", env=server_env)
        assert result.returncode == 0, result.stderr

        after = file_keyring()
        assert after.current not in before.keys and after.keys[1:] == before.keys
        assert set((await master_key_ids(sessionmaker)).values()) == {after.current.kid}
        assert after.current.kid in result.stderr and "rewrapped" in result.stderr
        async with unit_of_work(sessionmaker) as session:
            rotated = await session.scalars(
                select(ProjectDataKey.rotated_at).where(ProjectDataKey.project_id.in_([p for p, _, _ in sealed]))
            )
            assert all(moment is not None for moment in rotated)
        vault.reset()
        await unseal_all(sessionmaker, sealed)

    async def test_a_worker_that_read_the_old_keyring_opens_keys_made_after_rotation(
        self, server_env: dict[str, str], client: httpx.AsyncClient, org: Org, sessionmaker: Sessionmaker
    ) -> None:
        await sealed_projects(client, org, sessionmaker, 1)  # this process has read the key file
        assert run_cli("keys", "rotate", env=server_env).returncode == 0
        rotated_to = file_keyring().current
        assert keyring.current().get(rotated_to.kid) is None

        project = await create_project(client, org)
        value = secret_value()
        made_elsewhere = subprocess.run(
            [sys.executable, "-c", SEAL_ELSEWHERE, project.id, value["client_secret"], CONTEXT],
            env={**os.environ, **server_env}, capture_output=True, text=True, timeout=60, check=True,
        )
        assert (await master_key_ids(sessionmaker))[project.id] == rotated_to.kid
        blob = bytes.fromhex(made_elsewhere.stdout.strip())
        await unseal_all(sessionmaker, [(project.id, value, blob)])

    async def test_a_worker_that_read_the_old_keyring_wraps_new_data_keys_under_the_new_key(
        self, server_env: dict[str, str], client: httpx.AsyncClient, org: Org, sessionmaker: Sessionmaker
    ) -> None:
        await sealed_projects(client, org, sessionmaker, 1)  # this process has read the key file
        assert run_cli("keys", "rotate", env=server_env).returncode == 0
        rotated_to = file_keyring().current
        assert keyring.current().get(rotated_to.kid) is None

        [(made_here, value, blob)] = await sealed_projects(client, org, sessionmaker, 1)
        assert (await master_key_ids(sessionmaker))[made_here] == rotated_to.kid
        vault.reset()
        await unseal_all(sessionmaker, [(made_here, value, blob)])

    async def test_servers_keep_serving_while_it_runs(
        self,
        server: Server,
        server_env: dict[str, str],
        client: httpx.AsyncClient,
        org: Org,
        sessionmaker: Sessionmaker,
    ) -> None:
        sealed = await sealed_projects(client, org, sessionmaker, 30)
        rotation = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tenantry", "keys", "rotate", "--batch-size", "1",
            env={**os.environ, **server_env}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        statuses, slowest = [], 0.0
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            while rotation.returncode is None:
                started = time.monotonic()
                statuses.append((await http.get("/healthz")).status_code)
                listed = await http.get("/api/v3.1/org/owner/project/list", headers=org.headers)
                statuses.append(listed.status_code)
                slowest = max(slowest, time.monotonic() - started)
                try:
                    await asyncio.wait_for(rotation.wait(), 0.01)
                except TimeoutError:
                    pass
        _, stderr = await rotation.communicate()
        assert rotation.returncode == 0, stderr.decode()
        assert statuses and set(statuses) == {200}
        assert slowest < 5
        assert set((await master_key_ids(sessionmaker)).values()) == {file_keyring().current.kid}
        vault.reset()
        await unseal_all(sessionmaker, sealed)

    async def test_a_data_key_under_an_unknown_master_key_is_reported(
        self, server_env: dict[str, str], client: httpx.AsyncClient, org: Org, sessionmaker: Sessionmaker
    ) -> None:
        [(project_id, value, blob)] = await sealed_projects(client, org, sessionmaker, 1)
        unknown = "0123456789abcdef"
        wrapped, original = await stored_data_key(sessionmaker, project_id)
        await store_data_key(sessionmaker, project_id, wrapped, unknown)
        try:
            result = run_cli("keys", "rotate", env=server_env)
            assert result.returncode == 1
            assert f"1 data keys under master key {unknown} could not be opened" in result.stderr
            vault.reset()
            with pytest.raises(MasterKeyUnavailable, match=f"{project_id}.*{unknown}.*TENANTRY_MASTER_KEY"):
                await unseal_all(sessionmaker, [(project_id, value, blob)])
        finally:
            await store_data_key(sessionmaker, project_id, wrapped, original)
        vault.reset()
        await unseal_all(sessionmaker, [(project_id, value, blob)])


class TestEnvironmentKeys:
    async def test_rotate_rewraps_under_the_environment_key_and_invents_none(
        self,
        server_env: dict[str, str],
        client: httpx.AsyncClient,
        org: Org,
        sessionmaker: Sessionmaker,
        environment_keys: UseKeys,
    ) -> None:
        sealed = await sealed_projects(client, org, sessionmaker, 3)
        from_file = file_keyring()
        file_text = keyring.key_file(get_settings()).read_text()
        new = MasterKey.generate()
        try:
            result = run_cli("keys", "rotate", env={**server_env, **environment_keys(new, list(from_file.keys))})
            assert result.returncode == 0, result.stderr
            assert "new master key" not in result.stderr
            assert keyring.key_file(get_settings()).read_text() == file_text
            assert set((await master_key_ids(sessionmaker)).values()) == {new.kid}
            await unseal_all(sessionmaker, sealed)
        finally:
            # Back under the key file's key, which the shared test server uses.
            back = run_cli("keys", "rotate", env={**server_env, **environment_keys(from_file.current, [new])})
            assert back.returncode == 0, back.stderr
        assert set((await master_key_ids(sessionmaker)).values()) == {from_file.current.kid}

    async def test_without_the_old_key_nothing_is_rewrapped_and_it_fails(
        self,
        server_env: dict[str, str],
        client: httpx.AsyncClient,
        org: Org,
        sessionmaker: Sessionmaker,
        environment_keys: UseKeys,
    ) -> None:
        await sealed_projects(client, org, sessionmaker, 1)
        before = await master_key_ids(sessionmaker)
        from_file = file_keyring()
        result = run_cli("keys", "rotate", env={**server_env, **environment_keys(MasterKey.generate(), [])})
        assert result.returncode == 1
        assert f"under master key {from_file.current.kid} could not be opened" in result.stderr
        assert await master_key_ids(sessionmaker) == before

    def test_a_malformed_environment_key_stops_it_without_showing_the_key(self, server_env: dict[str, str]) -> None:
        result = run_cli("keys", "rotate", env={**server_env, "TENANTRY_MASTER_KEY": "not-a-real-key-7f3a"})
        assert result.returncode == 1
        assert "TENANTRY_MASTER_KEY is not a master key" in result.stderr and "7f3a" not in result.stderr

    def test_prune_leaves_environment_keys_to_the_operator(
        self, server_env: dict[str, str], environment_keys: UseKeys
    ) -> None:
        result = run_cli("keys", "prune", env={**server_env, **environment_keys(MasterKey.generate(), [])})
        assert result.returncode == 2 and "TENANTRY_PREVIOUS_MASTER_KEYS" in result.stderr


class TestPrune:
    async def test_drops_old_keys_only_once_no_data_key_uses_them(
        self, server_env: dict[str, str], client: httpx.AsyncClient, org: Org, sessionmaker: Sessionmaker
    ) -> None:
        sealed = await sealed_projects(client, org, sessionmaker, 2)
        assert run_cli("keys", "rotate", env=server_env).returncode == 0
        ring = file_keyring()
        older = ring.keys[1]
        # One data key back under an older master key, as a rotation that stopped half-way leaves it.
        project_id = sealed[0][0]
        data_key = ring.unwrap(project_id, *await stored_data_key(sessionmaker, project_id))
        await store_data_key(
            sessionmaker, project_id, *Keyring((older,), from_environment=False).wrap(project_id, data_key)
        )

        result = run_cli("keys", "prune", env=server_env)
        assert result.returncode == 0, result.stderr
        assert file_keyring().keys == (ring.current, older)
        vault.reset()
        await unseal_all(sessionmaker, sealed)

        assert run_cli("keys", "rotate", env=server_env).returncode == 0
        assert run_cli("keys", "prune", env=server_env).returncode == 0
        assert len(file_keyring().keys) == 1
        vault.reset()
        await unseal_all(sessionmaker, sealed)
