"""The toolkit API bench/tools.py calls: one authenticated route answering a small fixed JSON body.

Run as a uvicorn factory (`uvicorn --factory --app-dir bench tool_api:create_tool_api`); the
token it accepts is BENCH_API_TOKEN.
"""

from __future__ import annotations

import json
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_tool_api() -> Starlette:
    expected = f"Bearer {os.environ['BENCH_API_TOKEN']}"

    async def item(request: Request) -> Response:
        if request.headers.get("authorization") != expected:
            return Response(b'{"message":"unauthorized"}', status_code=401, media_type="application/json")
        body = {"id": request.path_params["item"], "name": "A benchmark item", "price": 42.5, "tags": ["a", "b"]}
        return Response(json.dumps(body).encode(), media_type="application/json")

    return Starlette(routes=[Route("/v1/items/{item}", item, methods=["GET"])])
