"""Coalesced: lookups asked for together are answered by one batched call."""

from __future__ import annotations

import asyncio

import pytest

from tenantry.kit.coalesce import Coalesced


async def test_lookups_asked_together_cost_one_call() -> None:
    calls: list[list[int]] = []

    async def load_many(keys: list[int]) -> dict[int, str]:
        calls.append(sorted(keys))
        await asyncio.sleep(0)
        return {key: f"row {key}" for key in keys if key != 3}

    rows = Coalesced(load_many)
    answers = await asyncio.gather(*(rows.get(key) for key in (1, 2, 3, 2)))
    assert answers == ["row 1", "row 2", None, "row 2"]
    assert calls == [[1, 2, 3]]
    # Asked later, another call.
    assert await rows.get(4) == "row 4" and calls[-1] == [4]


async def test_every_asker_gets_the_failure_of_the_call() -> None:
    async def load_many(keys: list[int]) -> dict[int, str]:
        raise LookupError("the database is gone")

    rows = Coalesced(load_many)
    results = await asyncio.gather(rows.get(1), rows.get(2), return_exceptions=True)
    assert [type(result) for result in results] == [LookupError, LookupError]


async def test_a_cancelled_asker_does_not_disturb_the_others() -> None:
    release = asyncio.Event()

    async def load_many(keys: list[int]) -> dict[int, int]:
        await release.wait()
        return {key: key * 10 for key in keys}

    rows = Coalesced(load_many)
    first, second = asyncio.create_task(rows.get(1)), asyncio.create_task(rows.get(2))
    await asyncio.sleep(0.01)
    first.cancel()
    release.set()
    assert await second == 20
    with pytest.raises(asyncio.CancelledError):
        await first
