"""Every table. Alembic imports this package, and only this package, to know the schema."""

from tenantry.models.api_key import ApiKey
from tenantry.models.base import Base
from tenantry.models.cache_epoch import CacheEpoch
from tenantry.models.organization import Organization
from tenantry.models.project import Project, ProjectSettings

__all__ = ["ApiKey", "Base", "CacheEpoch", "Organization", "Project", "ProjectSettings"]
