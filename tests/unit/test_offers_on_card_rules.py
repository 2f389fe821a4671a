"""Partner offers on the card: who is in which group, the order of offers, cursors."""

from datetime import UTC, datetime, timedelta

import pytest

from services.projector.domain import cursors
from services.projector.domain.offers import (
    Audience,
    Branch,
    InvalidCursor,
    MerchantKey,
    OrderKey,
    audience,
    branches,
    decode_cursor,
    decode_merchant_cursor,
    encode_cursor,
    encode_merchant_cursor,
    locality_rank,
    member_region,
    order_key,
    region_range,
    yuan,
)
from shared.contracts.partners import Eligibility

ALL, MODEL, HARDSHIP = Eligibility.ALL_MEMBERS, Eligibility.MODEL_WORKERS, Eligibility.HARDSHIP_HOUSEHOLDS
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_an_active_member_sees_offers_for_all_members() -> None:
    assert audience("active", model_worker=False, relief_status=None, viewer_is_member=True) == Audience(
        (ALL,)
    )


@pytest.mark.parametrize("status", ["left", "suspended", "expelled"])
def test_a_member_not_active_sees_nothing_and_is_told_why(status: str) -> None:
    seen = audience(status, model_worker=True, relief_status="in_register", viewer_is_member=True)
    assert seen.groups == () and seen.reason and status in seen.reason


def test_no_membership_yet_sees_nothing() -> None:
    seen = audience(None, model_worker=False, relief_status=None, viewer_is_member=True)
    assert seen.groups == () and seen.reason


def test_a_current_model_worker_gets_the_model_worker_group_first() -> None:
    seen = audience("active", model_worker=True, relief_status=None, viewer_is_member=False)
    assert seen.groups == (MODEL, ALL)


@pytest.mark.parametrize("status", ["in_register", "exit_requested"])
def test_a_household_in_the_register_gets_hardship_offers_first(status: str) -> None:
    seen = audience("active", model_worker=True, relief_status=status, viewer_is_member=True)
    assert seen.groups == (HARDSHIP, MODEL, ALL)


@pytest.mark.parametrize(
    "status", ["reported", "verification_requested", "verified", "in_disclosure", "plan_requested",
               "exited", "declined", "suspended", "withdrawn", None],
)  # fmt: skip
def test_a_case_outside_the_register_is_no_hardship(status: str | None) -> None:
    seen = audience("active", model_worker=False, relief_status=status, viewer_is_member=True)
    assert seen.groups == (ALL,)


def test_hardship_is_never_revealed_to_anyone_but_the_member() -> None:
    seen = audience("active", model_worker=False, relief_status="in_register", viewer_is_member=False)
    assert HARDSHIP not in seen.groups and seen.groups == (ALL,) and seen.reason is None


def test_the_members_region_is_their_unions_code_or_nothing() -> None:
    assert member_region("330106") == "330106"
    assert member_region(" 330100 ") == "330100"
    assert member_region("杭州市") is None
    assert member_region("990100") is None  # not a province
    assert member_region(None) is None


def test_locality_rank_puts_districts_before_cities_before_provinces() -> None:
    assert [locality_rank(r) for r in ("330106", "330100", "330000")] == [0, 1, 2]


def test_offers_sort_by_group_then_locality_then_soonest_ending_then_key() -> None:
    later = T0 + timedelta(days=1)
    keys = [
        order_key("all_members", "330106", T0, "p/a"),
        order_key("model_workers", "330000", later, "p/b"),
        order_key("hardship_households", "330000", later, "p/c"),
        order_key("all_members", "330100", T0, "p/d"),
        order_key("all_members", "330106", later, "p/e"),
        order_key("all_members", "330106", T0, "p/0"),
        order_key("model_workers", "330100", later, "p/f"),
    ]
    assert [k.offer_key for k in sorted(keys)] == ["p/c", "p/f", "p/b", "p/0", "p/a", "p/e", "p/d"]


def test_branches_cover_the_member_from_the_most_local_region_in_group_order() -> None:
    plan = branches("330106", (ALL, HARDSHIP))
    assert [(b.eligibility, b.region) for b in plan] == [
        (HARDSHIP, "330106"), (HARDSHIP, "330100"), (HARDSHIP, "330000"),
        (ALL, "330106"), (ALL, "330100"), (ALL, "330000"),
    ]  # fmt: skip
    assert all(b.after_until is None and b.after_key is None for b in plan)


def test_a_member_in_a_city_level_union_is_covered_by_the_city_and_the_province() -> None:
    assert [b.region for b in branches("330100", (ALL,))] == ["330100", "330000"]


def test_branches_resume_after_the_cursor() -> None:
    after = OrderKey(group=2, locality=1, valid_until=T0, offer_key="p/x")  # all members, city
    plan = branches("330106", (MODEL, ALL), after)
    assert plan == [Branch("330100", ALL, T0, "p/x"), Branch("330000", ALL)]


def test_a_cursor_from_a_group_the_caller_lacks_resumes_at_the_next_group() -> None:
    after = OrderKey(group=0, locality=0, valid_until=T0, offer_key="p/x")  # a hardship cursor
    assert [b.eligibility for b in branches("330106", (ALL,), after)] == [ALL, ALL, ALL]


def test_cursors_round_trip_and_refuse_tampering() -> None:
    key = OrderKey(1, 2, T0, "partner-1/offer.7")
    assert decode_cursor(encode_cursor(key)) == key
    # A time that overflows in UTC (year 1 at +14:00) or has no offset would fail in the database.
    overflowing = cursors.encode({"g": 1, "l": 2, "u": "0001-01-01T00:00:00+14:00", "k": "p/x"})
    naive = cursors.encode({"g": 1, "l": 2, "u": "2026-12-03T00:00:00", "k": "p/x"})
    for bad in (
        "",
        "not base64!",
        "eyJnIjo5fQ",
        encode_cursor(key)[:-3] + "AAA",
        "bnVsbA",
        overflowing,
        naive,
    ):
        with pytest.raises(InvalidCursor):
            decode_cursor(bad)


def test_merchant_cursor_round_trips() -> None:
    key = MerchantKey("知味观", "m-001")
    assert decode_merchant_cursor(encode_merchant_cursor(key)) == key
    with pytest.raises(InvalidCursor):
        decode_merchant_cursor("e30")  # {}


def test_directory_region_range_is_the_prefix() -> None:
    assert region_range("330100") == ("330100", "330199")
    assert region_range("330000") == ("330000", "339999")
    assert region_range("330106") == ("330106", "330106")
    for bad in ("3301", "33010a", "990000"):
        with pytest.raises(ValueError):
            region_range(bad)


def test_amounts_in_fen_are_shown_in_yuan() -> None:
    assert [yuan(f) for f in (1, 50, 1250, 100000)] == ["0.01", "0.50", "12.50", "1000.00"]
