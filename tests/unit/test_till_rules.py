"""The till's rules (services/partners/domain/till.py) and version 2 of the partner offer contract."""

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.partners.domain import till
from services.partners.domain.offers import (
    OfferState,
    Rejected,
    content_hash,
    offer_event,
    offer_state,
    parse,
)
from services.partners.domain.till import CodeFacts, CodeKind, OfferFacts, Refusal, Usage
from shared.contracts import decode_event, encode_event, new_envelope
from shared.contracts.partners import (
    DiscountKind,
    Eligibility,
    OfferCategory,
    OfferDiscount,
    OfferPublished,
    OfferPublishedV1,
)

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 23:00 in China
KEY = "pt-a/lunch"


def code(**changes: Any) -> CodeFacts:
    base: dict[str, Any] = {"kind": CodeKind.CARD, "offer_keys": (KEY,), "expires_at": NOW + timedelta(seconds=30),
                            "redeemed": False}  # fmt: skip
    return CodeFacts(**{**base, **changes})


def offer(**changes: Any) -> OfferFacts:
    base: dict[str, Any] = {
        "offer_key": KEY, "withdrawn": False, "merchant_listed": True, "valid_from": NOW - timedelta(days=1),
        "valid_until": NOW + timedelta(days=1), "eligibility": "all_members", "per_member_per_day": None,
        "per_member_per_month": None, "stock": None,
    }  # fmt: skip
    return OfferFacts(**{**base, **changes})


NONE_USED = Usage(0, 0, 0)


def test_a_fresh_code_for_a_live_offer_on_it_may_redeem() -> None:
    assert till.refusal(code(), offer(), NONE_USED, NOW) is None


@pytest.mark.parametrize(
    ("the_code", "the_offer", "expected"),
    [
        (None, offer(), Refusal.UNKNOWN_CODE),
        (code(expires_at=NOW), offer(), Refusal.EXPIRED),
        (code(redeemed=True), offer(), Refusal.USED),
        (code(), None, Refusal.UNKNOWN_OFFER),
        (code(), offer(withdrawn=True), Refusal.NOT_LIVE),
        (code(), offer(merchant_listed=False), Refusal.NOT_LIVE),
        (code(), offer(valid_until=NOW), Refusal.NOT_LIVE),
        (code(), offer(valid_from=NOW + timedelta(seconds=1)), Refusal.NOT_LIVE),
        (code(offer_keys=("pt-a/other",)), offer(), Refusal.NOT_FOR_CODE),
        (code(), offer(eligibility="hardship_households"), Refusal.HARDSHIP_NEEDS_VOUCHER),
    ],
)
def test_refusals(the_code: CodeFacts | None, the_offer: OfferFacts | None, expected: Refusal) -> None:
    assert till.refusal(the_code, the_offer, NONE_USED, NOW) is expected


def test_a_hardship_offer_is_redeemed_with_a_voucher_only() -> None:
    hardship = offer(eligibility="hardship_households")
    assert till.refusal(code(kind=CodeKind.VOUCHER), hardship, NONE_USED, NOW) is None
    eligible = [(KEY, "all_members"), ("pt-a/h", "hardship_households"), ("pt-a/m", "model_workers")]
    assert till.card_code_offers(eligible) == [KEY, "pt-a/m"]


def test_limits_and_stock() -> None:
    limited = offer(per_member_per_day=1, per_member_per_month=3, stock=10)
    assert till.refusal(code(), limited, Usage(0, 2, 9), NOW) is None
    assert till.refusal(code(), limited, Usage(1, 1, 1), NOW) is Refusal.DAY_LIMIT
    assert till.refusal(code(), limited, Usage(0, 3, 3), NOW) is Refusal.MONTH_LIMIT
    assert till.refusal(code(), limited, Usage(0, 0, 10), NOW) is Refusal.OUT_OF_STOCK
    assert till.refusal(code(), offer(stock=0), NONE_USED, NOW) is Refusal.OUT_OF_STOCK


def test_days_and_months_are_counted_in_china_time() -> None:
    assert till.china_day(NOW) == date(2026, 12, 3)
    assert till.china_day(NOW + timedelta(hours=1)) == date(2026, 12, 4)  # 00:00 in Beijing
    new_year = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 January in Beijing
    assert till.china_month(new_year) == date(2027, 1, 1)
    assert till.china_month(new_year - timedelta(hours=1)) == date(2026, 12, 1)


def test_codes_are_random_url_safe_and_expire_on_time() -> None:
    codes = {till.new_code() for _ in range(100)}
    assert len(codes) == 100
    assert all(len(c) >= 32 and c.replace("-", "").replace("_", "").isalnum() for c in codes)
    assert till.code_digest("abc") != "abc" and len(till.code_digest("abc")) == 64
    assert till.expires_at(CodeKind.CARD, NOW) == NOW + timedelta(seconds=60)
    assert till.expires_at(CodeKind.VOUCHER, NOW) == NOW + timedelta(minutes=10)
    # A stack's setting shortens card codes only; a voucher keeps its 10 minutes.
    assert till.expires_at(CodeKind.CARD, NOW, timedelta(seconds=15)) == NOW + timedelta(seconds=15)
    assert till.expires_at(CodeKind.VOUCHER, NOW, timedelta(seconds=15)) == NOW + timedelta(minutes=10)


def message(**changes: Any) -> bytes:
    base = {
        "action": "create", "merchant_id": "m1", "offer_id": "o1", "version": 1, "title": "八五折",
        "discount": {"kind": "percent", "percent": "15"}, "category": "dining", "region": "330100",
        "valid_from": "2026-11-01T00:00:00+08:00", "valid_until": "2027-03-01T00:00:00+08:00",
        "eligibility": "all_members",
    }  # fmt: skip
    return json.dumps({**base, **changes}).encode()


def test_version_1_messages_are_lifted_to_version_2_without_limits() -> None:
    v1 = parse(message())
    assert (
        v1.schema_version == 2 and (v1.per_member_per_day, v1.per_member_per_month, v1.stock) == (None,) * 3
    )
    # The same offer content hashes the same in either version (a resent v1 stays a duplicate).
    assert content_hash(v1) == content_hash(parse(message(schema_version=2)))
    limited = parse(message(schema_version=2, per_member_per_day=1, per_member_per_month=4, stock=0))
    assert (limited.per_member_per_day, limited.per_member_per_month, limited.stock) == (1, 4, 0)
    assert content_hash(limited) != content_hash(v1)
    event = offer_event("pt-a", limited, NOW)
    assert isinstance(event, OfferPublished) and event.per_member_per_day == 1 and event.stock == 0


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"per_member_per_day": 1}, "per_member_per_day"),  # limits need version 2
        ({"schema_version": 2, "per_member_per_day": 0}, "per_member_per_day"),
        ({"schema_version": 2, "stock": -1}, "stock"),
        ({"schema_version": 2, "per_member_per_day": 5, "per_member_per_month": 2}, "cannot exceed"),
        ({"schema_version": "2"}, "not supported"),
    ],
)
def test_bad_limits_are_rejected_with_the_field(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(Rejected) as caught:
        parse(message(**changes))
    assert any(expected in reason for reason in caught.value.reasons), caught.value.reasons


def test_an_offer_published_v1_event_is_read_as_v2_without_limits() -> None:
    v1 = OfferPublishedV1(
        offer_key="pt-a/o1", partner_id="pt-a", merchant_id="m1", offer_id="o1", version=1, title="t",
        discount=OfferDiscount(kind=DiscountKind.PERCENT, percent=15), category=OfferCategory.DINING,
        region="330100", valid_from=NOW, valid_until=NOW + timedelta(days=1),
        eligibility=Eligibility.ALL_MEMBERS, published_at=NOW,
    )  # fmt: skip
    envelope = new_envelope(v1, source="partners", subject="pt-a/o1", subject_version=1, correlation_id="t")
    assert envelope.schema_version == 1
    metadata, payload = decode_event(encode_event(envelope))
    assert metadata.schema_version == 1
    assert isinstance(payload, OfferPublished) and payload.schema_version == 2
    assert (payload.per_member_per_day, payload.per_member_per_month, payload.stock) == (None, None, None)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, OfferState.LIVE),
        ({"valid_from": NOW}, OfferState.LIVE),  # from its first instant
        ({"valid_from": NOW + timedelta(seconds=1)}, OfferState.UPCOMING),
        ({"valid_until": NOW}, OfferState.ENDED),  # not at its last
        ({"valid_from": None, "valid_until": None}, OfferState.ENDED),  # only a withdrawal came
        ({"merchant_listed": False}, OfferState.DELISTED),
        ({"merchant_listed": False, "valid_until": NOW}, OfferState.DELISTED),
        ({"withdrawn": True, "merchant_listed": False}, OfferState.WITHDRAWN),
    ],
)
def test_an_offers_state_and_only_a_live_one_is_redeemable(
    changes: dict[str, Any], expected: OfferState
) -> None:
    facts = offer(**changes)
    state = offer_state(facts.withdrawn, facts.merchant_listed, facts.valid_from, facts.valid_until, NOW)
    assert state is expected
    refused = till.refusal(code(), facts, NONE_USED, NOW)
    assert (refused is None) == (expected is OfferState.LIVE)
    assert refused in (None, Refusal.NOT_LIVE)
