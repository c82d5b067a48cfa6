"""What is at rest: the database holds no data key, master key or sealed value in plaintext."""

from __future__ import annotations

import secrets
import stat

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.config import get_settings
from tenantry.db import unit_of_work
from tenantry.vault import keyring
from tenantry.vault import service as vault
from tests.factories import ProjectWithKey
from tests.vault.raw import encodings, stored_bytes, stored_data_key

Sessionmaker = async_sessionmaker[AsyncSession]


class TestNothingInPlaintext:
    async def test_the_raw_database_holds_no_key_and_no_sealed_value(
        self, sessionmaker: Sessionmaker, database_url: str, project: ProjectWithKey
    ) -> None:
        secret = f"shh-{secrets.token_hex(16)}"
        async with unit_of_work(sessionmaker) as session:
            await vault.seal(session, project.id, {"client_secret": secret}, context="auth_config:ac_x:secrets")
        wrapped, kid = await stored_data_key(sessionmaker, project.id)
        ring = keyring.current()
        data_key = ring.unwrap(project.id, wrapped, kid)

        stored = await stored_bytes(sessionmaker, database_url)
        assert project.id.encode() in stored and kid.encode() in stored  # the dump does hold the row
        needles = [*encodings(data_key), secret.encode()]
        for master in ring.keys:
            needles += encodings(master.key)
        for needle in needles:
            assert needle not in stored

    async def test_the_key_file_is_private(self, sessionmaker: Sessionmaker, project: ProjectWithKey) -> None:
        async with unit_of_work(sessionmaker) as session:
            await vault.seal(session, project.id, {"k": "v"}, context="test")
        path = keyring.key_file(get_settings())
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
