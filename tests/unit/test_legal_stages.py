"""The stage machine of a legal case: every allowed move, every refused one, dispositions, closing."""

import pytest

from services.legal.domain import stages
from services.legal.domain.stages import TRANSITIONS
from shared.contracts.legal import Disposition, Outcome, Stage
from shared.errors import Conflict, InvalidInput

S = Stage
ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in targets]
REFUSED = [(a, b) for a in Stage for b in Stage if b not in TRANSITIONS[a]]


def test_the_table_is_the_documented_ladder() -> None:
    assert set(ALLOWED) == {
        (S.INTAKE, S.CONSULTATION), (S.INTAKE, S.CLOSED),
        (S.CONSULTATION, S.MEDIATION), (S.CONSULTATION, S.ARBITRATION), (S.CONSULTATION, S.CLOSED),
        (S.MEDIATION, S.ARBITRATION), (S.MEDIATION, S.CLOSED),
        (S.ARBITRATION, S.LITIGATION), (S.ARBITRATION, S.CLOSED),
        (S.LITIGATION, S.CLOSED),
    }  # fmt: skip


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_every_allowed_move_is_taken(current: Stage, target: Stage) -> None:
    assert stages.require_move(current, target) is target


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_every_other_move_is_refused_naming_the_allowed_ones(current: Stage, target: Stage) -> None:
    with pytest.raises(Conflict) as refused:
        stages.require_move(current, target)
    assert refused.value.status_code == 409
    assert refused.value.context == {"stage": current.value, "allowed": stages.allowed(current)}


def test_a_closed_case_allows_nothing() -> None:
    assert stages.allowed(S.CLOSED) == []


def test_intake_is_left_only_by_a_disposition() -> None:
    with pytest.raises(Conflict, match="disposition"):
        stages.require_stage_move(S.INTAKE, S.CONSULTATION)


def test_the_stage_endpoint_does_not_close_a_case() -> None:
    with pytest.raises(InvalidInput, match="outcome"):
        stages.require_stage_move(S.MEDIATION, S.CLOSED)


def test_litigation_is_reached_only_from_arbitration() -> None:
    assert stages.require_stage_move(S.ARBITRATION, S.LITIGATION) is S.LITIGATION
    for early in (S.CONSULTATION, S.MEDIATION):
        with pytest.raises(Conflict):
            stages.require_stage_move(early, S.LITIGATION)


@pytest.mark.parametrize(
    ("disposition", "target", "outcome"),
    [
        (Disposition.ACCEPT, S.CONSULTATION, None),
        (Disposition.ACCEPT_AND_CLOSE, S.CLOSED, Outcome.ADVICE_GIVEN),
        (Disposition.REJECT, S.CLOSED, Outcome.REJECTED),
        (Disposition.PENDING, S.INTAKE, None),
    ],
)
def test_dispositions(disposition: Disposition, target: Stage, outcome: Outcome | None) -> None:
    assert stages.disposition_target(S.INTAKE, disposition, "超过时效", "区劳动监察大队") is target
    assert stages.disposition_outcome(disposition) is outcome


def test_a_rejection_needs_a_reason_and_a_referral() -> None:
    with pytest.raises(InvalidInput, match="reason and a referral"):
        stages.disposition_target(S.INTAKE, Disposition.REJECT, "不属于劳动争议", " ")
    with pytest.raises(InvalidInput):
        stages.disposition_target(S.INTAKE, Disposition.REJECT, "", "法律援助中心")


def test_intake_is_decided_once() -> None:
    with pytest.raises(Conflict, match="decided already"):
        stages.disposition_target(S.CONSULTATION, Disposition.ACCEPT, "", "")


def test_closing_checks_the_outcome_against_the_stage_and_the_money() -> None:
    assert stages.require_closing(S.MEDIATION, Outcome.SETTLED, 1_200_000) is S.CLOSED
    assert stages.require_closing(S.ARBITRATION, Outcome.AWARD_WON, 500_000) is S.CLOSED
    with pytest.raises(InvalidInput, match="closes as one of"):
        stages.require_closing(S.MEDIATION, Outcome.AWARD_WON, 0)
    with pytest.raises(InvalidInput, match="recovers nothing"):
        stages.require_closing(S.ARBITRATION, Outcome.AWARD_LOST, 100)
    for stage in (S.INTAKE, S.CLOSED):
        with pytest.raises(Conflict):
            stages.require_closing(stage, Outcome.SETTLED, 0)
