from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry import config
from tenantry.db import create_engine, create_sessionmaker
from tests.fixtures.database import fresh_database
from tests.factories import Org, ProjectWithKey, create_org, create_project
from tests.fixtures.oauth_provider import Provider, start_provider, toolkits_file
from tests.fixtures.server import Server, start_server

# The test process and the servers it starts share one pepper, so factories that write keys
# straight to the database mint keys the servers accept.
SECRET_KEY = f"test-{secrets.token_hex(16)}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from fresh_database(tmp_path_factory.mktemp("database"))


@pytest.fixture(scope="session")
def oauth_provider() -> Iterator[Provider]:
    provider, server = start_provider()
    yield provider
    server.should_exit = True


@pytest.fixture(scope="session")
def server_env(database_url: str, tmp_path_factory: pytest.TempPathFactory, oauth_provider: Provider) -> dict[str, str]:
    data_dir = tmp_path_factory.mktemp("data")
    toolkits = data_dir / "toolkits.toml"
    toolkits.write_text(toolkits_file(oauth_provider))
    env = {
        "TENANTRY_DATABASE_URL": database_url,
        "TENANTRY_SECRET_KEY": SECRET_KEY,
        "TENANTRY_DATA_DIR": str(data_dir),
        "TENANTRY_TOOLKITS_FILE": str(toolkits),
        # Webhook receivers in the tests listen on loopback over plain http, and retries are quick.
        "TENANTRY_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "TENANTRY_WEBHOOK_ALLOW_HTTP": "true",
        "TENANTRY_WEBHOOK_RETRY_SCHEDULE": "0,1,1,1",
    }
    # The test process reads the same settings as the servers.
    os.environ.update(env)
    config.get_settings.cache_clear()
    config.key_pepper.cache_clear()
    return env


def _server(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Server]:
    server = start_server(env, tmp_path_factory.mktemp(name) / "server.log")
    yield server
    server.stop()
    # A server that logged an unexpected error failed the run, whatever the tests saw.
    assert "Traceback" not in server.log(), server.log()


@pytest.fixture(scope="session")
def server(server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _server(server_env, tmp_path_factory, "server")


@pytest.fixture(scope="session")
def other_server(
    server: Server, server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A second worker process on the same database, with its own caches."""
    yield from _server(server_env, tmp_path_factory, "other-server")


@pytest.fixture(scope="session")
async def sessionmaker(server_env: dict[str, str], database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{server.base_url}/api/v3.1", timeout=30) as http:
        yield http


@pytest.fixture
async def org(sessionmaker: async_sessionmaker[AsyncSession]) -> Org:
    return await create_org(sessionmaker)


@pytest.fixture
async def other_org(sessionmaker: async_sessionmaker[AsyncSession]) -> Org:
    return await create_org(sessionmaker)


@pytest.fixture
async def project(client: httpx.AsyncClient, org: "Org") -> ProjectWithKey:
    return await create_project(client, org)
