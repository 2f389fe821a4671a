"""The development notifier: one-time codes go to a file a developer reads (`make codes`),
never to a phone. Refused in production mode by the settings (IDENTITY_NOTIFIER=sms there)."""

import asyncio
from pathlib import Path

from services.identity.domain.ports import NotifierUnavailable
from shared.events import CHINA, Clock, utcnow


class DevFileNotifier:
    def __init__(self, path: Path, now: Clock = utcnow) -> None:
        self._path = path
        self._now = now

    async def send_code(self, phone: str, code: str, *, purpose: str) -> None:
        at = self._now().astimezone(CHINA).isoformat(timespec="seconds")
        try:
            await asyncio.to_thread(self._append, f"{at} {phone} {code} {purpose}\n")
        except OSError as exc:  # a full disk, a wrong path: the code did not go out
            raise NotifierUnavailable(f"cannot write {self._path}: {exc.strerror}") from None

    def _append(self, line: str) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="utf-8") as out:
            out.write(line)


def last_code(path: Path, phone: str) -> str | None:
    """The last code written for a phone (tests and `make codes` read the file so)."""
    if not path.exists():
        return None
    found = None
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == phone:
            found = parts[2]
    return found
