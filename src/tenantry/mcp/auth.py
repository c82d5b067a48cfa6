"""Who may configure MCP servers: a key of the project that owns them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tenantry.auth.principal import Principal, project_principal

McpRead = Annotated[Principal, Depends(project_principal)]
McpWrite = Annotated[Principal, Depends(project_principal)]
