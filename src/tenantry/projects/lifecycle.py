"""What happens to deleted projects in the background: upstream revocation, then the purge.

A deleted project can be restored for `project_retention_days` (default 30). Then
`purge_expired`, run by every worker every `purge_interval_seconds`, deletes it and every row it
owns, destroys its data key (so any copy of its sealed secrets, in a backup or a free database
page, can no longer be opened: crypto-shredding), and strips the details from its audit events.

`DELETE …?revoke_on_delete=true` writes a REVOKE_UPSTREAM job to the outbox; `revoke_upstream`
revokes each OAuth2 account's grant at providers whose catalog entry has a `revoke_url`
(RFC 7009). The purge of a project waits for its revocation job, so the tokens are never
destroyed before they are revoked.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry import audit, outbox
from tenantry.auth.principal import capability_principal
from tenantry.config import get_settings
from tenantry.connected_accounts import oauth
from tenantry.connected_accounts import service as connected_accounts
from tenantry.db import unit_of_work
from tenantry.kit.time import utcnow
from tenantry.projects.repository import PurgeRepository, RevocationRepository
from tenantry.vault import service as vault

logger = logging.getLogger("tenantry.projects")

REVOKE_UPSTREAM = "project.revoke_upstream"
PURGE_BATCH = 100
# A provider that stays unreachable this many times is given up on; the project can then be purged.
MAX_REVOKE_ATTEMPTS = 12
REVOKED_REASON = "Revoked at the provider when the project was deleted"


def retention() -> timedelta:
    return timedelta(days=get_settings().project_retention_days)


def restorable_since(now: datetime | None = None) -> datetime:
    """Projects deleted after this moment can still be restored; those deleted before are purged."""
    return (now or utcnow()) - retention()


async def purge_expired(sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime | None = None) -> int:
    """Purges up to PURGE_BATCH projects past their retention, one transaction each; returns how many.

    Several workers may run this at once: each project is claimed under a row lock (skipped by the
    others on PostgreSQL; SQLite's writers take turns) and re-checked before anything is deleted.
    """
    cutoff = restorable_since(now)
    async with unit_of_work(sessionmaker, read_only=True) as session:
        due = await PurgeRepository(session).due(cutoff, REVOKE_UPSTREAM, PURGE_BATCH)
    purged = 0
    for project_id, org_id in due:
        async with unit_of_work(sessionmaker) as session:
            repository = PurgeRepository(session)
            if not await repository.claim(project_id, cutoff, REVOKE_UPSTREAM):
                continue
            await vault.destroy(session, project_id)
            await repository.delete_everything(project_id)
            await audit.redact_project(session, project_id)
            await audit.record(
                session, None, "project.purged", audit.Target("project", project_id, project_id), org_id=org_id
            )
        purged += 1
        logger.info("purged deleted project %s", project_id)
    return purged


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5.0 * 2.0**attempts, 3600.0))


async def revoke_upstream(sessionmaker: async_sessionmaker[AsyncSession], job: outbox.Job) -> outbox.Outcome:
    """The REVOKE_UPSTREAM outbox handler: revokes every OAuth2 grant of a deleted project.

    Safe to run twice: an account whose grant was revoked becomes REVOKED and is skipped. A
    provider that cannot be reached reschedules the job; one that refuses is counted and passed.
    """
    project_id, org_id, job_id = job.payload["project_id"], job.payload["org_id"], job.payload["job_id"]
    principal = capability_principal(project_id)
    async with unit_of_work(sessionmaker, read_only=True) as session:
        account_ids = await RevocationRepository(session, project_id).account_ids()
    revoked, refused, unreachable = 0, 0, 0
    for account_id in account_ids:
        async with unit_of_work(sessionmaker, read_only=True) as session:
            grant = await connected_accounts.upstream_grant(session, principal, account_id)
        if grant is None:
            continue
        try:
            for token, hint in grant.tokens:
                await oauth.revoke(grant.app, grant.revoke_url, token, hint)
        except oauth.ProviderUnavailable as failure:
            if job.attempts < MAX_REVOKE_ATTEMPTS:
                return outbox.Outcome.retry(utcnow() + _backoff(job.attempts), str(failure))
            unreachable += 1
            continue
        except oauth.ProviderRejected:
            refused += 1
            continue
        async with unit_of_work(sessionmaker) as session:
            await connected_accounts.mark_revoked(session, principal, account_id, REVOKED_REASON)
        revoked += 1

    async def record(session: AsyncSession) -> None:
        await audit.record(
            session,
            None,
            "project.upstream_revoked",
            audit.Target("project", project_id, project_id),
            org_id=org_id,
            details={"revoke_job_id": job_id, "revoked": revoked, "refused": refused, "unreachable": unreachable},
        )

    return outbox.Outcome.done(record=record)
