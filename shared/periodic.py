"""A chore a service repeats beside its requests (`Runtime.background`), such as forgetting what
no rule needs any more. Any replica may run it, so a chore must be idempotent. A database that is
away defers a round (logged as `<name>_deferred`), never ends the loop; stop() ends it at once."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from shared.db import TRANSIENT_ERRORS
from shared.logging import get_logger

log = get_logger(__name__)


class Periodic:
    def __init__(self, name: str, chore: Callable[[], Awaitable[object]], interval_seconds: float) -> None:
        self.name = name
        self._chore = chore
        self._interval = interval_seconds
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self._chore()
            except TRANSIENT_ERRORS as exc:
                log.warning(f"{self.name}_deferred", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._interval)

    def stop(self) -> None:
        self._stop.set()
