"""Usage on the wire (reference §3.10–3.13): epoch-millisecond ranges, quantities as strings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tenantry.kit.inputs import NoNul, RequestBody

Value = Annotated[str, Field(min_length=1, max_length=256), NoNul]
# What usage is metered as (tenantry.usage.service.ENTITY_TYPES says each one's unit and groupings).
EntityType = Literal["tool_calls", "sessions"]
GroupBy = Literal["tool_slug", "toolkit_slug", "connected_account_id", "user_id", "session_id", "project_id"]


class Filters(RequestBody):
    """AND across fields, OR within one; a single string is taken as a list of one."""

    model_config = ConfigDict(extra="forbid")

    user_id: list[Value] | None = None
    session_id: list[Value] | None = None
    # Organization scope only; a project key may send it and it is ignored, as on Composio.
    project_id: list[Value] | None = None

    @field_validator("user_id", "session_id", "project_id", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class _Range(RequestBody):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: float | None = Field(
        default=None, alias="from", ge=0, description="Epoch ms, inclusive; before `to`, at most 366 days before it. Default `to` − 30 days."
    )
    to: float | None = Field(default=None, ge=0, description="Epoch ms, exclusive; after `from`. Default now.")
    filters: Filters | None = None


class SummaryQuery(_Range):
    entity_types: list[EntityType] | None = Field(default=None, description="All of them when left out.")


class BreakdownQuery(_Range):
    group_by: GroupBy | None = Field(
        default=None,
        description="`tool_calls` by `tool_slug` (the default), `toolkit_slug`, `connected_account_id`, `user_id` or "
        "`session_id`; `sessions` by `user_id` (the default) or `session_id`; either by `project_id` on the organization routes.",
    )
    order_by: Literal["key", "total_quantity", "event_count"] = "total_quantity"
    order_direction: Literal["asc", "desc"] = "desc"
    limit: int = Field(default=100, ge=1, le=1000)


class EntityTotal(BaseModel):
    unit: str
    total_quantity: str
    event_count: int


class Summary(BaseModel):
    entities: dict[str, EntityTotal]


class Group(BaseModel):
    key: str
    total_quantity: str
    event_count: int


class Breakdown(BaseModel):
    entity_type: str
    unit: str
    total_quantity: str
    event_count: int
    groups: list[Group]
