from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.kit.time import utcnow
from tenantry.models.base import Base


class ProjectDataKey(Base):
    """A project's data key, stored only wrapped (AES-256-GCM) under one master key.

    The data key itself never changes; rotating the master key rewrites `wrapped_key` and
    `master_key_id`. Deleting the row makes every secret of the project unreadable.
    """

    __tablename__ = "project_data_keys"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    # The 12-byte nonce followed by the ciphertext and tag of the 32-byte data key.
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The id of the master key that wrapped it (see tenantry.vault.keyring.MasterKey.kid).
    master_key_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(default=None)
