from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tenantry.api_keys.schemas import ApiKey
from tenantry.kit.inputs import NoNul, RequestBody
from tenantry.kit.time import Timestamp
from tenantry.settings.schemas import ProjectConfigInitial

ProjectName = Annotated[str, StringConstraints(min_length=3, max_length=75, pattern=r"^[a-zA-Z0-9_-]+$"), NoNul]


class ProjectCreate(RequestBody):
    model_config = ConfigDict(extra="forbid")

    name: ProjectName = Field(description="3–75 characters of letters, digits, `_` and `-`; unique among the organization's live projects.")
    should_create_api_key: bool = False
    config: ProjectConfigInitial | None = None


class ProjectCreated(BaseModel):
    id: str
    name: str
    api_key: str | None = Field(description="The full project key, shown only here; null unless should_create_api_key.")


class Project(BaseModel):
    """A project as Composio lists it. The legacy webhook fields are always null."""

    id: str
    org_id: str
    name: str
    email: str
    created_at: Timestamp
    updated_at: Timestamp
    webhook_url: None = None
    event_webhook_url: None = None
    webhook_secret: None = None
    triggers_enabled: bool = True
    last_subscribed_at: None = None
    is_new_webhook: bool = True
    webhook_version: Literal["V1", "V2", "V3"] = "V3"
    deleted: bool = False


class ProjectDetail(Project):
    api_keys: list[ApiKey]


class ProjectList(BaseModel):
    data: list[Project]
    next_cursor: str | None
    total_pages: int
    current_page: int
    total_items: int


class ProjectDeleted(BaseModel):
    status: Literal["success"] = "success"
    revoke_job_id: str | None = Field(
        default=None,
        description="With `revoke_on_delete=true`: the background job revoking the project's OAuth grants upstream.",
    )
