"""Tool-execution logs on the wire (reference §3.15–3.16)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tenantry.kit.inputs import Choice, CursorText, NoNul, RequestBody
from tenantry.kit.time import Timestamp


class FilterField(StrEnum):
    tool_slug = "tool_slug"
    toolkit_slug = "toolkit_slug"
    connected_account_id = "connected_account_id"
    auth_config_id = "auth_config_id"
    status = "status"
    user_id = "user_id"
    session_id = "session_id"
    sandbox_id = "sandbox_id"
    request_id = "request_id"
    log_id = "log_id"


class Operator(StrEnum):
    equals = "=="
    differs = "!="
    contains = "contains"
    not_contains = "not_contains"


class SearchFilter(RequestBody):
    model_config = ConfigDict(extra="forbid")

    field: Choice[FilterField]
    operator: Choice[Operator]
    value: Annotated[str, Field(max_length=500), NoNul]


class TimeRange(RequestBody):
    model_config = ConfigDict(extra="forbid")

    from_: float = Field(alias="from", ge=0, description="Epoch milliseconds, inclusive; must be before `to`.")
    to: float = Field(ge=0, description="Epoch milliseconds, exclusive; must be after `from`.")


class LogSearch(RequestBody):
    """Which logs to list: newest first, filters AND-combined."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=100)
    cursor: CursorText | None = Field(default=None, description="`next_cursor` of the previous page.")
    filters: list[SearchFilter] = Field(default_factory=list, max_length=20)
    time_range: TimeRange | None = None


class Parent(BaseModel):
    log_id: str
    tool_slug: str


class LogItem(BaseModel):
    id: str
    timestamp: Timestamp
    type: Literal["tool.execution", "proxy.execution"]
    status: Literal["success", "failed"]
    level: Literal["error", "warn", "info"]
    message: str
    metadata: dict[str, Any]
    metrics: dict[str, Any]
    parent: Parent | None = None


class LogList(BaseModel):
    logs: list[LogItem]
    next_cursor: str | None


class Timings(BaseModel):
    start_time: int
    end_time: int


class Context(BaseModel):
    session_id: str | None
    trace_id: str | None
    request_id: str | None


class Source(BaseModel):
    host: str
    framework: str | None = None
    language: str | None = None


class LogDetail(LogItem):
    timings: Timings
    context: Context
    source: Source
    # The arguments and the response; empty when the project did not store data at the time.
    data: dict[str, Any]
