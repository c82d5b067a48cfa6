"""Who may manage projects: an organization key, or a member's user key (tenantry.members.auth),
reaching that organization's projects only."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from tenantry.auth import tenancy
from tenantry.db import Session
from tenantry.kit.inputs import NoNul
from tenantry.members.auth import OrgActor, OrgAdmin
from tenantry.models import Project

# Any member of the organization, or its organization key.
OrgKey = OrgActor
# Deleting and restoring projects and reading the audit log need an admin (or the organization key).
OrgAdminKey = OrgAdmin
ProjectId = Annotated[str, Path(description="The project's id, `pr_` + 12 characters."), NoNul]


async def _org_project(principal: OrgKey, session: Session, nano_id: ProjectId) -> Project:
    return await tenancy.project_of_org(session, principal, nano_id)


async def _locked_org_project(principal: OrgKey, session: Session, nano_id: ProjectId) -> Project:
    # Changes that must not interleave (delete, regenerate, key changes) hold the project row until commit.
    return await tenancy.project_of_org(session, principal, nano_id, for_update=True)


OrgProject = Annotated[Project, Depends(_org_project)]
LockedOrgProject = Annotated[Project, Depends(_locked_org_project)]
