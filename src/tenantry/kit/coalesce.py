"""Lookups asked for in the same turn of the event loop, answered together by one batched call.

    messages = Coalesced(load_many)       # load_many(keys) -> {key: value}
    message = await messages.get(key)     # None when load_many did not answer for the key

Tasks started together (the outbox starts the jobs of one claim in one go) each ask for their
own row in the same turn of the loop; the first ask schedules one `load_many` for every key asked
before the loop turns again, so a batch of jobs costs one query rather than one each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Coalesced(Generic[K, V]):
    def __init__(self, load_many: Callable[[list[K]], Awaitable[Mapping[K, V]]]) -> None:
        self._load_many = load_many
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        # Loads in flight, referenced so that the loop does not drop them half-way.
        self._loading: set[asyncio.Task[None]] = set()

    async def get(self, key: K) -> V | None:
        loop = asyncio.get_running_loop()
        if not self._waiting:
            loop.call_soon(self._load_waiting)
        future: asyncio.Future[V | None] = loop.create_future()
        self._waiting.setdefault(key, []).append(future)
        return await future

    def _load_waiting(self) -> None:
        waiting, self._waiting = self._waiting, {}
        task = asyncio.get_running_loop().create_task(self._answer(waiting))
        self._loading.add(task)
        task.add_done_callback(self._loading.discard)

    async def _answer(self, waiting: dict[K, list[asyncio.Future[V | None]]]) -> None:
        try:
            found = await self._load_many(list(waiting))
        except BaseException as error:  # noqa: BLE001 - every asker gets the load's failure
            for futures in waiting.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(error if isinstance(error, Exception) else asyncio.CancelledError())
            if not isinstance(error, Exception):
                raise
            return
        for key, futures in waiting.items():
            for future in futures:
                # An asker cancelled meanwhile (a worker shutting down) has its future done already.
                if not future.done():
                    future.set_result(found.get(key))
