"""Sealing and opening a project's secrets: what other domains call.

A domain seals a secret before storing it and stores the blob it gets back as it is:

    blob = await vault.seal(session, project.id, {"client_secret": ...}, context=f"auth_config:{id}:credentials")
    value = await vault.unseal(session, project.id, blob, context=f"auth_config:{id}:credentials")

The context names the row and field the blob belongs to. It is authenticated with the blob, so a
blob copied to another row, field or project does not open. A blob is one version byte, a
12-byte nonce, and the AES-256-GCM ciphertext with its tag, under the project's data key.

A project's data key is created the first time something is sealed for it and is kept unwrapped
in this process afterwards: rotation rewraps data keys but never changes one, so a cached key
stays right until the key is destroyed.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.db import after_commit
from tenantry.vault import crypto, keyring
from tenantry.vault.errors import DataKeyMissing, MasterKeyUnavailable, SecretUnreadable
from tenantry.vault.repository import DataKeyRepository

BLOB_VERSION = 1
# The bound keeps memory finite with very many projects; a dropped key is unwrapped again.
MAX_CACHED_DATA_KEYS = 100_000
# Projects whose data key the session's open transaction created: until it commits, their key
# must not be cached, or a rollback would leave this process sealing under a key nobody stored.
_CREATED_HERE = "tenantry.vault.created_here"

_data_keys: dict[str, bytes] = {}


async def seal(session: AsyncSession, project_id: str, value: dict[str, Any], *, context: str) -> bytes:
    """`value` as JSON, encrypted under the project's data key (created now if it has none)."""
    try:
        plaintext = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise TypeError(f"the value sealed as {context} is not JSON") from None
    data_key = await _data_key(session, project_id, create=True)
    header = bytes([BLOB_VERSION])
    return header + crypto.encrypt(data_key, plaintext.encode(), _sealing_context(header, project_id, context))


async def unseal(session: AsyncSession, project_id: str, blob: bytes, *, context: str) -> dict[str, Any]:
    """The value `seal` was given for this project and context; raises VaultError otherwise."""
    header = bytes(blob[:1])
    if header != bytes([BLOB_VERSION]):
        raise SecretUnreadable(f"{context} of project {project_id} is not a sealed value this version knows")
    data_key = await _data_key(session, project_id, create=False)
    plaintext = crypto.decrypt(data_key, bytes(blob[1:]), _sealing_context(header, project_id, context))
    if plaintext is None:
        raise SecretUnreadable(
            f"{context} of project {project_id} does not open: it was sealed for another project "
            "or context, or altered"
        )
    value: dict[str, Any] = json.loads(plaintext)
    return value


async def destroy(session: AsyncSession, project_id: str) -> None:
    """Deletes the project's data key, which makes every secret sealed for it unreadable.

    Other workers may keep the key in memory until they restart; that is harmless because a
    destroyed project's secrets are deleted with it and nothing is sealed for it again.
    """
    await DataKeyRepository(session).delete(project_id)
    _data_keys.pop(project_id, None)
    session.info.setdefault(_CREATED_HERE, set()).discard(project_id)
    # A key created earlier in this transaction would be cached by its own commit callback.
    after_commit(session, partial(_data_keys.pop, project_id, None))


def reset() -> None:
    """Forgets every cached data key and the keyring, as a freshly started process would."""
    _data_keys.clear()
    keyring.forget()


def _sealing_context(header: bytes, project_id: str, context: str) -> bytes:
    return header + f"tenantry/secret\0{project_id}\0{context}".encode()


async def _data_key(session: AsyncSession, project_id: str, *, create: bool) -> bytes:
    created_here: set[str] = session.info.setdefault(_CREATED_HERE, set())
    if project_id not in created_here and (cached := _data_keys.get(project_id)) is not None:
        return cached
    repository = DataKeyRepository(session)
    row = await repository.get(project_id)
    if row is None:
        if not create:
            raise DataKeyMissing(f"project {project_id} has no data key: nothing was sealed for it, or it was destroyed")
        # Read afresh: a rotation may have put a new current key in the key file.
        ring = keyring.current(reload=True)
        data_key = crypto.new_key()
        wrapped, kid = ring.wrap(project_id, data_key)
        if await repository.insert_if_absent(project_id, wrapped, kid):
            created_here.add(project_id)
            after_commit(session, partial(_remember, project_id, data_key))
            return data_key
        # Another transaction created the project's key first; use that one.
        row = await repository.get(project_id)
        assert row is not None, "a conflicting data key is visible once its transaction committed"
    wrapped, kid = row
    try:
        data_key = keyring.current().unwrap(project_id, wrapped, kid)
    except MasterKeyUnavailable:
        # The key file may have gained a key in a rotation since this process read it.
        data_key = keyring.current(reload=True).unwrap(project_id, wrapped, kid)
    if project_id not in created_here:
        _remember(project_id, data_key)
    return data_key


def _remember(project_id: str, data_key: bytes) -> None:
    if len(_data_keys) >= MAX_CACHED_DATA_KEYS:
        _data_keys.clear()
    _data_keys[project_id] = data_key
