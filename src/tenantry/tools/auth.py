"""Who may read and run tools: a project key (Composio's Tools, Tool execution and Proxy execute areas)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tenantry.auth.principal import Principal, project_principal
from tenantry.tools.runtime import ToolRuntime

ToolsRead = Annotated[Principal, Depends(project_principal)]
ToolExecution = Annotated[Principal, Depends(project_principal)]
ProxyExecute = Annotated[Principal, Depends(project_principal)]


async def _runtime(request: Request) -> ToolRuntime:
    return request.app.state.tools  # type: ignore[no-any-return]


Runtime = Annotated[ToolRuntime, Depends(_runtime)]
