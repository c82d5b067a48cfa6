"""Dashboard sign-in: members' passwords (Argon2id), lock-out, and server-side sessions.

A password is stored only as an Argon2id hash on the Member row. A session is a random token in
an HttpOnly cookie; the database keeps only its HMAC under the server pepper, so reading the
sessions table signs nobody in. A session resolves to the same Principal a user key does
(tenantry.dashboard.auth), so a member's role means the same in the dashboard and the API.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.config import get_settings, key_pepper
from tenantry.db import unit_of_work
from tenantry.errors import InvalidRequest, NotFound
from tenantry.kit import ids, keys
from tenantry.kit.time import as_utc, utcnow
from tenantry.members.repository import MemberRepository
from tenantry.models import DashboardSession, Member

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
SESSION_TOKEN_BYTES = 32
# The one message for an unknown email and a wrong password, so the form does not reveal who is a member.
WRONG_CREDENTIALS = "The email or password is not right."

# argon2-cffi's defaults are Argon2id with RFC 9106's low-memory parameters.
_hasher = PasswordHasher()


@lru_cache
def _decoy_hash() -> str:
    """A hash to verify against when the email is unknown, so that case takes as long as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(16))


class MemberNotFound(NotFound):
    code, slug = 2002, "Team_MemberNotFound"
    default_message = "No member has this email"


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest.field("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidRequest.field("password", f"must be at most {MAX_PASSWORD_LENGTH} characters")


async def _member_by_email(session: AsyncSession, email: str) -> Member | None:
    # Emails are stored as members.schemas normalizes them: trimmed, lower case.
    return await MemberRepository(session).by_email(email.strip().lower())


async def set_password(session: AsyncSession, email: str, password: str) -> Member:
    """Sets or resets a member's dashboard password, clears any lock-out and ends their sessions."""
    _check_password(password)
    member = await _member_by_email(session, email)
    if member is None:
        raise MemberNotFound(f"No member has the email {email!r}")
    member.password_hash = await asyncio.to_thread(_hasher.hash, password)
    member.failed_sign_ins = 0
    member.locked_until = None
    await session.flush()
    await session.execute(delete(DashboardSession).where(DashboardSession.member_id == member.id))
    return member


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: a session token, or the problem to show on the form."""

    token: str | None = None
    problem: str | None = None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def sign_in(session: AsyncSession, email: str, password: str) -> SignIn:
    """Checks the credentials and opens a session.

    A failure is returned rather than raised: the failure count must commit with the request.
    After `dashboard_max_failed_sign_ins` failures in a row the member is locked out for
    `dashboard_lockout_minutes`, during which even the right password is refused.
    """
    settings = get_settings()
    member = await _member_by_email(session, email) if 0 < len(email) <= 320 else None
    if len(password) > MAX_PASSWORD_LENGTH:
        return SignIn(problem=WRONG_CREDENTIALS)
    if member is None or member.password_hash is None:
        await asyncio.to_thread(_verify, _decoy_hash(), password)
        return SignIn(problem=WRONG_CREDENTIALS)
    now = utcnow()
    if member.locked_until is not None and as_utc(member.locked_until) > now:
        minutes = max(1, round((as_utc(member.locked_until) - now).total_seconds() / 60))
        return SignIn(problem=f"Too many failed sign-ins. Try again in about {minutes} minute{'s' if minutes != 1 else ''}.")
    if not await asyncio.to_thread(_verify, member.password_hash, password):
        member.failed_sign_ins += 1
        if member.failed_sign_ins >= settings.dashboard_max_failed_sign_ins:
            member.failed_sign_ins = 0
            member.locked_until = now + timedelta(minutes=settings.dashboard_lockout_minutes)
        await session.flush()
        return SignIn(problem=WRONG_CREDENTIALS)
    member.failed_sign_ins = 0
    member.locked_until = None
    if _hasher.check_needs_rehash(member.password_hash):
        member.password_hash = await asyncio.to_thread(_hasher.hash, password)
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    session.add(
        DashboardSession(
            id=ids.nano_id("ds"),
            token_hash=_token_digest(token),
            member_id=member.id,
            created_at=now,
            expires_at=now + timedelta(hours=settings.dashboard_session_hours),
        )
    )
    await session.flush()
    return SignIn(token=token)


def _token_digest(token: str) -> str:
    return keys.digest(key_pepper(), token)


def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a signed-in browser: derived from its session token, so nothing more is stored."""
    return hmac.new(key_pepper(), b"dashboard-csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    session_id: str
    member: Member
    token: str


async def resolve(session: AsyncSession, token: str) -> SignedIn | None:
    """The member a session cookie signs in, or None when the session is unknown or over."""
    if not 0 < len(token) <= 128:
        return None
    digest = _token_digest(token)
    row = (
        await session.execute(
            select(DashboardSession, Member)
            .join(Member, Member.id == DashboardSession.member_id)
            .where(DashboardSession.token_hash == digest, DashboardSession.expires_at > utcnow())
        )
    ).first()
    if row is None or not hmac.compare_digest(row[0].token_hash, digest):
        return None
    return SignedIn(row[0].id, row[1], token)


async def sign_out(session: AsyncSession, token: str) -> None:
    await session.execute(delete(DashboardSession).where(DashboardSession.token_hash == _token_digest(token)))


async def delete_expired_sessions(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with unit_of_work(sessionmaker) as session:
        await session.execute(delete(DashboardSession).where(DashboardSession.expires_at <= utcnow()))
