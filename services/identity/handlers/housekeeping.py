"""Forgetting what no rule needs any more: attempts older than every limit's window, codes long
expired. Runs beside the requests (runtime.background, the kit's shared.periodic loop); any
replica may run it, the deletes are idempotent."""

from services.identity.domain.limits import KEPT
from services.identity.handlers.common import Deps
from services.identity.store import attempts, codes
from shared.logging import get_logger
from shared.periodic import Periodic

log = get_logger(__name__)


class Housekeeping(Periodic):
    def __init__(self, deps: Deps, interval_seconds: float = 3600) -> None:
        super().__init__("housekeeping", self.once, interval_seconds)
        self._deps = deps

    async def once(self) -> tuple[int, int]:
        now = self._deps.now()
        async with self._deps.pool.acquire() as conn:
            forgotten = await attempts.forget_old(conn, now), await codes.forget_closed(conn, now - KEPT)
        if any(forgotten):
            log.info("housekeeping", attempts=forgotten[0], codes=forgotten[1])
        return forgotten
