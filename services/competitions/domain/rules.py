"""The rules around scoring: who may judge what, blind entry codes, the stage's lifecycle and its
objection window. Pure: no I/O."""

import hashlib
import hmac
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from shared.errors import Conflict, Forbidden

BLIND_CODE_LENGTH = 10
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and written by hand


class StageStatus(StrEnum):
    SCORING = "scoring"  # registration and scoring; sheets are locked once submitted
    PUBLISHED = "published"  # 成绩公示: ranking public, objections (申诉) within the window
    FINAL = "final"  # results final: awards may be granted


class ConflictOfInterest(Forbidden):
    """A judge does not score an entry from their own base union."""

    code = "conflict_of_interest"


class AlreadyScored(Conflict):
    """A submitted sheet is locked: a second one by the same judge is refused."""

    code = "already_scored"


def blind_code(key: bytes, stage_id: uuid.UUID, entry_id: uuid.UUID) -> str:
    """The encrypted number (加密号) a judge sees instead of the entrant: a keyed HMAC of the stage
    and the entry, so codes differ per stage, cannot be guessed, and only the service decodes them."""
    digest = hmac.new(key, f"{stage_id}:{entry_id}".encode(), hashlib.sha256).digest()
    n = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(BLIND_CODE_LENGTH):
        n, i = divmod(n, len(_ALPHABET))
        chars.append(_ALPHABET[i])
    return "".join(chars)


def require_judge(sub: str, panel: Sequence[str]) -> None:
    if sub not in panel:
        raise Forbidden("you are not on this stage's panel of judges")


def require_no_conflict(judge_union: uuid.UUID | None, entry_unions: Sequence[uuid.UUID]) -> None:
    """Conflict of interest: a judge does not score an entry from their own base union."""
    if judge_union is not None and judge_union in entry_unions:
        raise ConflictOfInterest("conflict of interest: this entry comes from your own union")


def require_status(status: StageStatus, *allowed: StageStatus, doing: str) -> None:
    if status not in allowed:
        raise Conflict(f"cannot {doing}: the stage is {status.value}", stage_status=status.value)


def objection_window(published_at: datetime, days: int) -> tuple[datetime, datetime]:
    return published_at, published_at + timedelta(days=days)


def require_window_open(now: datetime, ends_at: datetime) -> None:
    if now >= ends_at:
        raise Conflict("the objection window has closed", closed_at=ends_at.isoformat())


def require_final_allowed(now: datetime, ends_at: datetime, open_objections: int) -> None:
    if now < ends_at:
        raise Conflict(
            "results become final only after the objection window", window_ends_at=ends_at.isoformat()
        )
    if open_objections:
        raise Conflict("objections are still open: the chief judge resolves them first", open=open_objections)
