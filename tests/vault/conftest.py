from __future__ import annotations

from collections.abc import Iterator

import pytest

from tenantry.vault import service


@pytest.fixture(autouse=True)
def fresh_vault() -> Iterator[None]:
    """Each test starts with no cached data key and reads the keyring afresh."""
    service.reset()
    yield
    service.reset()
