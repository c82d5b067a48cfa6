"""What is at rest: no plaintext key anywhere in the database, and the schema the migrations build."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.models import Base
from tenantry.kit.redaction import redact_url
from tests.factories import Org, create_api_key_account, create_auth_config, create_project
from tests.fixtures.server import Server, start_server


async def _every_stored_value(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    chunks = []
    async with unit_of_work(sessionmaker) as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                chunks.append(repr(tuple(row)))
    return "\n".join(chunks)


class TestNoPlaintextKeys:
    async def test_keys_appear_nowhere_in_the_database(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        database_url: str,
        server: Server,
        org: Org,
    ) -> None:
        project = await create_project(client, org)
        regenerated = await client.post(f"/org/owner/project/{project.id}/regenerate_api_key", headers=org.headers)
        plaintexts = [org.api_key, project.api_key, regenerated.json()["api_key"]["key"]]
        # Each key's random body, without its prefix, so no encoding of the key can hide it.
        bodies = [key.split("_", 1)[1] for key in plaintexts]

        stored = await _every_stored_value(sessionmaker)
        assert project.id in stored  # the dump does hold the rows
        for body in bodies:
            assert body not in stored

        server_log = server.log()
        for body in bodies:
            assert body not in server_log

        url = make_url(database_url)
        if url.get_backend_name() == "sqlite":
            # The database file and its write-ahead log, whatever has or has not been checkpointed.
            database = Path(url.database or "")
            raw = b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
            for body in bodies:
                assert body.encode() not in raw


class TestNoPlaintextSecrets:
    async def test_credentials_and_app_secrets_appear_nowhere_in_the_database(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        database_url: str,
        server: Server,
        org: Org,
    ) -> None:
        project = await create_project(client, org)
        client_secret, api_key = "app-secret-" + "q" * 24, "sk_live_" + "z" * 24
        await create_auth_config(
            client, project, "github", type="use_custom_auth", authScheme="OAUTH2",
            credentials={"client_id": "Iv1.public", "client_secret": client_secret},
        )
        stripe = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        account_id = await create_api_key_account(client, project, stripe, api_key)
        await client.patch("/org/project/config", json={"mask_secret_keys_in_connected_account": False}, headers=project.headers)
        shown = (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).json()
        assert shown["state"]["val"]["api_key"] == api_key  # the server can still read it

        stored = await _every_stored_value(sessionmaker)
        assert account_id in stored
        for secret in (client_secret, api_key):
            assert secret not in stored
            assert secret not in server.log()
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite":
            database = Path(url.database or "")
            raw = b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
            for secret in (client_secret, api_key):
                assert secret.encode() not in raw


@pytest.fixture(scope="module")
def logging_server(server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that writes every request line, as `tenantry serve` does by default."""
    started = start_server(server_env, tmp_path_factory.mktemp("access-log") / "server.log", access_log=True)
    yield started
    started.stop()


class TestNoCapabilitiesInTheAccessLog:
    async def test_tokens_in_urls_are_redacted(self, logging_server: Server) -> None:
        server = logging_server
        secrets = {"invite": "inv" + "k" * 30, "link": "lnk" + "m" * 30, "code": "code" + "n" * 20, "state": "st" + "p" * 20}
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as raw:
            await raw.get(f"/dashboard/invitations/{secrets['invite']}")
            await raw.get(f"/link/{secrets['link']}")
            await raw.get("/api/v3.1/toolkits/auth/callback", params={"code": secrets["code"], "state": secrets["state"]})
        log = server.log()
        assert "/dashboard/invitations/[redacted]" in log and "code=[redacted]&state=[redacted]" in log
        for secret in secrets.values():
            assert secret not in log


def test_redact_url_keeps_everything_but_the_secrets() -> None:
    assert redact_url("/link/abc?x=1") == "/link/[redacted]?x=1"
    assert redact_url("/cb?state=s1&code=c2&keep=3") == "/cb?state=[redacted]&code=[redacted]&keep=3"
    assert redact_url("/api/v3.1/auth_configs?toolkit_slug=github") == "/api/v3.1/auth_configs?toolkit_slug=github"
