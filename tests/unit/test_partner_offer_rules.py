"""Partner offer events: schema and range checks, ownership, dates and region, version order."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.partners.domain import keys
from services.partners.domain.merchants import Listing, check_listing, must_delist
from services.partners.domain.offers import (
    MerchantFacts,
    Outcome,
    Rejected,
    StoredOffer,
    check_content,
    check_partner,
    content_hash,
    content_problems,
    decide,
    offer_discount,
    offer_event,
    parse,
    region_within,
)
from services.partners.domain.topics import PartnerTopics
from shared.contracts.partners import (
    OfferCategory,
    OfferPublished,
    OfferWithdrawn,
    region_ancestors,
    region_prefix,
)
from shared.errors import Conflict, InvalidInput, NotFound

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
    message = parse(raw(offer()))
    assert content_problems(message, "meituan-hz", MERCHANT, NOW) == []
    check_content(message, "meituan-hz", MERCHANT, NOW)  # raises nothing


def test_only_a_registered_active_partner_is_heard() -> None:
    assert check_partner("meituan-hz", "active") == "meituan-hz"
    for partner_id, status, expected in [
        ("meituan-hz", None, "'meituan-hz' is not registered"),
        (None, None, "None is not registered"),
        ("meituan-hz", "suspended", "'meituan-hz' is suspended"),
    ]:
        with pytest.raises(Rejected) as caught:
            check_partner(partner_id, status)
        assert expected in caught.value.reasons[0]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty message"),
        (b"not json", "not JSON the union accepts"),
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
        ({"schema_version": 3}, "schema_version"),
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
    message = parse(raw(withdraw))
    assert message.title is None and message.valid_until is None
    assert content_problems(message, "meituan-hz", MERCHANT, NOW) == []
    # The same keys as a creation lack everything a published offer shows.
    create = parse(raw({**withdraw, "action": "create"}))
    assert content_problems(create, "meituan-hz", MERCHANT, NOW) == [
        "create needs title, discount, category, region, valid_from, valid_until, eligibility"
    ]


def test_an_accepted_message_becomes_the_cards_event() -> None:
    published = offer_event("meituan-hz", parse(raw(offer(version=2, action="update"))), NOW)
    assert isinstance(published, OfferPublished)
    assert (published.offer_key, published.version, published.published_at) == (
        "meituan-hz/spring-dining",
        2,
        NOW,
    )
    assert published.discount.percent == Decimal("15") and published.region == "330102"
    withdraw = {"action": "withdraw", "merchant_id": "zwg-hubin", "offer_id": "spring-dining", "version": 3}
    withdrawn = offer_event("meituan-hz", parse(raw(withdraw)), NOW)
    assert isinstance(withdrawn, OfferWithdrawn)
    assert (withdrawn.offer_key, withdrawn.version, withdrawn.withdrawn_at) == (
        "meituan-hz/spring-dining",
        3,
        NOW,
    )


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
    message = parse(raw(offer()))  # runs until 2027-02-01
    assert content_problems(message, "meituan-hz", MERCHANT, NOW) == []
    later = NOW + timedelta(days=80)
    with pytest.raises(Rejected) as caught:
        check_content(message, "meituan-hz", MERCHANT, later)
    assert caught.value.reasons == ["the offer already ended at 2027-02-01T00:00:00+08:00"]


def test_a_merchant_has_one_partner() -> None:
    listing = Listing("zwg-hubin", "meituan-hz", "知味观", OfferCategory.DINING, "330102", None)
    check_listing(listing, owner=None)  # new
    check_listing(listing, owner="meituan-hz")  # its details changed, or listed again
    with pytest.raises(Conflict, match="under another partner"):
        check_listing(listing, owner="eleme-hz")
    with pytest.raises(InvalidInput, match="province"):
        check_listing(replace(listing, region="990000"), owner=None)


def test_only_the_owner_delists_and_only_once() -> None:
    assert must_delist("meituan-hz", "zwg-hubin", owner="meituan-hz", listed=True) is True
    assert must_delist("meituan-hz", "zwg-hubin", owner="meituan-hz", listed=False) is False
    # Unknown and someone else's merchant: the same answer.
    for owner in (None, "eleme-hz"):
        with pytest.raises(NotFound, match="partner 'meituan-hz' has no merchant 'zwg-hubin'"):
            must_delist("meituan-hz", "zwg-hubin", owner=owner, listed=True)


def test_every_partners_offers_topic_names_its_partner() -> None:
    topics = PartnerTopics("t1.")
    assert topics.offers("meituan-hz") == "t1.partners.meituan-hz.offers.v1"
    assert topics.rejections("meituan-hz") == "t1.partners.meituan-hz.rejections.v1"
    assert topics.partner_of("t1.partners.meituan-hz.offers.v1") == "meituan-hz"
    assert topics.partner_of("t2.partners.meituan-hz.offers.v1") is None
    assert topics.partner_of("t1.partners.meituan-hz.rejections.v1") is None
    assert topics.partner_of("t1xpartners.meituan-hz.offers.v1") is None  # the prefix is literal
