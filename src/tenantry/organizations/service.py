from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.api_keys import service as api_keys
from tenantry.kit import ids
from tenantry.kit.keys import KeyKind
from tenantry.kit.time import utcnow
from tenantry.models import Organization
from tenantry.organizations.repository import OrganizationRepository
from tenantry.organizations.schemas import OrganizationCreate, OrganizationCreated


async def create(
    session: AsyncSession, payload: OrganizationCreate, *, created_at: datetime | None = None
) -> OrganizationCreated:
    """A new organization and its first org API key.

    `created_at` exists for imports and tests: Composio's defaults depend on an organization's age.
    """
    moment = created_at or utcnow()
    organization = Organization(id=ids.nano_id("ok"), name=payload.name, created_at=moment, updated_at=moment)
    await OrganizationRepository(session).add(organization)
    _, plaintext = await api_keys.mint(
        session, kind=KeyKind.organization, org_id=organization.id, name="default"
    )
    return OrganizationCreated(id=organization.id, name=organization.name, api_key=plaintext)
