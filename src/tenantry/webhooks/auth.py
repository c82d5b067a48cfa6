"""Who may manage webhook subscriptions and their delivery log: a key of the project that owns them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tenantry.auth.principal import Principal, project_principal

WebhooksRead = Annotated[Principal, Depends(project_principal)]
WebhooksWrite = Annotated[Principal, Depends(project_principal)]
