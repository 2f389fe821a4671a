"""Budget arithmetic, disbursement checks, idempotency fingerprints, and the exit criteria."""

import uuid
from datetime import UTC, datetime

import pytest

from services.relief.domain.aid import (
    MAX_DISBURSEMENT_FEN,
    ONCE_PER_YEAR,
    Budget,
    aid_year,
    check_amount,
    check_budget_total,
    check_idempotency_key,
    request_fingerprint,
    require_in_plan,
    require_same_request,
)
from services.relief.domain.exit import Guarantee, exit_check, require_exit_met
from services.relief.domain.intake import Household
from shared.contracts.relief import AidType
from shared.errors import Conflict, InvalidInput

YUAN = 100  # fen


def test_ten_payments_of_100_yuan_exhaust_a_1000_yuan_budget_and_the_eleventh_is_refused() -> None:
    budget = Budget(total_fen=1000 * YUAN, spent_fen=0)
    for _ in range(10):
        budget = budget.pay(100 * YUAN)
    assert budget == Budget(100_000, 100_000) and budget.remaining_fen == 0
    with pytest.raises(Conflict, match=r"over budget: 0.00 yuan left, 100.00 yuan requested") as refused:
        budget.pay(100 * YUAN)
    assert refused.value.context["remaining_fen"] == 0


def test_a_payment_of_exactly_what_is_left_passes_and_one_fen_more_does_not() -> None:
    budget = Budget(total_fen=50_000, spent_fen=49_000)
    assert budget.can_pay(1_000)
    assert not budget.can_pay(1_001)


def test_a_budget_cannot_be_set_below_what_is_spent() -> None:
    assert check_budget_total(5_000, 5_000) == 5_000
    with pytest.raises(Conflict, match=r"below what is already spent \(50.01 yuan\)"):
        check_budget_total(5_000, 5_001)
    with pytest.raises(InvalidInput):
        check_budget_total(-1, 0)


@pytest.mark.parametrize("amount", [0, -100, MAX_DISBURSEMENT_FEN + 1])
def test_an_amount_is_a_positive_plausible_number_of_fen(amount: int) -> None:
    with pytest.raises(InvalidInput):
        check_amount(amount)


def test_the_aid_year_is_china_s_calendar_year() -> None:
    # 16:30 UTC on 31 December is 00:30 on 1 January in Beijing.
    assert aid_year(datetime(2025, 12, 31, 16, 30, tzinfo=UTC)) == 2026
    assert aid_year(datetime(2025, 12, 31, 15, 59, tzinfo=UTC)) == 2025


def test_consolation_money_and_tuition_aid_are_once_a_year() -> None:
    assert {AidType.CONSOLATION, AidType.TUITION} == ONCE_PER_YEAR


def test_aid_must_be_in_the_plan() -> None:
    require_in_plan(AidType.MEDICAL, (AidType.MEDICAL, AidType.TUITION))
    with pytest.raises(Conflict, match="not in the case's assistance plan"):
        require_in_plan(AidType.MICRO_LOAN, (AidType.MEDICAL,))


@pytest.mark.parametrize("key", [None, "short", "has space in it", "x" * 101, "ключ-12345"])
def test_a_disbursement_needs_a_plain_idempotency_key(key: str | None) -> None:
    with pytest.raises(InvalidInput):
        check_idempotency_key(key)


def test_the_same_key_with_a_different_request_is_told_apart() -> None:
    case, union = uuid.uuid4(), uuid.uuid4()
    first = request_fingerprint(case, AidType.MEDICAL, 10_000, union, "住院")
    require_same_request(first, request_fingerprint(case, AidType.MEDICAL, 10_000, union, "住院"))
    for other in (
        request_fingerprint(case, AidType.MEDICAL, 10_001, union, "住院"),
        request_fingerprint(case, AidType.COUNSELLING, 10_000, union, "住院"),
        request_fingerprint(uuid.uuid4(), AidType.MEDICAL, 10_000, union, "住院"),
        request_fingerprint(case, AidType.MEDICAL, 10_000, uuid.uuid4(), "住院"),
        request_fingerprint(case, AidType.MEDICAL, 10_000, union, "门诊"),
    ):
        with pytest.raises(Conflict, match="already used for a different"):
            require_same_request(first, other)


ALL_HOLD = dict.fromkeys(Guarantee, True)
LINE = 100_000


def test_exit_needs_income_above_the_exit_line_not_at_it() -> None:
    at_line = exit_check(Household(2, 300_000), ALL_HOLD, LINE, 1500)  # 1,500 yuan per head = 1.5× exactly
    assert not at_line.met and at_line.failing == ["income_above_exit_line"]
    above = exit_check(Household(2, 300_001), ALL_HOLD, LINE, 1500)
    assert above.met and above.failing == []


def test_exit_needs_all_five_guarantees() -> None:
    for missing in Guarantee:
        check = exit_check(Household(1, 500_000), {**ALL_HOLD, missing: False}, LINE, 1500)
        assert check.failing == [f"guarantee_{missing}"]
    unstated = exit_check(Household(1, 500_000), {}, LINE, 1500)
    assert len(unstated.failing) == 5


def test_unmet_exit_criteria_are_refused_naming_each() -> None:
    check = exit_check(Household(1, 100_000), {**ALL_HOLD, Guarantee.HOUSING: False}, LINE, 1500)
    with pytest.raises(Conflict) as refused:
        require_exit_met(check)
    assert refused.value.context["failing"] == ["income_above_exit_line", "guarantee_housing"]
    assert "1,500.00 yuan" in check.checks[0].detail
