"""Legal aid (法律援助): which lawyer or volunteer takes a case.

Counsel who ever represented the employer is never assigned (conflict check); of the others, the
one with room and the lowest load relative to capacity takes the case (ties: fewer open cases,
then the longest-registered id order).
"""

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.errors import Conflict, InvalidInput, NotFound

_NOISE = re.compile(r"[\s()（）\-·.,，。]+")


def employer_key(name: str) -> str:
    """Employer names compared loosely: case, spaces, brackets and punctuation do not matter."""
    return _NOISE.sub("", name).casefold()


@dataclass(frozen=True)
class CounselLoad:
    counsel_id: uuid.UUID
    name: str
    capacity: int
    open_cases: int
    represented_employers: tuple[str, ...]
    active: bool = True


def conflicted(counsel: CounselLoad, employer: str) -> bool:
    key = employer_key(employer)
    return any(employer_key(e) == key for e in counsel.represented_employers)


def has_room(counsel: CounselLoad) -> bool:
    return counsel.active and counsel.open_cases < counsel.capacity


def choose_counsel(
    roster: Sequence[CounselLoad], employer: str, *, exclude: Iterable[uuid.UUID] = ()
) -> CounselLoad:
    """The counsel to assign, or a 409 saying why nobody can take the case."""
    excluded = set(exclude)
    free_of_conflict = [c for c in roster if c.counsel_id not in excluded and not conflicted(c, employer)]
    candidates = [c for c in free_of_conflict if has_room(c)]
    if not candidates:
        reason = (
            "every counsel on the roster has represented this employer"
            if not free_of_conflict
            else "no counsel free of conflict has room for another case"
        )
        raise Conflict(reason)
    return min(candidates, key=lambda c: (c.open_cases / c.capacity, c.open_cases, str(c.counsel_id)))


def require_assignable(counsel: CounselLoad, employer: str) -> None:
    """A counsel named by hand (a handover) passes the same checks."""
    if conflicted(counsel, employer):
        raise Conflict(f"{counsel.name} has represented this employer: conflict of interest")
    if not has_room(counsel):
        raise Conflict(f"{counsel.name} has no room for another case")


def pick_counsel(
    roster: Sequence[CounselLoad],
    employer: str,
    *,
    previous: uuid.UUID | None,
    named: uuid.UUID | None,
    reason: str,
) -> CounselLoad:
    """The counsel who takes the case: the best-balanced one free of conflict (not the one who
    has it), or the counsel named for a handover, who passes the same checks. A handover (the
    case had counsel) needs a reason."""
    if named is None:
        chosen = choose_counsel(roster, employer, exclude=[previous] if previous else [])
    else:
        found = next((c for c in roster if c.counsel_id == named), None)
        if found is None:
            raise NotFound(f"counsel {named} is not on the roster of this case's unions")
        if found.counsel_id == previous:
            raise Conflict("this counsel already has the case")
        require_assignable(found, employer)
        chosen = found
    if previous is not None and not reason.strip():
        raise InvalidInput("a handover needs a reason")
    return chosen
