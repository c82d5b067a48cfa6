"""Who may manage auth configs: a key of the project that owns them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tenantry.auth.principal import Principal, project_principal

AuthConfigsRead = Annotated[Principal, Depends(project_principal)]
AuthConfigsWrite = Annotated[Principal, Depends(project_principal)]
