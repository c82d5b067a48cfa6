from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.models.base import Base


class CacheEpoch(Base):
    """One row whose counter grows whenever a cached fact (a key, a project's settings) changes.

    Every worker polls it and drops its in-process caches when it moves, which is how a key
    revoked through one worker stops working on all of them within a poll interval.
    """

    __tablename__ = "cache_epoch"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
