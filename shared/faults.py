"""Failpoints for the fault-injection suite: inert unless ZHIJIA_FAILPOINTS names them.

ZHIJIA_FAILPOINTS="outbox.before_publish=3,consumer.before_commit=5" makes this process kill
itself with SIGKILL the 3rd time the relay is about to publish rows it read from the outbox
(after their transaction committed), or the 5th time a consumer is about to commit a batch.
SIGKILL, not an exception: nothing may run after it, exactly as with `kill -9`.
"""

import os
import signal
from collections import Counter

from shared.logging import get_logger

log = get_logger(__name__)


def _parse(spec: str) -> dict[str, int]:
    points: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, nth = item.partition("=")
        points[name] = int(nth or "1")
    return points


_ARMED = _parse(os.environ.get("ZHIJIA_FAILPOINTS", ""))
_hits: Counter[str] = Counter()


def failpoint(name: str) -> None:
    if name not in _ARMED:
        return
    _hits[name] += 1
    if _hits[name] == _ARMED[name]:
        log.warning("failpoint_killing_process", failpoint=name, hit=_hits[name])
        os.kill(os.getpid(), signal.SIGKILL)
