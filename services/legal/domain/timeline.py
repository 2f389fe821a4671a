"""The dates of a case's steps, and how mediation ends. Every date a command gives (the body
accepting the case, the tribunal accepting it, the award, the suit...) lies between the case's
latest recorded step and today, China time: a date before the filing or in the future would
start statutory clocks already run out, and the scheduler would fire deadlines already missed.

Mediation ends in an agreement (达成协议), fails (调解不成) or its window passes (期满未结,
15 days after acceptance). Arbitration may be applied for without mediation, after a failed
one, or once the window passed; not over an agreement, nor while mediation still runs.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from services.legal.domain.clocks import mediation_window_ends
from shared.contracts.legal import MediationOutcome, Stage
from shared.errors import Conflict, InvalidInput

# What each recorded date of a case is, as a refusal names it.
STEP_NAMES: dict[str, str] = {
    "filed_on": "the filing",
    "mediation_accepted_on": "the acceptance of mediation",
    "mediation_ended_on": "the end of mediation",
    "arbitration_applied_on": "the application for arbitration",
    "arbitration_accepted_on": "the tribunal's acceptance",
    "award_received_on": "the award",
}


def require_step_day(what: str, day: date, today: date, timeline: Mapping[str, date | None]) -> None:
    """`day`, the date of `what`, is not after today nor before any step the case recorded."""
    if day > today:
        raise InvalidInput(f"the date of {what} cannot be after today ({today.isoformat()}, China time)")
    # The latest date; on a tie, the step that comes later in the case (the timeline's order).
    recorded = [(d, i, step) for i, (step, d) in enumerate(timeline.items()) if d is not None]
    if not recorded:
        return
    latest, _, step = max(recorded)
    if day < latest:
        raise InvalidInput(
            f"the date of {what} cannot be before {STEP_NAMES.get(step, step)} ({latest.isoformat()})"
        )


@dataclass(frozen=True)
class MediationEnd:
    outcome: MediationOutcome
    on: date


def mediation_end(
    stage: Stage,
    outcome: MediationOutcome | None,
    accepted_on: date | None,
    new: MediationOutcome,
    day: date,
) -> MediationEnd:
    """Recording how mediation ended: once, while in mediation; a passed window only after it."""
    if stage is not Stage.MEDIATION or accepted_on is None:
        raise Conflict(f"the case is in {stage.value}, not in mediation", stage=stage.value)
    if outcome is not None:
        raise Conflict(f"mediation ended already ({outcome.label})", mediation_outcome=outcome.value)
    ends = mediation_window_ends(accepted_on)
    if new is MediationOutcome.WINDOW_PASSED:
        if day <= ends:
            raise InvalidInput(f"the mediation window runs until {ends.isoformat()}: it has not passed")
        return MediationEnd(new, ends)  # it ended with its last day
    return MediationEnd(new, day)


def window_passed(accepted_on: date, today: date) -> MediationEnd:
    """The window passed unresolved: it ended on its last day (never after today, when recorded)."""
    return MediationEnd(MediationOutcome.WINDOW_PASSED, min(mediation_window_ends(accepted_on), today))


def arbitration_after_mediation(
    mediated: bool, outcome: MediationOutcome | None, accepted_on: date | None, day: date
) -> MediationEnd | None:
    """May arbitration be applied for on `day`? Without mediation, yes; after mediation when it
    failed or its window passed (a window passed but not yet recorded is recorded now: the
    returned end). Refused over an agreement or while mediation still runs."""
    if not mediated or outcome in (MediationOutcome.FAILED, MediationOutcome.WINDOW_PASSED):
        return None
    if outcome is MediationOutcome.AGREEMENT:
        raise Conflict(
            "mediation ended in an agreement (达成协议): arbitration follows a failed mediation "
            "(调解不成) or a passed window (期满未结)",
            mediation_outcome=outcome.value,
        )
    if accepted_on is None:  # no acceptance date, no window to wait for
        return None
    ends = mediation_window_ends(accepted_on)
    if day <= ends:
        raise Conflict(
            f"mediation runs until {ends.isoformat()}: record that it failed (调解不成) "
            "or apply for arbitration after the window",
            allowed=["record_mediation_outcome"],
        )
    return window_passed(accepted_on, day)
