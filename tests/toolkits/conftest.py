from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from composio_client import AsyncComposio

from tests.factories import ProjectWithKey
from tests.fixtures.server import Server, start_server
from tests.toolkits.helpers import MANAGED_CLIENT_SECRET, OPERATOR_FILE


def _serve(env: dict[str, str], log_path: Path) -> Iterator[Server]:
    server = start_server(env, log_path)
    yield server
    server.stop()
    log = server.log()
    assert "Traceback" not in log, log
    assert MANAGED_CLIENT_SECRET not in log


@pytest.fixture(scope="module")
def builtin_server(server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server on the shared database with only the built-in catalog (the shared one has test toolkits)."""
    env = {**server_env, "TENANTRY_TOOLKITS_FILE": ""}
    yield from _serve(env, tmp_path_factory.mktemp("builtin-server") / "server.log")


@pytest.fixture
async def builtin_client(builtin_server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{builtin_server.base_url}/api/v3.1", timeout=30) as http:
        yield http


@pytest.fixture
async def composio(builtin_server: Server, project: ProjectWithKey) -> AsyncIterator[AsyncComposio]:
    """The official client, pointed at the built-in catalog with a project key."""
    async with AsyncComposio(api_key=project.api_key, base_url=builtin_server.base_url, max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def operator_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("operator") / "toolkits.toml"
    path.write_text(OPERATOR_FILE)
    return path


@pytest.fixture(scope="module")
def operator_server(
    server_env: dict[str, str], operator_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server on the shared database whose catalog includes the operator file."""
    env = {**server_env, "TENANTRY_TOOLKITS_FILE": str(operator_file)}
    yield from _serve(env, tmp_path_factory.mktemp("operator-server") / "server.log")


@pytest.fixture
async def operator_client(operator_server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{operator_server.base_url}/api/v3.1", timeout=30) as http:
        yield http


@pytest.fixture
async def operator_composio(operator_server: Server, project: ProjectWithKey) -> AsyncIterator[AsyncComposio]:
    async with AsyncComposio(api_key=project.api_key, base_url=operator_server.base_url, max_retries=0) as client:
        yield client
