from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tenantry.kit.inputs import RequestBody


class RateLimit(BaseModel):
    """The request limit a project's keys are held to."""

    project_id: str
    requests_per_window: int | None = Field(description="None: no limit.")
    window_size_seconds: int
    # "project": the organization set this project's own limit; "organization": the server's default.
    source: Literal["project", "organization"]


class RateLimitUpdate(RequestBody):
    """The project's own limit; `null` removes it, so the organization's applies again."""

    model_config = ConfigDict(extra="forbid")

    requests_per_window: int | None = Field(ge=1, le=1_000_000_000)
