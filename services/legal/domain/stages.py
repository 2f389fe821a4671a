"""The stages of a legal case as one explicit table: stage -> the stages it may move to.

    intake ─accept─▶ consultation ─▶ mediation ─▶ arbitration ─▶ litigation ─▶ closed
       │                  │  └──────────────────────▲  │              │
       └─accept and close / reject─▶ closed ◀───────┴──┴──────────────┘

Consultation may go straight to arbitration (mediation is not compulsory); every stage after
intake may close the case with an outcome. Intake leaves only through a disposition. Whatever is
not in the table is refused with a 409 naming the current stage and the allowed ones.
"""

from shared.contracts.legal import Disposition, Outcome, Stage
from shared.errors import Conflict, InvalidInput

S = Stage

# fmt: off
TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    S.INTAKE:       frozenset({S.CONSULTATION, S.CLOSED}),
    S.CONSULTATION: frozenset({S.MEDIATION, S.ARBITRATION, S.CLOSED}),
    S.MEDIATION:    frozenset({S.ARBITRATION, S.CLOSED}),
    S.ARBITRATION:  frozenset({S.LITIGATION, S.CLOSED}),
    S.LITIGATION:   frozenset({S.CLOSED}),
    S.CLOSED:       frozenset(),
}
# fmt: on

# Moves made by the stage endpoint; intake is left only by a disposition.
DISPOSITION_TARGET: dict[Disposition, Stage] = {
    Disposition.ACCEPT: S.CONSULTATION,
    Disposition.ACCEPT_AND_CLOSE: S.CLOSED,
    Disposition.REJECT: S.CLOSED,
    Disposition.PENDING: S.INTAKE,
}

# Outcomes a case may close with at each stage (intake closes only by disposition).
CLOSING_OUTCOMES: dict[Stage, frozenset[Outcome]] = {
    S.CONSULTATION: frozenset({Outcome.SETTLED, Outcome.WITHDRAWN, Outcome.ADVICE_GIVEN}),
    S.MEDIATION: frozenset({Outcome.SETTLED, Outcome.WITHDRAWN}),
    S.ARBITRATION: frozenset({Outcome.SETTLED, Outcome.WITHDRAWN, Outcome.AWARD_WON, Outcome.AWARD_LOST}),
    S.LITIGATION: frozenset({Outcome.SETTLED, Outcome.WITHDRAWN, Outcome.AWARD_WON, Outcome.AWARD_LOST}),
}


def allowed(stage: Stage) -> list[str]:
    return sorted(s.value for s in TRANSITIONS[stage])


def require_move(current: Stage, target: Stage) -> Stage:
    """`target` when the table allows it from `current`, else a 409 naming the allowed stages."""
    if target not in TRANSITIONS[current]:
        raise Conflict(
            f"a case in {current.value} cannot move to {target.value}",
            stage=current.value,
            allowed=allowed(current),
        )
    return target


def require_stage_move(current: Stage, target: Stage) -> Stage:
    """A move through the stage endpoint: intake is left by a disposition, closing needs an outcome."""
    if current is S.INTAKE:
        raise Conflict(
            "a case in intake moves on only by a disposition (accept, accept_and_close, reject, pending)",
            stage=current.value,
            allowed=[],
        )
    if target is S.CLOSED:
        raise InvalidInput("close a case with POST /cases/{id}/close and an outcome")
    return require_move(current, target)


def disposition_target(current: Stage, disposition: Disposition, reason: str, referral: str) -> Stage:
    """Where a disposition takes a case still in intake; a rejection needs a reason and a referral."""
    if current is not S.INTAKE:
        raise Conflict(f"the intake of this case was decided already (stage {current.value})",
                       stage=current.value, allowed=allowed(current))  # fmt: skip
    if disposition is Disposition.REJECT and (not reason.strip() or not referral.strip()):
        raise InvalidInput("a rejection needs a reason and a referral (where the worker should go)")
    target = DISPOSITION_TARGET[disposition]
    return current if target is current else require_move(current, target)


def disposition_outcome(disposition: Disposition) -> Outcome | None:
    return {Disposition.ACCEPT_AND_CLOSE: Outcome.ADVICE_GIVEN, Disposition.REJECT: Outcome.REJECTED}.get(
        disposition
    )


def require_closing(current: Stage, outcome: Outcome, recovered_fen: int) -> Stage:
    if current is S.INTAKE or current is S.CLOSED:
        raise Conflict(f"a case in {current.value} cannot be closed this way",
                       stage=current.value, allowed=allowed(current))  # fmt: skip
    if outcome not in CLOSING_OUTCOMES[current]:
        raise InvalidInput(
            f"a case in {current.value} closes as one of {sorted(o.value for o in CLOSING_OUTCOMES[current])}"
        )
    if recovered_fen < 0:
        raise InvalidInput("recovered_fen cannot be negative")
    if outcome in (Outcome.AWARD_LOST, Outcome.WITHDRAWN) and recovered_fen > 0:
        raise InvalidInput(f"a case closed as {outcome.value} recovers nothing")
    return require_move(current, S.CLOSED)


def require_in_arbitration(current: Stage) -> None:
    """The tribunal's steps (acceptance, extension, award) are recorded while in arbitration."""
    if current is not S.ARBITRATION:
        raise Conflict(f"the case is in {current.value}, not in arbitration",
                       stage=current.value, allowed=allowed(current))  # fmt: skip


def require_open_for_counsel(current: Stage) -> None:
    """Counsel is assigned to an accepted case that is still open."""
    if current in (S.INTAKE, S.CLOSED):
        raise Conflict(
            f"counsel is assigned to an accepted, open case (this one is in {current.value})",
            stage=current.value,
            allowed=allowed(current),
        )
