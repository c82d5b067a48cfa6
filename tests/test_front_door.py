"""The front door over a real socket: an unexpected error is answered and the connection lives on.

A route that raises something no handler knows must be answered 500 in the envelope, and the
client's keep-alive connection must serve its next request; before the front door, Starlette
re-raised after answering and the server closed the connection (issue 21, item 2). The app runs
in this process (so a failing route can be added to it) under a real uvicorn server.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from tenantry.main import create_app
from tests.fixtures.server import free_port


def _failing_app() -> Any:
    app = create_app()

    async def fails() -> None:
        raise RuntimeError("a bug nobody handled")

    app.add_api_route("/api/v3.1/_test/fails", fails, methods=["GET"])
    app.build_front_door()
    return app


@pytest.fixture
def served(server: Any) -> Iterator[int]:
    # `server` has migrated the database this app uses.
    port = free_port()
    uvicorn_server = uvicorn.Server(uvicorn.Config(_failing_app(), host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uvicorn_server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield port
    uvicorn_server.should_exit = True
    thread.join(timeout=15)


def _exchange(connection: socket.socket, path: str) -> tuple[int, dict[str, Any]]:
    connection.sendall(f"GET {path} HTTP/1.1\r\nhost: tenantry\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    while len(body) < length:
        chunk = connection.recv(65536)
        assert chunk, "the server closed the connection mid-body"
        body += chunk
    return int(lines[0].split()[1]), json.loads(body)


def test_an_unexpected_error_leaves_the_connection_usable(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served), timeout=10) as connection:
        status, body = _exchange(connection, "/api/v3.1/_test/fails")
        assert status == 500
        assert body["error"]["slug"] == "Server_InternalError" and body["error"]["request_id"]
        assert "a bug nobody handled" not in json.dumps(body)
        # The same connection answers the next request.
        assert _exchange(connection, "/healthz") == (200, {"status": "ok"})


def test_a_path_with_other_methods_lists_them_all(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served), timeout=10) as connection:
        connection.sendall(b"PUT /api/v3.1/auth_configs/ac_x HTTP/1.1\r\nhost: tenantry\r\ncontent-length: 0\r\n\r\n")
        head = connection.recv(65536).decode("latin-1")
    assert head.startswith("HTTP/1.1 405")
    allow = next(line.split(":", 1)[1].strip() for line in head.split("\r\n") if line.lower().startswith("allow:"))
    assert set(allow.split(", ")) == {"GET", "PATCH", "DELETE"}
