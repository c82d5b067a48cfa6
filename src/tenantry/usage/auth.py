"""Who may read usage: a project key for its project (Observability), the org key for every project."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tenantry.auth.principal import Principal, org_principal, project_principal

ObservabilityRead = Annotated[Principal, Depends(project_principal)]
OrgUsageRead = Annotated[Principal, Depends(org_principal)]
