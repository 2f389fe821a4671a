"""The card's usage history (使用记录, issue 18): partners.OfferRedeemed into the card read model."""

import inspect
import re
import uuid
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from unittest.mock import MagicMock

import pytest

from services.projector.api.routes import RedemptionView
from services.projector.handlers.partners_events import MismatchedOfferKey, apply_partners_event
from services.projector.store import cards
from services.projector.store.generations import PUBLIC_VIEWS
from shared.contracts.partners import OfferRedeemed, offer_key


class RecordingConn:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    async def execute(self, sql: str, *args: Any) -> str:
        self.calls.append((sql, args))
        return "INSERT 0 1"


def redeemed(**changes: Any) -> OfferRedeemed:
    fields: dict[str, Any] = {
        "redemption_id": uuid.uuid4(), "partner_id": "p1", "merchant_id": "p1-shop", "offer_id": "daily",
        "offer_key": offer_key("p1", "daily"), "member_id": uuid.uuid4(),
        "redeemed_at": datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
    }  # fmt: skip
    return OfferRedeemed(**{**fields, **changes})


async def test_a_redemption_is_kept_once_by_its_id_and_never_for_an_erased_member() -> None:
    conn = RecordingConn()
    event = redeemed()
    await apply_partners_event(conn, MagicMock(), event)  # type: ignore[arg-type]
    # The card's history first; then the partner's statistics (tests/integration/test_partner_statistics.py).
    (sql, args), *statistics = conn.calls
    assert "INSERT INTO redemptions" in sql
    assert "ON CONFLICT (redemption_id) DO NOTHING" in sql  # a redelivery changes nothing
    assert "NOT EXISTS (SELECT FROM erased_members WHERE member_id = $2)" in sql
    assert args[:2] == (event.redemption_id, event.member_id)
    assert [s.split("(")[0].strip() for s, _ in statistics] == [
        "INSERT INTO offer_redemption_stats",
        "INSERT INTO offer_redeemers",
    ]
    assert all("ON CONFLICT" in s for s, _ in statistics)


async def test_a_redemption_whose_offer_key_does_not_match_is_refused() -> None:
    conn = RecordingConn()
    with pytest.raises(MismatchedOfferKey):
        await apply_partners_event(conn, MagicMock(), redeemed(offer_key="p2/daily"))  # type: ignore[arg-type]
    assert conn.calls == []


def test_the_card_reads_redemptions_only_for_the_member_themself() -> None:
    section = cards.CARD_DETAILS[cards.CARD_DETAILS.index("AS legal_cases") :]
    assert re.search(
        r"CASE WHEN \$2 THEN.*FROM \{s\}\.redemptions.*ELSE '\[\]' END AS redemptions", section, re.S
    )
    assert "LIMIT $4" in section and "ORDER BY r.redeemed_at DESC" in section
    assert cards.RECENT_REDEMPTIONS == 20
    assert "redemptions" in cards.CARD_DETAIL_LISTS


def test_an_erased_members_redemptions_go_with_their_card() -> None:
    assert "DELETE FROM redemptions WHERE member_id = $1" in inspect.getsource(cards.erase_member)


def _table(sql: str) -> str:
    body = re.search(r"CREATE TABLE (?:%1\$I\.)?redemptions \((.*?)\n\);", sql, re.S)
    assert body is not None
    return body.group(1)


def test_the_migration_and_a_new_generation_define_the_same_table() -> None:
    migration = resources.files("services.projector.migrations").joinpath("0009_redemptions_on_card.sql")
    generation = resources.files("services.projector.store").joinpath("generation.sql")
    assert _table(migration.read_text(encoding="utf-8")) == _table(generation.read_text(encoding="utf-8"))
    assert "redemptions" in PUBLIC_VIEWS


def test_a_redemption_of_a_merchant_or_offer_not_known_yet_still_shows() -> None:
    view = RedemptionView.model_validate(
        {"redemption_id": str(uuid.uuid4()), "redeemed_at": "2026-12-03T09:30:00+00:00", "partner_id": "p1",
         "merchant_name": None, "offer_title": None}
    )  # fmt: skip
    assert view.merchant_name is None and view.redeemed_at.tzinfo is not None
