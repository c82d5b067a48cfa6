"""Who may read and change a project's settings: a key of that project."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tenantry.auth.principal import Principal, project_principal

ProjectKey = Annotated[Principal, Depends(project_principal)]
