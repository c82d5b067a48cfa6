"""Master-key rotation: rewrap every project's data key under the keyring's current key.

Each batch of rows is its own short transaction, so servers sharing the database are never kept
waiting for long, and a rotation that stops half-way can simply be run again. Sealed secrets are
never touched: their data keys do not change, only what wraps them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.config import Settings
from tenantry.db import unit_of_work
from tenantry.kit.time import utcnow
from tenantry.vault import keyring as keyrings
from tenantry.vault.errors import VaultError
from tenantry.vault.keyring import Keyring
from tenantry.vault.repository import DataKeyRepository

DEFAULT_BATCH_SIZE = 100
# A server that has not yet picked up the new key may create a data key under an old one while
# a pass runs, so passes repeat until one finds nothing left to do; this only bounds a pathology.
MAX_PASSES = 10


@dataclass
class RotationReport:
    master_key_id: str
    generated: bool
    rewrapped: int = 0
    # Data keys under the current master key once the rotation ended, and under any other.
    by_master_key: dict[str, int] = field(default_factory=dict)
    # Data keys that could not be rewrapped, by the id of the master key they are under.
    unreadable: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_master_key.values())

    @property
    def remaining(self) -> int:
        return self.total - self.by_master_key.get(self.master_key_id, 0)


async def rotate(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], *, batch_size: int = DEFAULT_BATCH_SIZE
) -> RotationReport:
    """Embedded default: a new master key first in the key file, then everything rewrapped under it.

    With TENANTRY_MASTER_KEY set, no key is generated: everything is rewrapped under that key.
    """
    if settings.master_key is not None:
        return await rewrap_all(sessionmaker, keyrings.load(settings), generated=False, batch_size=batch_size)
    with keyrings.file_lock(settings):
        keyring = keyrings.add_current(settings)
        return await rewrap_all(sessionmaker, keyring, generated=True, batch_size=batch_size)


async def rewrap_all(
    sessionmaker: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    *,
    generated: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> RotationReport:
    report = RotationReport(keyring.current.kid, generated)
    for _ in range(MAX_PASSES):
        rewrapped, report.unreadable = await _pass(sessionmaker, keyring, batch_size)
        report.rewrapped += rewrapped
        if rewrapped == 0:
            break
    async with unit_of_work(sessionmaker) as session:
        report.by_master_key = await DataKeyRepository(session).count_by_master_key()
    return report


async def _pass(
    sessionmaker: async_sessionmaker[AsyncSession], keyring: Keyring, batch_size: int
) -> tuple[int, Counter[str]]:
    rewrapped, unreadable = 0, Counter[str]()
    after = ""
    while True:
        async with unit_of_work(sessionmaker) as session:
            repository = DataKeyRepository(session)
            rows = await repository.not_under(keyring.current.kid, after=after, limit=batch_size)
            moment = utcnow()
            for project_id, wrapped, kid in rows:
                try:
                    data_key = keyring.unwrap(project_id, wrapped, kid)
                except VaultError:
                    unreadable[kid] += 1
                    continue
                rewrapped_key, current_kid = keyring.wrap(project_id, data_key)
                await repository.rewrap(project_id, rewrapped_key, current_kid, moment)
                rewrapped += 1
        if len(rows) < batch_size:
            return rewrapped, unreadable
        after = rows[-1].project_id


async def prune(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    """Drops from the key file every old master key no data key is wrapped under; their ids."""
    with keyrings.file_lock(settings):
        async with unit_of_work(sessionmaker) as session:
            in_use = set(await DataKeyRepository(session).count_by_master_key())
        return keyrings.retain(settings, in_use)
