"""Who may manage connected accounts: a key of the project that owns them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tenantry.auth.principal import Principal, project_principal

ConnectedAccountsRead = Annotated[Principal, Depends(project_principal)]
ConnectedAccountsWrite = Annotated[Principal, Depends(project_principal)]
