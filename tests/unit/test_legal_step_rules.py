"""The rules the legal handlers used to carry: what a stage or a tribunal's step does to the
clocks, which counsel takes a case, a letter step's day and effect, who may file."""

import uuid
from datetime import date, timedelta

import pytest

from services.legal.domain import clocks, stages
from services.legal.domain.clocks import ClockChange, WorkCalendar
from services.legal.domain.counsel import CounselLoad, pick_counsel
from services.legal.domain.intake import require_active_filer
from services.legal.domain.letters import LetterAction, letter_day, letter_effect
from services.legal.domain.reports import mediation_success_rate
from shared.contracts.enrollment import MembershipStatus
from shared.contracts.legal import ArbitrationStep, DeadlineName, LetterKind, Stage
from shared.errors import Conflict, InvalidInput, NotFound

D = DeadlineName
DAY = date(2026, 3, 2)


def _stage(target: Stage, day: date = DAY, **case: object) -> ClockChange:
    fields: dict[str, object] = {
        "learned_on": date(2025, 6, 1), "arbitration_accepted_on": None,
        "award_extended": False, "award_received_on": None,
    }  # fmt: skip
    fields.update(case)
    return clocks.on_stage(target, day, **fields)  # type: ignore[arg-type]


def test_mediation_starts_its_window() -> None:
    assert _stage(Stage.MEDIATION) == ClockChange(schedule=(D.MEDIATION_WINDOW, date(2026, 3, 17)))


def test_arbitration_satisfies_the_limit_and_the_window_and_is_late_after_the_year() -> None:
    in_time = _stage(Stage.ARBITRATION, date(2026, 6, 1))
    assert in_time == ClockChange(cancel=(D.ARBITRATION_LIMIT, D.MEDIATION_WINDOW), late=False)
    assert _stage(Stage.ARBITRATION, date(2026, 6, 2)).late


def test_a_suit_follows_the_award_or_the_tribunals_silence() -> None:
    with pytest.raises(Conflict, match="no award yet"):
        _stage(Stage.LITIGATION, arbitration_accepted_on=DAY - timedelta(days=10))
    silent = _stage(Stage.LITIGATION, arbitration_accepted_on=DAY - timedelta(days=46))
    assert silent == ClockChange(cancel=(D.SUIT_LIMIT, D.AWARD_DUE), late=False)
    awarded = DAY - timedelta(days=16)
    assert _stage(
        Stage.LITIGATION, arbitration_accepted_on=DAY - timedelta(days=60), award_received_on=awarded
    ).late


def test_the_tribunals_steps_run_the_award_deadline_then_the_suit_limit() -> None:
    def step(s: ArbitrationStep, accepted: date | None = None, extended: bool = False,
             awarded: date | None = None) -> ClockChange:  # fmt: skip
        return clocks.on_arbitration_step(
            s, DAY, accepted_on=accepted, extended=extended, award_received_on=awarded
        )

    assert step(ArbitrationStep.ACCEPTED) == ClockChange(
        schedule=(D.AWARD_DUE, DAY + timedelta(days=45)), cancel=(D.AWARD_DUE,)
    )
    with pytest.raises(Conflict, match="recorded already"):
        step(ArbitrationStep.ACCEPTED, accepted=DAY)
    with pytest.raises(Conflict, match="acceptance first"):
        step(ArbitrationStep.EXTENDED)
    assert step(ArbitrationStep.EXTENDED, accepted=DAY).schedule == (D.AWARD_DUE, DAY + timedelta(days=60))
    with pytest.raises(Conflict, match="once already"):
        step(ArbitrationStep.EXTENDED, accepted=DAY, extended=True)
    assert step(ArbitrationStep.AWARDED, accepted=DAY).schedule == (D.SUIT_LIMIT, DAY + timedelta(days=15))
    with pytest.raises(Conflict, match="made already"):
        step(ArbitrationStep.AWARDED, accepted=DAY, awarded=DAY)


def test_the_tribunals_steps_and_counsel_need_the_right_stage() -> None:
    stages.require_in_arbitration(Stage.ARBITRATION)
    with pytest.raises(Conflict) as refused:
        stages.require_in_arbitration(Stage.MEDIATION)
    assert refused.value.context == {"stage": "mediation", "allowed": ["arbitration", "closed"]}
    stages.require_open_for_counsel(Stage.CONSULTATION)
    for stage in (Stage.INTAKE, Stage.CLOSED):
        with pytest.raises(Conflict, match="accepted, open case"):
            stages.require_open_for_counsel(stage)


def _counsel(n: int, open_cases: int = 0, employers: tuple[str, ...] = ()) -> CounselLoad:
    return CounselLoad(uuid.UUID(int=n), f"counsel {n}", 5, open_cases, employers)


def test_pick_counsel_balances_or_hands_over_to_the_named_one_with_a_reason() -> None:
    roster = [_counsel(1, 3), _counsel(2, 1), _counsel(3, 0, ("某厂",))]
    assert pick_counsel(roster, "某厂", previous=None, named=None, reason="").counsel_id == uuid.UUID(int=2)
    # Balancing again does not pick the counsel who has the case.
    picked = pick_counsel(roster, "某厂", previous=uuid.UUID(int=2), named=None, reason="换人")
    assert picked.counsel_id == uuid.UUID(int=1)
    with pytest.raises(InvalidInput, match="handover needs a reason"):
        pick_counsel(roster, "某厂", previous=uuid.UUID(int=2), named=uuid.UUID(int=1), reason=" ")
    with pytest.raises(NotFound):
        pick_counsel(roster, "某厂", previous=None, named=uuid.UUID(int=9), reason="")
    with pytest.raises(Conflict, match="already has the case"):
        pick_counsel(roster, "某厂", previous=uuid.UUID(int=2), named=uuid.UUID(int=2), reason="x")
    with pytest.raises(Conflict, match="conflict of interest"):
        pick_counsel(roster, "某厂", previous=None, named=uuid.UUID(int=3), reason="")


def test_only_active_members_file() -> None:
    require_active_filer(MembershipStatus.ACTIVE)
    with pytest.raises(Conflict, match="this member is left"):
        require_active_filer(MembershipStatus.LEFT)


def test_a_letters_day_is_not_in_the_future_nor_before_the_last_step() -> None:
    assert letter_day(None, DAY, []) == DAY
    assert letter_day(DAY - timedelta(days=3), DAY, [DAY - timedelta(days=5), None]) == DAY - timedelta(
        days=3
    )
    with pytest.raises(InvalidInput, match="future"):
        letter_day(DAY + timedelta(days=1), DAY, [])
    with pytest.raises(InvalidInput, match="cannot precede"):
        letter_day(DAY - timedelta(days=6), DAY, [DAY - timedelta(days=5)])


def test_each_letter_step_starts_or_stops_its_deadline() -> None:
    calendar = WorkCalendar.of(years=[2026])
    opinion = letter_effect(LetterAction.SEND_OPINION, DAY, calendar)
    due = clocks.opinion_reply_due(DAY, calendar)
    assert opinion.changes == {
        "opinion_sent_on": DAY,
        "opinion_reply_due": due,
        "opinion_reply_provisional": False,
    }
    assert opinion.schedule == (D.OPINION_REPLY, due) and opinion.sent == (LetterKind.OPINION, due)
    assert opinion.unpublished_years == ()
    not_fixed = letter_effect(LetterAction.EMPLOYER_NOT_RECTIFIED, DAY, calendar)
    assert not_fixed.changes == {"replied_on": DAY, "rectified": False}
    assert not_fixed.cancel == (D.OPINION_REPLY,) and not_fixed.answered == (LetterKind.OPINION, False)
    recommended = letter_effect(LetterAction.SEND_RECOMMENDATION, DAY, calendar)
    assert recommended.cancel == (D.OPINION_REPLY,) and recommended.schedule is not None
    assert recommended.schedule[0] is D.INSPECTION_RESPONSE and recommended.sent is not None
    assert recommended.changes["inspection_due_provisional"] is False
    opened = letter_effect(LetterAction.INSPECTION_OPENED, DAY, calendar)
    assert opened.cancel == (D.INSPECTION_RESPONSE,) and opened.answered == (LetterKind.RECOMMENDATION, True)
    assert letter_effect(LetterAction.INSPECTION_DECLINED, DAY, calendar).answered == (
        LetterKind.RECOMMENDATION,
        False,
    )


def test_a_letter_whose_deadline_runs_into_a_year_not_published_is_provisional() -> None:
    calendar = WorkCalendar.of(years=[2026])
    sent = date(2026, 12, 28)
    opinion = letter_effect(LetterAction.SEND_OPINION, sent, calendar)
    assert opinion.changes["opinion_reply_due"] == date(2027, 1, 18)  # three weeks, weekends only
    assert opinion.changes["opinion_reply_provisional"] is True and opinion.unpublished_years == (2027,)
    recommended = letter_effect(LetterAction.SEND_RECOMMENDATION, sent, calendar)
    assert recommended.changes["inspection_due"] == date(2027, 1, 4)
    assert recommended.changes["inspection_due_provisional"] is True
    assert recommended.unpublished_years == (2027,)


def test_mediation_success_rate() -> None:
    assert mediation_success_rate(0, 0) is None
    assert mediation_success_rate(4, 3) == 0.75
