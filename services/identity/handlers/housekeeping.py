"""Forgetting what no rule needs any more: attempts older than every limit's window, codes long
expired. Runs beside the requests (runtime.background); any replica may run it, the deletes
are idempotent."""

import asyncio
import contextlib

from services.identity.domain.limits import KEPT
from services.identity.handlers.common import Deps
from services.identity.store import attempts, codes
from shared.db import TRANSIENT_ERRORS
from shared.logging import get_logger

log = get_logger(__name__)


class Housekeeping:
    def __init__(self, deps: Deps, interval_seconds: float = 3600) -> None:
        self._deps = deps
        self._interval = interval_seconds
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.once()
            except TRANSIENT_ERRORS as exc:
                log.warning("housekeeping_deferred", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._interval)

    async def once(self) -> tuple[int, int]:
        now = self._deps.now()
        async with self._deps.pool.acquire() as conn:
            forgotten = await attempts.forget_old(conn, now), await codes.forget_closed(conn, now - KEPT)
        if any(forgotten):
            log.info("housekeeping", attempts=forgotten[0], codes=forgotten[1])
        return forgotten

    def stop(self) -> None:
        self._stop.set()
