"""Every table. Alembic imports this package, and only this package, to know the schema."""

from tenantry.models.api_key import ApiKey
from tenantry.models.audit_event import AuditEvent
from tenantry.models.auth_config import AuthConfig
from tenantry.models.base import Base
from tenantry.models.cache_epoch import CacheEpoch
from tenantry.models.connected_account import ConnectedAccount
from tenantry.models.dashboard_session import DashboardSession
from tenantry.models.mcp_server import McpServer, McpServerInstance
from tenantry.models.member import Member, Membership
from tenantry.models.member_invitation import MemberInvitation
from tenantry.models.organization import Organization
from tenantry.models.outbox import OutboxJob
from tenantry.models.project import Project, ProjectSettings
from tenantry.models.rate_limit import ProjectRateLimit
from tenantry.models.tool_execution_log import ToolExecutionLog
from tenantry.models.usage_event import UsageEvent
from tenantry.models.vault import ProjectDataKey
from tenantry.models.webhook import WebhookAttempt, WebhookMessage, WebhookSubscription

__all__ = [
    "ApiKey",
    "AuditEvent",
    "AuthConfig",
    "Base",
    "CacheEpoch",
    "ConnectedAccount",
    "DashboardSession",
    "McpServer",
    "McpServerInstance",
    "Member",
    "MemberInvitation",
    "Membership",
    "Organization",
    "OutboxJob",
    "Project",
    "ProjectDataKey",
    "ProjectRateLimit",
    "ProjectSettings",
    "ToolExecutionLog",
    "UsageEvent",
    "WebhookAttempt",
    "WebhookMessage",
    "WebhookSubscription",
]
