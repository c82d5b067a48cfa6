"""The two baselines of bench/hot_path.py: the hot path's route with nothing behind it.

Each app serves one async route at the real app's path and answers with a fixed body (no
auth, no database, no validation), so the real app's distance from these is the cost of
everything Tenantry adds on top of the framework. The body is the exact bytes the real app
returned, read from the file named by BENCH_BODY_FILE, so every app sends the same payload.

Run as uvicorn factories, e.g.
    uvicorn --factory --app-dir bench bare_apps:create_fastapi_app
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PATH = "/api/v3.1/org/project/config"


def _body() -> bytes:
    return Path(os.environ["BENCH_BODY_FILE"]).read_bytes()


def create_fastapi_app() -> FastAPI:
    body = _body()
    app = FastAPI()

    @app.get(PATH)
    async def config() -> Response:
        return Response(content=body, media_type="application/json")

    return app


def create_starlette_app() -> Starlette:
    body = _body()

    async def config(request: Request) -> Response:
        return Response(content=body, media_type="application/json")

    return Starlette(routes=[Route(PATH, config, methods=["GET"])])


def create_fastapi_echo_app() -> FastAPI:
    """The baseline of bench/routes.py: a GET answering fixed bytes and a POST echoing its JSON body.

    The POST takes its body as a validated `dict`, as the cheapest real FastAPI write handler would.
    """
    body = _body()
    app = FastAPI()

    @app.get("/bare")
    async def read() -> Response:
        return Response(content=body, media_type="application/json")

    @app.post("/bare")
    async def write(payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    return app
