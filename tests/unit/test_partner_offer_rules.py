"""Partner offer events: schema and range checks, ownership, dates and region, version order."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.partners.domain import keys
from services.partners.domain.offers import (
    MerchantFacts,
    Outcome,
    Rejected,
    StoredOffer,
    check_content,
    content_hash,
    decide,
    offer_discount,
    parse,
    region_within,
)
from shared.contracts.partners import region_ancestors, region_prefix

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MERCHANT = MerchantFacts(merchant_id="zwg-hubin", partner_id="meituan-hz", region="330100", listed=True)


def offer(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": "create",
        "merchant_id": "zwg-hubin",
        "offer_id": "spring-dining",
        "version": 1,
        "title": "工会会员 8.5 折",
        "discount": {"kind": "percent", "percent": "15"},
        "category": "dining",
        "region": "330102",
        "valid_from": "2026-11-01T00:00:00+08:00",
        "valid_until": "2027-02-01T00:00:00+08:00",
        "eligibility": "all_members",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def raw(body: Any) -> bytes:
    return json.dumps(body).encode()


def reasons_of(
    body: Any, merchant: MerchantFacts | None = MERCHANT, partner: str = "meituan-hz"
) -> list[str]:
    with pytest.raises(Rejected) as caught:
        check_content(parse(raw(body) if not isinstance(body, bytes) else body), partner, merchant, NOW)
    return caught.value.reasons


def test_a_good_offer_passes() -> None:
    check_content(parse(raw(offer())), "meituan-hz", MERCHANT, NOW)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty message"),
        (b"not json", "not JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b"{" + b" " * 20_000 + b"}", "at most 16384"),
    ],
)
def test_undecodable_messages_are_rejected_with_the_reason(data: bytes, expected: str) -> None:
    with pytest.raises(Rejected) as caught:
        parse(data)
    assert expected in caught.value.reasons[0]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"discount": {"kind": "percent", "percent": "120"}}, "at most 100"),
        ({"discount": {"kind": "percent", "percent": "0"}}, "more than 0"),
        ({"discount": {"kind": "percent", "percent": "-5"}}, "more than 0"),
        ({"discount": {"kind": "percent", "percent": "12.345"}}, "two decimal places"),
        ({"discount": {"kind": "amount", "amount_yuan": "0"}}, "more than 0"),
        ({"discount": {"kind": "amount", "amount_yuan": "20000"}}, "at most 10000"),
        ({"discount": {"kind": "amount", "percent": "10"}}, "amount_yuan and no percent"),
        ({"discount": {"kind": "coupon"}}, "discount.kind"),
        ({"category": "weapons"}, "category"),
        ({"eligibility": "vip"}, "eligibility"),
        ({"region": "3301"}, "6-digit"),
        ({"region": "990100"}, "not a province code"),
        ({"version": 0}, "version"),
        ({"offer_id": "has space"}, "offer_id"),
        ({"valid_from": "2026-11-01T00:00:00"}, "timezone"),
        ({"title": ""}, "title"),
        ({"surprise": 1}, "surprise"),
        ({"schema_version": 2}, "schema_version"),
    ],
)
def test_schema_and_range_errors_name_the_field(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(Rejected) as caught:
        parse(raw(offer(**changes)))
    assert any(expected in reason for reason in caught.value.reasons), caught.value.reasons


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"valid_until": "2026-10-01T00:00:00+08:00"}, "valid_until must be after valid_from"),
        (
            {"valid_from": "2026-01-01T00:00:00+08:00", "valid_until": "2027-02-01T00:00:00+08:00"},
            "at most 366",
        ),
        (
            {"valid_from": "2026-10-01T00:00:00+08:00", "valid_until": "2026-11-20T00:00:00+08:00"},
            "already ended",
        ),
        (
            {"valid_from": "2027-06-01T00:00:00+08:00", "valid_until": "2027-07-01T00:00:00+08:00"},
            "90 days ahead",
        ),
        ({"region": "440300"}, "outside the merchant's region 330100"),
        ({"region": "330000"}, "outside the merchant's region 330100"),
        ({"title": None}, "create needs title"),
    ],
)
def test_dates_region_and_completeness(changes: dict[str, Any], expected: str) -> None:
    assert any(expected in reason for reason in reasons_of(offer(**changes)))


def test_a_partner_may_publish_only_for_its_own_merchants() -> None:
    others = MerchantFacts(merchant_id="zwg-hubin", partner_id="eleme-hz", region="330100", listed=True)
    # Unknown and someone else's merchant get the same answer: no partner learns another's merchants.
    assert reasons_of(offer(), merchant=others) == reasons_of(offer(), merchant=None)
    assert "not one of your merchants (partner 'meituan-hz')" in reasons_of(offer(), merchant=others)[0]
    assert "not you" in reasons_of(offer(partner_id="eleme-hz"))[0]
    delisted = MerchantFacts(merchant_id="zwg-hubin", partner_id="meituan-hz", region="330100", listed=False)
    assert "delisted" in reasons_of(offer(), merchant=delisted)[0]


def test_a_withdrawal_needs_only_its_keys() -> None:
    withdraw = {"action": "withdraw", "merchant_id": "zwg-hubin", "offer_id": "spring-dining", "version": 3}
    check_content(parse(raw(withdraw)), "meituan-hz", MERCHANT, NOW)


def test_every_problem_is_listed_at_once() -> None:
    reasons = reasons_of(offer(region="440300", valid_until="2026-11-20T00:00:00+08:00"), merchant=MERCHANT)
    assert len(reasons) == 2


def stored(version: int, body: dict[str, Any], withdrawn: bool = False) -> StoredOffer:
    return StoredOffer("zwg-hubin", version, content_hash(parse(raw(body))), withdrawn)


def decided(body: dict[str, Any], current: StoredOffer | None) -> Outcome:
    message = parse(raw(body))
    return decide(message, content_hash(message), current).outcome


def test_versions_newer_wins_older_is_stale_same_is_idempotent() -> None:
    v2 = offer(version=2, action="update", title="8 折")
    assert decided(offer(), None) is Outcome.ACCEPTED
    assert decided(v2, stored(1, offer())) is Outcome.ACCEPTED
    assert decided(offer(), stored(2, v2)) is Outcome.STALE
    assert decided(v2, stored(2, v2)) is Outcome.DUPLICATE
    # The same content spelled differently is still the same version.
    respelled = offer(version=2, action="create", title="8 折", discount={"kind": "percent", "percent": 15.0},
                      valid_from="2026-10-31T16:00:00+00:00")  # fmt: skip
    assert decided(respelled, stored(2, v2)) is Outcome.DUPLICATE
    assert decided(offer(version=2, title="7 折"), stored(2, v2)) is Outcome.REJECTED


def test_withdrawal_is_final_and_an_offer_keeps_its_merchant() -> None:
    withdraw = {"action": "withdraw", "merchant_id": "zwg-hubin", "offer_id": "spring-dining", "version": 3}
    gone = stored(3, withdraw, withdrawn=True)
    assert decided(offer(version=4, action="update"), gone) is Outcome.REJECTED
    assert decided(offer(version=2, action="update"), gone) is Outcome.STALE
    assert decided({**withdraw, "version": 5}, gone) is Outcome.DUPLICATE
    # A withdrawal that overtakes its offer's creation still wins: the creation arrives stale.
    assert decided(offer(), gone) is Outcome.STALE
    moved = offer(version=2, merchant_id="other-shop")
    assert decided(moved, stored(1, offer())) is Outcome.REJECTED


def test_amounts_travel_in_fen() -> None:
    amount = parse(raw(offer(discount={"kind": "amount", "amount_yuan": "20.50"})))
    assert offer_discount(amount).amount_fen == 2050


def test_regions_nest_by_prefix() -> None:
    assert region_prefix("330000") == "33" and region_prefix("330100") == "3301"
    assert region_ancestors("330106") == ["330106", "330100", "330000"]
    assert region_within("330106", "330100") and region_within("330100", "330100")
    assert not region_within("330000", "330100") and not region_within("440300", "330100")


def test_api_keys_name_their_partner_and_are_stored_as_digests() -> None:
    key = keys.new_key("meituan-hz")
    assert keys.partner_of(key) == "meituan-hz"
    assert keys.partner_of(key + "x") is None and keys.partner_of("Bearer nonsense") is None
    assert keys.digest(key) != key and len(keys.digest(key)) == 64
    assert keys.new_key("meituan-hz") != key


def test_now_is_taken_from_the_caller() -> None:
    later = NOW + timedelta(days=80)
    with pytest.raises(Rejected):
        check_content(parse(raw(offer())), "meituan-hz", MERCHANT, later)
