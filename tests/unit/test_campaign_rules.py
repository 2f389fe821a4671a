"""送温暖 campaigns: the pure rules (services/relief/domain/campaigns.py)."""

import random
import uuid
from datetime import date, datetime, timedelta
from fractions import Fraction

import pytest

from services.relief.domain.aid import check_idempotency_key
from services.relief.domain.campaigns import (
    FOUR_EYES,
    Allocation,
    CampaignForm,
    Candidate,
    HeldEntry,
    ListAction,
    ListStatus,
    Payable,
    best_group,
    check_campaign,
    check_child_allocation,
    check_payable,
    check_submittable,
    closes_at,
    concerns,
    member_groups,
    next_list_status,
    plan_regeneration,
    recipient_key,
    require_four_eyes,
    split_largest_remainder,
    to_pay,
    yuan,
)
from shared.contracts.relief import Tier
from shared.contracts.relief_programmes import CampaignStatus, RecipientGroup
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.events import CHINA

G = RecipientGroup
TODAY = date(2027, 1, 10)
AMOUNTS = {G.DEEP: 100_000, G.RELATIVE: 60_000, G.ACCIDENT: 80_000, G.MODEL_WORKER: 150_000,
           G.FRONT_LINE: 30_000, G.EMPLOYER: 500_000}  # fmt: skip


def form(**change: object) -> CampaignForm:
    base: dict[str, object] = {
        "title": " 2027年春节送温暖 ", "union_id": uuid.uuid4(), "starts_on": TODAY, "ends_on": TODAY + timedelta(days=30),
        "total_fen": 10_000_000, "amounts_fen": {G.DEEP: 100_000},
    }  # fmt: skip
    base.update(change)
    return CampaignForm(**base)  # type: ignore[arg-type]


# Launching ---------------------------------------------------------------------------------------


def test_a_good_form_is_launched_with_its_title_trimmed() -> None:
    assert check_campaign(form(), TODAY).title == "2027年春节送温暖"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"title": "  "}, "名称"),
        ({"title": "春" * 101}, "名称"),
        ({"ends_on": TODAY - timedelta(days=1)}, "结束日期"),
        ({"starts_on": TODAY - timedelta(days=400), "ends_on": TODAY}, "期限"),
        ({"total_fen": 0}, "总额"),
        ({"amounts_fen": {}}, "至少"),
        ({"amounts_fen": {G.DEEP: 0}}, "深度困难职工"),
        ({"amounts_fen": {G.EMPLOYER: 20_000_000}}, "困难企业"),
    ],
)
def test_a_bad_form_is_refused_in_chinese_saying_what_is_wrong(change: dict[str, object], words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        check_campaign(form(**change), TODAY)


def test_the_end_before_the_start_is_refused() -> None:
    with pytest.raises(InvalidInput, match="早于"):
        check_campaign(form(starts_on=TODAY + timedelta(days=5), ends_on=TODAY + timedelta(days=4)), TODAY)


def test_the_campaign_closes_at_the_end_of_its_last_china_day() -> None:
    at = closes_at(date(2027, 2, 10))
    assert at == datetime(2027, 2, 11, 0, 0, tzinfo=CHINA)
    assert at.astimezone(CHINA).date() == date(2027, 2, 11)


def test_a_campaign_pays_only_within_its_period_and_while_open() -> None:
    start, end = date(2027, 1, 1), date(2027, 1, 31)
    check_payable(CampaignStatus.OPEN, start, end, start)
    check_payable(CampaignStatus.OPEN, start, end, end)
    for status, today, words in [
        (CampaignStatus.CLOSED, date(2027, 1, 15), "已结束"),
        (CampaignStatus.OPEN, date(2027, 2, 1), "已结束"),
        (CampaignStatus.OPEN, date(2026, 12, 31), "尚未"),
    ]:
        with pytest.raises(Conflict, match=words):
            check_payable(status, start, end, today)


def test_a_campaign_concerns_the_unions_above_and_below_its_own_not_beside() -> None:
    root, city, district, base, other = (uuid.uuid4() for _ in range(5))
    launched_at_district = [root, city, district]
    assert concerns(launched_at_district, [root, city, district, base])  # inside
    assert concerns(launched_at_district, [root, city])  # above
    assert concerns(launched_at_district, [root, city, district])  # itself
    assert not concerns(launched_at_district, [root, city, other])  # beside


# Groups and amounts ------------------------------------------------------------------------------


def test_a_register_household_falls_in_its_tier_and_a_model_worker_only_with_a_case_in_the_register() -> None:
    assert member_groups(True, Tier.DEEP, False, False) == {G.DEEP}
    assert member_groups(True, Tier.RELATIVE, True, True) == {G.RELATIVE, G.MODEL_WORKER, G.FRONT_LINE}
    assert member_groups(False, None, True, False) == set()  # a model worker not in hardship
    assert member_groups(False, None, False, True) == {G.FRONT_LINE}
    assert member_groups(False, None, False, False) == set()


def test_a_recipient_is_consoled_once_in_the_group_paying_the_most() -> None:
    assert best_group({G.RELATIVE, G.MODEL_WORKER, G.FRONT_LINE}, AMOUNTS) == (G.MODEL_WORKER, 150_000)
    assert best_group({G.RELATIVE, G.FRONT_LINE}, AMOUNTS) == (G.RELATIVE, 60_000)
    # Only the groups the campaign consoles count.
    assert best_group({G.RELATIVE, G.FRONT_LINE}, {G.FRONT_LINE: 20_000}) == (G.FRONT_LINE, 20_000)
    assert best_group({G.ACCIDENT}, {G.DEEP: 1}) is None
    assert best_group(set(), AMOUNTS) is None


def test_equal_amounts_go_to_the_household_tier_first() -> None:
    same = {G.DEEP: 50_000, G.MODEL_WORKER: 50_000, G.FRONT_LINE: 50_000}
    assert best_group({G.FRONT_LINE, G.MODEL_WORKER, G.DEEP}, same) == (G.DEEP, 50_000)


# The split ---------------------------------------------------------------------------------------


def test_the_split_sums_exactly_and_is_proportional() -> None:
    rng = random.Random(20)
    for _ in range(500):
        n = rng.randrange(1, 12)
        weights = {f"u{i}": rng.randrange(0, 10**7) for i in range(n)}
        amount = rng.randrange(0, 10**10)
        shares = split_largest_remainder(amount, weights)
        total = sum(weights.values())
        if total == 0:
            assert set(shares.values()) == {0}
            continue
        assert sum(shares.values()) == amount
        for k, w in weights.items():
            exact = Fraction(amount * w, total)
            assert abs(shares[k] - exact) < 1, (k, shares[k], exact)


def test_the_fen_left_over_go_to_the_largest_remainders() -> None:
    assert split_largest_remainder(100, {"a": 1, "b": 1, "c": 1}) == {"a": 34, "b": 33, "c": 33}
    assert split_largest_remainder(10, {"a": 1, "b": 2}) == {"a": 3, "b": 7}  # 3.33 / 6.67
    assert split_largest_remainder(5, {"a": 0, "b": 3}) == {"a": 0, "b": 5}
    assert split_largest_remainder(7, {}) == {}
    with pytest.raises(ValueError):
        split_largest_remainder(-1, {"a": 1})


# Allocations -------------------------------------------------------------------------------------


def test_a_child_gets_at_most_what_its_parent_has_left() -> None:
    parent = Allocation(total_fen=1_000, allocated_fen=600, paid_fen=100)  # 300 left
    child = Allocation(total_fen=200, allocated_fen=0, paid_fen=0)
    assert check_child_allocation(500, child, parent) == 300  # 200 -> 500 takes all 300 left
    with pytest.raises(Conflict, match=r"3\.00元") as refused:
        check_child_allocation(501, child, parent)
    assert refused.value.context["remaining_fen"] == 300
    assert check_child_allocation(50, child, parent) == -150  # lowering gives back


def test_a_child_never_goes_below_what_it_handed_on_and_paid() -> None:
    parent = Allocation(10_000, 500, 0)
    child = Allocation(500, allocated_fen=200, paid_fen=150)
    assert check_child_allocation(350, child, parent) == -150
    with pytest.raises(Conflict, match=r"3\.50元"):
        check_child_allocation(349, child, parent)


def test_remaining_is_what_is_neither_handed_on_nor_paid() -> None:
    assert Allocation(1_000, 300, 200).remaining_fen == 500
    assert yuan(123_456) == "1234.56" and yuan(5) == "0.05"


# Lists -------------------------------------------------------------------------------------------


def test_a_list_moves_draft_submitted_approved_paid_and_back_to_draft_only_before_paying() -> None:
    s = next_list_status(ListStatus.DRAFT, ListAction.SUBMIT)
    assert s is ListStatus.SUBMITTED
    assert next_list_status(s, ListAction.RETURN) is ListStatus.DRAFT
    s = next_list_status(s, ListAction.APPROVE)
    assert s is ListStatus.APPROVED
    assert next_list_status(s, ListAction.RETURN) is ListStatus.DRAFT
    assert next_list_status(s, ListAction.PAY) is ListStatus.PAID


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (ListStatus.DRAFT, ListAction.APPROVE),
        (ListStatus.DRAFT, ListAction.PAY),
        (ListStatus.SUBMITTED, ListAction.EDIT),
        (ListStatus.SUBMITTED, ListAction.GENERATE),
        (ListStatus.SUBMITTED, ListAction.PAY),
        (ListStatus.APPROVED, ListAction.EDIT),
        (ListStatus.PAID, ListAction.RETURN),
        (ListStatus.PAID, ListAction.EDIT),
        (ListStatus.PAID, ListAction.SUBMIT),
    ],
)
def test_a_step_out_of_order_is_a_409_naming_the_status(status: ListStatus, action: ListAction) -> None:
    with pytest.raises(Conflict, match="当前状态"):
        next_list_status(status, action)


def test_the_submitter_does_not_approve() -> None:
    with pytest.raises(Forbidden) as refused:
        require_four_eyes("cadre:wang", "cadre:wang")
    assert refused.value.reason == FOUR_EYES == "同一人不能既提交又审批(四眼原则)"
    require_four_eyes("cadre:wang", "cadre:li")


def test_an_empty_list_is_not_submitted() -> None:
    with pytest.raises(Conflict):
        check_submittable(0)
    check_submittable(1)


def test_regeneration_adds_the_new_follows_the_untouched_and_keeps_the_edited() -> None:
    m = [uuid.uuid4() for _ in range(6)]
    held = [
        HeldEntry(
            uuid.uuid4(), recipient_key(m[0], None), True, False, G.DEEP, 100
        ),  # untouched, still found
        HeldEntry(uuid.uuid4(), recipient_key(m[1], None), True, False, G.RELATIVE, 60),  # untouched, changed
        HeldEntry(uuid.uuid4(), recipient_key(m[2], None), True, False, G.DEEP, 100),  # untouched, gone
        HeldEntry(uuid.uuid4(), recipient_key(m[3], None), True, True, G.DEEP, 90),  # edited, gone: stays
        HeldEntry(uuid.uuid4(), recipient_key(m[4], None), False, True, G.FRONT_LINE, 30),  # added: stays
    ]
    found = [
        Candidate(m[0], None, G.DEEP, 100),
        Candidate(m[1], None, G.MODEL_WORKER, 150),
        Candidate(m[3], None, G.DEEP, 100),
        Candidate(m[5], None, G.FRONT_LINE, 30),
    ]
    plan = plan_regeneration(held, found)
    assert [c.member_id for c in plan.insert] == [m[5]]
    assert plan.update == [(held[1].entry_id, found[1])]
    assert plan.delete == [held[2].entry_id]


def test_a_recipient_already_paid_through_another_list_is_not_paid_again() -> None:
    a, b, c = (recipient_key(uuid.uuid4(), None) for _ in range(3))
    e = recipient_key(None, uuid.uuid4())
    entries = [Payable(uuid.uuid4(), k, 100) for k in (c, a, e, b)]
    fresh, already = to_pay(entries, {b})
    assert already == 1
    assert [p.key for p in fresh] == sorted([a, c, e])  # one global order
    assert recipient_key(None, uuid.UUID(int=1)).startswith("employer:")


def test_a_payment_needs_a_sound_idempotency_key() -> None:
    assert check_idempotency_key("pay-2027-spring-001") == "pay-2027-spring-001"
    for bad in (None, "short", "有中文的键值abcdefg", "x" * 101):
        with pytest.raises(InvalidInput):
            check_idempotency_key(bad)
