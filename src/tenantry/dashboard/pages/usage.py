"""A project's usage: tool calls and sessions per day as a chart, and breakdowns by tool and user."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request, Response

from tenantry.dashboard import charts
from tenantry.dashboard.auth import DashProject, OrgMember, SignedIn, acting_for
from tenantry.dashboard.repository import DAY_MS, DailyUsage
from tenantry.dashboard.web import page, pages
from tenantry.db import Session
from tenantry.logs.queue import LogsWritten
from tenantry.usage import schemas as usage_schemas
from tenantry.usage import service as usage

router = pages()

USAGE_SPANS = (7, 30, 90)


def _day(day_number: int) -> datetime:
    return datetime.fromtimestamp(day_number * DAY_MS / 1000, UTC)


@router.get("/orgs/{org_id}/projects/{project_id}/usage", dependencies=[LogsWritten])
async def usage_page(
    request: Request, principal: OrgMember, signed_in: SignedIn, project: DashProject, session: Session, days: int = 30
) -> Response:
    span = days if days in USAGE_SPANS else 30
    acting = acting_for(principal, project)
    end_ms = usage.now_ms()
    first_day = end_ms // DAY_MS - span + 1
    start_ms = first_day * DAY_MS
    per_day = await DailyUsage(session, acting).per_day(start_ms, end_ms)
    day_numbers = list(range(first_day, first_day + span))
    tool_calls = [per_day.get((day, "tool_calls"), 0) for day in day_numbers]
    sessions = [per_day.get((day, "sessions"), 0) for day in day_numbers]
    chart = charts.bar_chart(
        [_day(day).strftime("%m-%d") for day in day_numbers],
        [charts.Series("tool calls", "bar-tool-calls", tool_calls), charts.Series("sessions", "bar-sessions", sessions)],
        title=f"Tool calls and sessions per day, last {span} days (UTC)",
    )
    window = {"from_": start_ms, "to": end_ms}
    summary = await usage.summary(session, acting, usage_schemas.SummaryQuery(**window), org=False)
    by_tool = await usage.breakdown(session, acting, "tool_calls", usage_schemas.BreakdownQuery(**window, group_by="tool_slug"), org=False)
    by_user = await usage.breakdown(session, acting, "sessions", usage_schemas.BreakdownQuery(**window, group_by="user_id"), org=False)
    daily = [
        {"day": _day(day).date().isoformat(), "tool_calls": calls, "sessions": count}
        for day, calls, count in zip(day_numbers, tool_calls, sessions, strict=True)
    ]
    return await page(
        request, session, principal, signed_in, "usage.html",
        project=project, chart=chart, span=span, spans=USAGE_SPANS, summary=summary, by_tool=by_tool, by_user=by_user,
        daily=daily, tab="usage", section="projects",
    )
