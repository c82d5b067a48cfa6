"""Every table. Alembic imports this package, and only this package, to know the schema."""

from tenantry.models.api_key import ApiKey
from tenantry.models.auth_config import AuthConfig
from tenantry.models.base import Base
from tenantry.models.cache_epoch import CacheEpoch
from tenantry.models.connected_account import ConnectedAccount
from tenantry.models.organization import Organization
from tenantry.models.project import Project, ProjectSettings
from tenantry.models.vault import ProjectDataKey

__all__ = [
    "ApiKey",
    "AuthConfig",
    "Base",
    "CacheEpoch",
    "ConnectedAccount",
    "Organization",
    "Project",
    "ProjectDataKey",
    "ProjectSettings",
]
