from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tenantry.kit.time import Timestamp


class AuditEvent(BaseModel):
    """One control-plane change."""

    id: str
    action: str = Field(description="`<object>.<verb>`, e.g. `project.deleted`, `api_key.created`, `auth_config.updated`.")
    org_id: str
    project_id: str | None
    actor_type: str = Field(description="`org_key`, `user_key`, `project_key`, or `system` (background jobs, the command line).")
    actor_id: str | None = Field(description="The id of the key that made the change.")
    member_id: str | None = Field(description="The member behind a user key.")
    target_type: str
    target_id: str
    request_id: str | None = Field(description="The request's `x-request-id`, as its response carried it.")
    details: dict[str, Any] | None = Field(description="What changed; never a secret. Null once the project is purged.")
    created_at: Timestamp


class AuditEventList(BaseModel):
    items: list[AuditEvent]
    next_cursor: str | None
