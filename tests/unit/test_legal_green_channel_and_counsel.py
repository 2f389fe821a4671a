"""Green-channel rules, the conflict check and load balancing of legal aid, and the letters."""

import uuid
from datetime import date, timedelta

import pytest

from services.legal.domain.counsel import CounselLoad, choose_counsel, conflicted, require_assignable
from services.legal.domain.green_channel import Dispute, triage
from services.legal.domain.intake import case_number
from services.legal.domain.letters import (
    LETTER_TRANSITIONS,
    LetterAction,
    SupervisionStatus,
    next_status,
    rectification_rate,
    require_recommendation_allowed,
)
from shared.contracts.legal import DisputeKind, Priority
from shared.errors import Conflict, InvalidInput

TODAY = date(2026, 11, 23)
FAR = TODAY + timedelta(days=300)


def dispute(kind: DisputeKind, *, migrant: bool = False, workers: int = 1, fen: int = 100_000,
            limit: date = FAR) -> Dispute:  # fmt: skip
    return Dispute(kind, migrant, workers, fen, limit)


def test_a_migrant_workers_unpaid_wages_take_the_green_channel() -> None:
    t = triage(dispute(DisputeKind.WAGE_ARREARS, migrant=True), TODAY)
    assert t.priority is Priority.URGENT and t.green_channel
    assert t.reasons == ("a migrant worker's unpaid wages (农民工欠薪)",)


def test_other_unpaid_wages_are_high_but_not_green() -> None:
    t = triage(dispute(DisputeKind.WAGE_ARREARS), TODAY)
    assert t.priority is Priority.HIGH and not t.green_channel


def test_large_arrears_and_work_injuries_are_urgent() -> None:
    assert triage(dispute(DisputeKind.WAGE_ARREARS, fen=5_000_000), TODAY).green_channel
    assert not triage(dispute(DisputeKind.WAGE_ARREARS, fen=4_999_999), TODAY).green_channel
    assert triage(dispute(DisputeKind.WORK_INJURY), TODAY).reasons == ("a work injury",)


def test_a_collective_dispute_of_ten_workers_is_urgent_nine_is_not() -> None:
    assert triage(dispute(DisputeKind.OVERTIME, workers=10), TODAY).green_channel
    assert triage(dispute(DisputeKind.OVERTIME, workers=9), TODAY).priority is Priority.NORMAL


def test_a_limit_running_out_within_thirty_days_is_urgent() -> None:
    at_30 = triage(dispute(DisputeKind.CONTRACT, limit=TODAY + timedelta(days=30)), TODAY)
    assert at_30.green_channel and at_30.reasons == ("the arbitration limit runs out in 30 days",)
    assert not triage(dispute(DisputeKind.CONTRACT, limit=TODAY + timedelta(days=31)), TODAY).green_channel


def test_every_matching_rule_gives_its_reason_and_the_highest_priority_wins() -> None:
    t = triage(dispute(DisputeKind.WAGE_ARREARS, migrant=True, workers=12), TODAY)
    assert t.priority is Priority.URGENT and len(t.reasons) == 2


def test_a_plain_dispute_is_normal_without_reasons() -> None:
    t = triage(dispute(DisputeKind.SOCIAL_INSURANCE), TODAY)
    assert (t.priority, t.reasons) == (Priority.NORMAL, ())


def counsel(name: str, capacity: int, open_cases: int, *employers: str, active: bool = True) -> CounselLoad:
    return CounselLoad(uuid.uuid4(), name, capacity, open_cases, tuple(employers), active)


def test_counsel_who_represented_the_employer_is_never_assigned() -> None:
    tied = counsel("张律师", 10, 0, "杭州某某物流有限公司")
    free = counsel("李律师", 10, 9)
    assert conflicted(tied, " 杭州某某物流 有限公司")  # spacing does not hide the conflict
    assert choose_counsel([tied, free], "杭州某某物流有限公司") is free
    with pytest.raises(Conflict, match="represented this employer"):
        require_assignable(tied, "杭州某某物流有限公司")


def test_the_lowest_relative_load_takes_the_case() -> None:
    busy = counsel("王律师", 10, 5)  # 50 %
    light = counsel("赵志愿者", 4, 1)  # 25 %
    full = counsel("钱律师", 2, 2)
    assert choose_counsel([busy, light, full], "某厂") is light


def test_ties_go_to_fewer_open_cases() -> None:
    a = counsel("甲", 10, 2)
    b = counsel("乙", 5, 1)  # same 20 %, fewer cases
    assert choose_counsel([a, b], "某厂") is b


def test_nobody_free_of_conflict_with_room_is_a_409() -> None:
    with pytest.raises(Conflict, match="every counsel on the roster has represented"):
        choose_counsel([counsel("甲", 5, 0, "某厂")], "某厂")
    with pytest.raises(Conflict, match="no counsel free of conflict has room"):
        choose_counsel([counsel("乙", 1, 1), counsel("丙", 5, 0, active=False)], "某厂")


def test_a_handover_excludes_the_previous_counsel() -> None:
    a, b = counsel("甲", 10, 0), counsel("乙", 10, 5)
    assert choose_counsel([a, b], "某厂", exclude=[a.counsel_id]) is b


def test_case_numbers_form_one_series() -> None:
    assert case_number(2026, 123) == "维权2026-000123"


def test_letters_go_reminder_opinion_recommendation() -> None:
    St, Ac = SupervisionStatus, LetterAction
    assert next_status(St.REMINDED, Ac.SEND_OPINION) is St.OPINION_SENT
    assert next_status(St.OPINION_SENT, Ac.EMPLOYER_RECTIFIED) is St.RECTIFIED
    assert next_status(St.REPLIED_NOT_RECTIFIED, Ac.SEND_RECOMMENDATION) is St.RECOMMENDED
    assert next_status(St.RECOMMENDED, Ac.INSPECTION_OPENED) is St.INSPECTION_OPENED
    refused = [(s, a) for s in St for a in Ac if (s, a) not in LETTER_TRANSITIONS]
    for s, a in refused:
        with pytest.raises(Conflict):
            next_status(s, a)


def test_the_recommendation_waits_for_the_reply_deadline() -> None:
    due = date(2026, 10, 26)
    with pytest.raises(Conflict, match="may still reply"):
        require_recommendation_allowed(SupervisionStatus.OPINION_SENT, due, due)
    require_recommendation_allowed(SupervisionStatus.OPINION_SENT, due, due + timedelta(days=1))
    require_recommendation_allowed(SupervisionStatus.REPLIED_NOT_RECTIFIED, due, due)


def test_rectification_rate() -> None:
    assert rectification_rate(0, 0) is None
    assert rectification_rate(8, 6) == 0.75


def test_a_filing_fingerprint_tells_a_different_filing_apart() -> None:
    from services.legal.domain.intake import (
        Filing,
        check_idempotency_key,
        filing_fingerprint,
        require_same_filing,
    )

    base = Filing(uuid.UUID(int=1), DisputeKind.WAGE_ARREARS, "某厂", 100, date(2026, 1, 1), True, "欠薪")
    same = Filing(uuid.UUID(int=1), DisputeKind.WAGE_ARREARS, " 某厂 ", 100, date(2026, 1, 1), True, "欠薪 ")
    other = Filing(uuid.UUID(int=1), DisputeKind.WAGE_ARREARS, "某厂", 101, date(2026, 1, 1), True, "欠薪")
    require_same_filing(filing_fingerprint(base), filing_fingerprint(same))
    with pytest.raises(Conflict, match="different filing"):
        require_same_filing(filing_fingerprint(base), filing_fingerprint(other))
    assert check_idempotency_key(None) is None
    with pytest.raises(InvalidInput):
        check_idempotency_key("bad key!")
