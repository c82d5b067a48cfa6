"""Sealing and opening secrets against the real database: what opens, what must not, and when
data keys are created."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.models import ProjectDataKey
from tenantry.vault import service as vault
from tenantry.vault.errors import DataKeyMissing, SecretUnreadable, VaultError
from tests.factories import Org, ProjectWithKey, create_project
from tests.vault.raw import store_data_key, stored_data_key

Sessionmaker = async_sessionmaker[AsyncSession]

CONTEXT = "auth_config:ac_test:credentials"


def a_secret() -> dict[str, str]:
    return {"client_id": "app-123", "client_secret": f"shh-{secrets.token_hex(16)}"}


async def seal(sessionmaker: Sessionmaker, project_id: str, value: dict[str, Any], context: str = CONTEXT) -> bytes:
    async with unit_of_work(sessionmaker) as session:
        return await vault.seal(session, project_id, value, context=context)


async def unseal(sessionmaker: Sessionmaker, project_id: str, blob: bytes, context: str = CONTEXT) -> dict[str, Any]:
    async with unit_of_work(sessionmaker) as session:
        return await vault.unseal(session, project_id, blob, context=context)


async def data_key_rows(sessionmaker: Sessionmaker, project_id: str) -> int:
    async with unit_of_work(sessionmaker) as session:
        return await session.scalar(
            select(func.count()).select_from(ProjectDataKey).where(ProjectDataKey.project_id == project_id)
        ) or 0


class TestRoundTrip:
    async def test_unseal_returns_what_was_sealed(
        self, sessionmaker: Sessionmaker, project: ProjectWithKey
    ) -> None:
        value = {**a_secret(), "scopes": ["read", "write"], "nested": {"n": 1, "ok": True, "none": None}}
        blob = await seal(sessionmaker, project.id, value)
        assert await unseal(sessionmaker, project.id, blob) == value

    async def test_blob_is_version_nonce_ciphertext_and_tag(
        self, sessionmaker: Sessionmaker, project: ProjectWithKey
    ) -> None:
        value = a_secret()
        blob = await seal(sessionmaker, project.id, value)
        plaintext = json.dumps(value, separators=(",", ":")).encode()
        assert blob[0] == vault.BLOB_VERSION
        assert len(blob) == 1 + 12 + len(plaintext) + 16
        assert value["client_secret"].encode() not in blob

    async def test_the_same_value_seals_differently_each_time(
        self, sessionmaker: Sessionmaker, project: ProjectWithKey
    ) -> None:
        value = a_secret()
        assert await seal(sessionmaker, project.id, value) != await seal(sessionmaker, project.id, value)

    async def test_a_fresh_process_opens_it(
        self, sessionmaker: Sessionmaker, project: ProjectWithKey
    ) -> None:
        value = a_secret()
        blob = await seal(sessionmaker, project.id, value)
        vault.reset()
        assert await unseal(sessionmaker, project.id, blob) == value

    async def test_non_json_values_are_refused_without_showing_them(
        self, sessionmaker: Sessionmaker, project: ProjectWithKey
    ) -> None:
        with pytest.raises(TypeError) as raised:
            await seal(sessionmaker, project.id, {"client_secret": b"shh-bytes"})
        assert "shh-bytes" not in str(raised.value)


class TestRefused:
    """Every way a blob can be misused fails loudly, and no error shows the secret."""

    @pytest.fixture
    async def sealed(
        self, sessionmaker: Sessionmaker, project: ProjectWithKey
    ) -> tuple[ProjectWithKey, dict[str, str], bytes]:
        value = a_secret()
        return project, value, await seal(sessionmaker, project.id, value)

    @staticmethod
    async def refused(
        sessionmaker: Sessionmaker,
        project_id: str,
        blob: bytes,
        value: dict[str, str],
        error: type[VaultError] = SecretUnreadable,
        context: str = CONTEXT,
    ) -> None:
        for fresh in (False, True):
            if fresh:
                vault.reset()
            with pytest.raises(error) as raised:
                await unseal(sessionmaker, project_id, blob, context)
            assert value["client_secret"] not in str(raised.value)
            assert raised.value.__cause__ is None or value["client_secret"] not in str(raised.value.__cause__)

    @pytest.mark.parametrize("context", ["auth_config:ac_other:credentials", "auth_config:ac_test:secret", ""])
    async def test_wrong_context(self, sessionmaker, sealed, context: str) -> None:  # type: ignore[no-untyped-def]
        project, value, blob = sealed
        await self.refused(sessionmaker, project.id, blob, value, context=context)

    @pytest.mark.parametrize(
        "position", [0, 1, 12, 13, -17, -1], ids=["version", "nonce", "nonce-end", "ciphertext", "tag", "tag-end"]
    )
    async def test_tampered_byte(self, sessionmaker, sealed, position: int) -> None:  # type: ignore[no-untyped-def]
        project, value, blob = sealed
        tampered = bytearray(blob)
        tampered[position] ^= 0x01
        await self.refused(sessionmaker, project.id, bytes(tampered), value)

    @pytest.mark.parametrize("length", [0, 1, 13, 28, -1])
    async def test_truncated(self, sessionmaker, sealed, length: int) -> None:  # type: ignore[no-untyped-def]
        project, value, blob = sealed
        await self.refused(sessionmaker, project.id, blob[:length], value)

    async def test_another_projects_key_does_not_open_it(
        self, sessionmaker, sealed, client: httpx.AsyncClient, org: Org  # type: ignore[no-untyped-def]
    ) -> None:
        _, value, blob = sealed
        other = await create_project(client, org)
        await self.refused(sessionmaker, other.id, blob, value, error=DataKeyMissing)
        await seal(sessionmaker, other.id, a_secret())
        await self.refused(sessionmaker, other.id, blob, value)

    async def test_a_wrapped_key_copied_to_another_project_does_not_open(
        self, sessionmaker, sealed, client: httpx.AsyncClient, org: Org  # type: ignore[no-untyped-def]
    ) -> None:
        project, value, blob = sealed
        other = await create_project(client, org)
        await seal(sessionmaker, other.id, a_secret())
        await store_data_key(sessionmaker, other.id, *await stored_data_key(sessionmaker, project.id))
        vault.reset()
        with pytest.raises(SecretUnreadable) as raised:
            await unseal(sessionmaker, other.id, blob)
        assert other.id in str(raised.value)

    async def test_destroyed_key_opens_nothing(self, sessionmaker, sealed) -> None:  # type: ignore[no-untyped-def]
        project, value, blob = sealed
        async with unit_of_work(sessionmaker) as session:
            await vault.destroy(session, project.id)
        assert await data_key_rows(sessionmaker, project.id) == 0
        await self.refused(sessionmaker, project.id, blob, value, error=DataKeyMissing)


class TestDataKeyCreation:
    async def test_concurrent_first_seals_create_exactly_one_key(
        self, sessionmaker: Sessionmaker, project: ProjectWithKey
    ) -> None:
        values = [a_secret() for _ in range(12)]
        blobs = await asyncio.gather(*(seal(sessionmaker, project.id, value) for value in values))
        assert await data_key_rows(sessionmaker, project.id) == 1
        vault.reset()
        assert [await unseal(sessionmaker, project.id, blob) for blob in blobs] == values

    async def test_a_key_from_a_rolled_back_transaction_is_not_used_again(
        self, sessionmaker: Sessionmaker, project: ProjectWithKey
    ) -> None:
        with pytest.raises(RuntimeError):
            async with unit_of_work(sessionmaker) as session:
                await vault.seal(session, project.id, a_secret(), context=CONTEXT)
                raise RuntimeError("the request failed after sealing")
        assert await data_key_rows(sessionmaker, project.id) == 0
        value = a_secret()
        blob = await seal(sessionmaker, project.id, value)
        assert await data_key_rows(sessionmaker, project.id) == 1
        vault.reset()
        assert await unseal(sessionmaker, project.id, blob) == value

    async def test_seal_and_unseal_in_the_transaction_that_creates_the_key(
        self, sessionmaker: Sessionmaker, project: ProjectWithKey
    ) -> None:
        value = a_secret()
        async with unit_of_work(sessionmaker) as session:
            blob = await vault.seal(session, project.id, value, context=CONTEXT)
            again = await vault.seal(session, project.id, value, context=CONTEXT)
            assert await vault.unseal(session, project.id, blob, context=CONTEXT) == value
        vault.reset()
        assert await unseal(sessionmaker, project.id, again) == value

    async def test_unseal_never_creates_a_key(
        self, sessionmaker: Sessionmaker, project: ProjectWithKey
    ) -> None:
        with pytest.raises(DataKeyMissing):
            await unseal(sessionmaker, project.id, b"\x01" + bytes(40))
        assert await data_key_rows(sessionmaker, project.id) == 0
