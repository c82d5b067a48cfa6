"""A project's tool-execution logs: newest first with filters, and one log as the API shows it.

The list is `POST /logs/tool_execution` (tenantry.logs.service.search) with the page's filters as
search filters; the detail is `GET /logs/tool_execution/{id}`, shown field by field and as the
JSON the API answers, so the page never shows more than the API does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Query, Request, Response
from pydantic import ValidationError

from tenantry.config import get_settings
from tenantry.dashboard.auth import DashProject, OrgMember, SignedIn, acting_for
from tenantry.dashboard.pages.params import PAGE_SIZE, Cursor, utc_day
from tenantry.dashboard.web import FormProblem, page, page_context, pages
from tenantry.db import Session
from tenantry.errors import AppError, InvalidRequest
from tenantry.kit.inputs import NoNul
from tenantry.kit.time import utcnow
from tenantry.logs import schemas
from tenantry.logs import service as logs
from tenantry.logs.queue import LogsWritten
from tenantry.settings import service as project_settings
from tenantry.settings.schemas import LogVisibility

router = pages()

BASE = "/orgs/{org_id}/projects/{project_id}/logs"
DAY = timedelta(days=1)
# The page's filter fields: (query parameter, the search's field, its operator).
FILTERS = (
    ("status", "status", "=="),
    ("tool", "tool_slug", "contains"),
    ("toolkit", "toolkit_slug", "=="),
    ("user_id", "user_id", "=="),
    ("account", "connected_account_id", "=="),
)


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _search(values: dict[str, str], cursor: str | None) -> dict[str, Any]:
    """The page's filters as the body of `POST /logs/tool_execution`."""
    filters = []
    for parameter, field, operator in FILTERS:
        value = values[parameter]
        if value:
            filters.append({"field": field, "operator": operator, "value": value.lower() if parameter == "toolkit" else value})
    body: dict[str, Any] = {"limit": PAGE_SIZE, "cursor": cursor, "filters": filters}
    since, until = utc_day(values["from"], "from"), utc_day(values["to"], "to")
    if since or until:
        if since and until and since > until:
            raise InvalidRequest.field("to", "must be the same day as from or later")
        start = since or datetime(1970, 1, 1, tzinfo=UTC)
        # "To" is inclusive: the whole day.
        end = until + DAY if until else max(utcnow(), start) + DAY
        body["time_range"] = {"from": _millis(start), "to": _millis(end)}
    return body


def _visibility_context(stored: LogVisibility) -> dict[str, Any]:
    return {"stores_data": stored == LogVisibility.show_all, "retention_days": get_settings().log_retention_days}


@router.get(BASE, dependencies=[LogsWritten])
async def logs_page(
    request: Request,
    principal: OrgMember,
    signed_in: SignedIn,
    project: DashProject,
    session: Session,
    status: Annotated[str, Query(max_length=20), NoNul] = "",
    tool: Annotated[str, Query(max_length=200), NoNul] = "",
    toolkit: Annotated[str, Query(max_length=100), NoNul] = "",
    user_id: Annotated[str, Query(max_length=256), NoNul] = "",
    account: Annotated[str, Query(max_length=64), NoNul] = "",
    since: Annotated[str, Query(alias="from", max_length=10), NoNul] = "",
    until: Annotated[str, Query(alias="to", max_length=10), NoNul] = "",
    cursor: Cursor = None,
) -> Response:
    values = {
        "status": status.strip(), "tool": tool.strip(), "toolkit": toolkit.strip(), "user_id": user_id.strip(),
        "account": account.strip(), "from": since.strip(), "to": until.strip(),
    }
    settings = await project_settings.read_in(session, project.id)
    context = {
        "project": project, "filters": values, "filtered": any(values.values()), "statuses": logs.STATUSES,
        **_visibility_context(settings.log_visibility_setting), "tab": "logs", "section": "projects",
    }
    try:
        query = schemas.LogSearch.model_validate(_search(values, cursor))
        listed = await logs.search(session, acting_for(principal, project), query)
    except (ValidationError, AppError) as error:
        values_page = await page_context(session, principal, signed_in, **context, logs=[], next_url=None)
        raise FormProblem.of("logs.html", values_page, "These filters are not valid.", error) from None
    shown = {key: value for key, value in values.items() if value}
    next_url = f"?{urlencode({**shown, 'cursor': listed.next_cursor})}" if listed.next_cursor else None
    newest_url = f"?{urlencode(shown)}" if cursor else None
    return await page(
        request, session, principal, signed_in, "logs.html", **context, logs=listed.logs, next_url=next_url, newest_url=newest_url
    )


@router.get(BASE + "/{log_id}", dependencies=[LogsWritten])
async def log_page(
    request: Request,
    principal: OrgMember,
    signed_in: SignedIn,
    project: DashProject,
    session: Session,
    log_id: Annotated[str, Path(max_length=64), NoNul],
) -> Response:
    detail = await logs.get(session, acting_for(principal, project), log_id)
    settings = await project_settings.read_in(session, project.id)
    as_api = detail.model_dump(mode="json")
    return await page(
        request, session, principal, signed_in, "log.html",
        project=project, log=detail, as_json=json.dumps(as_api, indent=2, ensure_ascii=False),
        timestamp=as_api["timestamp"], data_json=json.dumps(as_api["data"], indent=2, ensure_ascii=False),
        data_stored=bool(detail.metadata.get("data_stored")),
        **_visibility_context(settings.log_visibility_setting), tab="logs", section="projects",
    )
