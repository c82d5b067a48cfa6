"""The audit log: every control-plane change, written in the same transaction as the change.

    await audit.record(session, principal, "auth_config.updated", auth_config, details={"fields": [...]})

A rolled-back change leaves no event and a committed one always has its event. Each event names
the actor (the key, and the member behind a user key), the time, the organization and project,
the object changed and the request id (tenantry.kit.request_id), so an event can be matched to
the request and response a client logged. `details` say what changed; they never hold a secret
(callers pass field names, not values, for anything sealed), and `changed()` builds the
old-and-new pairs for plain settings.

The log is read with an organization key (tenantry.audit_log).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import tenancy
from tenantry.auth.principal import Principal
from tenantry.kit import ids, request_id
from tenantry.kit.keys import KeyKind
from tenantry.kit.time import utcnow
from tenantry.models import AuditEvent, Project


class ActorType(StrEnum):
    org_key = "org_key"
    user_key = "user_key"
    project_key = "project_key"
    # The server itself: background jobs (the purge) and the operator's command line.
    system = "system"


_ACTOR_FOR_KIND = {
    KeyKind.organization: ActorType.org_key,
    KeyKind.user: ActorType.user_key,
    KeyKind.project: ActorType.project_key,
}


@dataclass(frozen=True)
class Target:
    """The object an event is about: its type, its id and the project it belongs to (if any)."""

    type: str
    id: str
    project_id: str | None = None


def target_of(thing: Any) -> Target:
    """The Target of a model instance: a Project, or anything with an `id` and a `project_id`."""
    if isinstance(thing, Target):
        return thing
    if isinstance(thing, Project):
        return Target("project", thing.id, thing.id)
    type_name = "".join(f"_{c.lower()}" if c.isupper() else c for c in type(thing).__name__).lstrip("_")
    return Target(type_name, str(thing.id), getattr(thing, "project_id", None))


async def record(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    target: Any,
    *,
    org_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Adds one event to the session's transaction.

    `principal` is who acted; None means the server itself, and then `org_id` must say whose
    organization the event belongs to. `target` is a model instance or a Target.
    """
    about = target_of(target)
    organization = org_id or (principal.org_id if principal is not None else None)
    if not organization:
        raise ValueError(f"audit event {action} names no organization")
    event = AuditEvent(
        id=ids.ulid(),
        org_id=organization,
        project_id=about.project_id or (principal.project_id if principal is not None else None),
        action=action,
        actor_type=(_ACTOR_FOR_KIND[principal.kind] if principal is not None else ActorType.system).value,
        actor_id=principal.key_id if principal is not None else None,
        member_id=principal.member_id if principal is not None else None,
        target_type=about.type,
        target_id=about.id,
        request_id=request_id.current(),
        details=dict(details) if details else None,
        created_at=utcnow(),
    )
    session.add(event)
    await session.flush()
    return event


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`{field: {"old": …, "new": …}}` for every field whose value differs; for plain values only."""
    return {
        field: {"old": before.get(field), "new": value}
        for field, value in after.items()
        if before.get(field) != value
    }


async def redact_project(session: AsyncSession, project_id: str) -> None:
    """Strips the details of a purged project's events, keeping who did what and when."""
    await session.execute(tenancy.project_audit_events(project_id).values(details=None))
