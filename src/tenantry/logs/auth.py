"""Who may read execution logs: a key of the project they belong to (Composio's Observability area)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tenantry.auth.principal import Principal, project_principal

ObservabilityRead = Annotated[Principal, Depends(project_principal)]
