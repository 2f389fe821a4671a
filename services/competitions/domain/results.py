"""The rules from scoring to awards: a vote only where the stage mixes one in, publication after
the chief judge's reviews, objections by the entrant and their resolution, awards from final
results, golden ideas adopted once reviewed. Pure: no I/O."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from services.competitions.domain.honours import validate_term
from services.competitions.domain.rules import StageStatus, require_status
from shared.auth import Principal, Role
from shared.contracts.competitions import CompetitionKind, HonourKind
from shared.errors import Conflict, Forbidden, InvalidInput

# A stage's ranking as computed and stored: one mapping per entry (see handlers/scoring.py).
Ranking = Sequence[Mapping[str, Any]]


def require_named_entry(blind: bool, entry_id: uuid.UUID | None, code: str | None) -> None:
    """A sheet names its entry: by code on a blind stage, else by entry_id."""
    if code is not None:
        return
    if entry_id is None:
        raise InvalidInput("name the entry: entry_id, or code on a blind stage")
    if blind:
        raise InvalidInput("this stage is judged blind: score by the entry's code")


def require_active_entry(active: bool) -> None:
    if not active:
        raise Conflict("the entry was withdrawn")


def require_public_vote(public_weight: int) -> None:
    if public_weight == 0:
        raise Conflict("this stage has no public vote")


def require_flagged(result: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The chief judge reviews only an entry whose judges spread wider than the stage's gap."""
    if result is None or not result["flagged"]:
        raise Conflict("the entry is not flagged: its judges' scores are within the gap")
    return result


def require_reviewed(results: Ranking) -> None:
    """Publication waits until the chief judge reviewed every flagged entry."""
    unreviewed = [r["entry_no"] for r in results if r["flagged"] and not r["reviewed_by_chief_judge"]]
    if unreviewed:
        raise Conflict(
            "judges' scores spread wider than the stage's gap: the chief judge reviews them first",
            entries=unreviewed,
        )


def require_entrant(principal: Principal, member_ids: Sequence[uuid.UUID]) -> None:
    if not (principal.role is Role.MEMBER and principal.member_id in member_ids):
        raise Forbidden("an objection is raised by the entrant")


def require_resolvable(objection_status: str, upheld: bool, corrections: int) -> str:
    """An open objection, corrected only when upheld; returns its new status."""
    if objection_status != "open":
        raise Conflict("the objection is already resolved", objection_status=objection_status)
    if corrections and not upheld:
        raise InvalidInput("scores are corrected only when the objection is upheld")
    return "upheld" if upheld else "dismissed"


def check_honour(kind: HonourKind | None, valid_until: date | None, today: date) -> None:
    """An award's honour names both its kind and its term, at most five years from today."""
    if (kind is None) != (valid_until is None):
        raise InvalidInput("an honour names both its kind and valid_until")
    if valid_until is not None:
        validate_term(today, valid_until)


def award_rank(stage_status: StageStatus, results: Ranking | None, entry_id: uuid.UUID) -> int:
    """Awards come from final results only: the entry's final rank."""
    require_status(stage_status, StageStatus.FINAL, doing="grant awards")
    for r in results or []:
        if r["entry_id"] == str(entry_id):
            return int(r["rank"])
    raise Conflict("the entry has no final result in this stage")


def require_adoptable(
    kind: CompetitionKind, stages: Sequence[tuple[StageStatus, Ranking | None]], entry_id: uuid.UUID
) -> None:
    """采纳: only a golden idea, once it has a final result (the panel reviewed it)."""
    if kind is not CompetitionKind.GOLDEN_IDEAS:
        raise Conflict("only golden ideas are adopted")
    reviewed = any(
        status is StageStatus.FINAL and any(r["entry_id"] == str(entry_id) for r in results or [])
        for status, results in stages
    )
    if not reviewed:
        raise Conflict("an idea is adopted after the panel's review is final")
