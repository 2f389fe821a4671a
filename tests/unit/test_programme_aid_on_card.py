"""Programme aid on the card (送温暖, 金秋助学): the receipts relief last sent, newest first, each
programme in Chinese words, never a raw code."""

import inspect
import json
import re
import uuid
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from unittest.mock import MagicMock

from pydantic import TypeAdapter

from services.projector.domain import labels
from services.projector.domain.card import ProgrammeAid, programme_aid
from services.projector.domain.inbox import Kind, items_for
from services.projector.handlers.relief_events import apply_relief_event
from services.projector.store import cards
from services.projector.store.generations import PUBLIC_VIEWS
from shared.contracts.relief_programmes import Programme, ProgrammeAidPaid, ProgrammeReceipt, RecipientGroup

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def receipt(programme: Programme, title: str, fen: int, paid_at: datetime) -> ProgrammeReceipt:
    return ProgrammeReceipt(payment_id=uuid.uuid4(), programme=programme, source_id=uuid.uuid4(), title=title,
                            amount_fen=fen, paid_at=paid_at, paying_union_id=uuid.uuid4())  # fmt: skip


def as_stored(receipts: list[ProgrammeReceipt]) -> list[dict[str, object]]:
    """What the card read gets back from the table: the receipts as JSON, as the store wrote them."""
    stored: list[dict[str, object]] = TypeAdapter(list[dict[str, object]]).validate_json(
        TypeAdapter(list[ProgrammeReceipt]).dump_json(receipts)
    )
    return stored


def test_receipts_are_shown_newest_first_with_the_programme_in_words() -> None:
    spring = receipt(Programme.CONSOLATION, "2027年春节送温暖", 50_000, datetime(2027, 1, 20, 2, tzinfo=UTC))
    autumn = receipt(Programme.STUDENT_AID, "2027年金秋助学", 300_000, datetime(2027, 8, 30, 8, tzinfo=UTC))
    # Sent oldest first on purpose: the card's order does not depend on the sender's.
    shown = programme_aid(as_stored([spring, autumn]))
    assert shown == [
        ProgrammeAid(
            "student_aid", "金秋助学", "2027年金秋助学", 300_000, datetime(2027, 8, 30, 8, tzinfo=UTC)
        ),
        ProgrammeAid(
            "consolation", "送温暖", "2027年春节送温暖", 50_000, datetime(2027, 1, 20, 2, tzinfo=UTC)
        ),
    ]


def test_same_time_receipts_keep_one_order_whatever_order_they_came_in() -> None:
    at = datetime(2027, 1, 20, 2, tzinfo=UTC)
    a = receipt(Programme.CONSOLATION, "2027年春节送温暖", 50_000, at)
    b = receipt(Programme.CONSOLATION, "2027年元旦送温暖", 30_000, at)
    assert programme_aid(as_stored([a, b])) == programme_aid(as_stored([b, a]))


def test_no_receipts_show_nothing() -> None:
    assert programme_aid([]) == []


def test_every_programme_has_chinese_words_and_an_unknown_one_is_never_shown_raw() -> None:
    assert set(labels.PROGRAMME) == set(Programme)
    for code in Programme:
        assert CHINESE.search(labels.PROGRAMME[code]) and code not in labels.PROGRAMME[code]
    later = {"programme": "winter_fuel", "title": "2028年冬季助暖", "amount_fen": 100,
             "paid_at": "2028-01-02T03:04:05+00:00", "payment_id": str(uuid.uuid4())}  # fmt: skip
    (shown,) = programme_aid([later])
    assert shown.programme_label == labels.UNKNOWN_PROGRAMME and CHINESE.search(shown.programme_label)


class RecordingConn:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    async def execute(self, sql: str, *args: Any) -> str:
        self.calls.append((sql, args))
        return "INSERT 0 1"


async def test_a_payment_replaces_the_receipts_whole_only_when_newer_and_never_for_an_erased_member() -> None:
    conn = RecordingConn()
    member = uuid.uuid4()
    first = receipt(Programme.CONSOLATION, "2027年春节送温暖", 50_000, datetime(2027, 1, 20, 2, tzinfo=UTC))
    event = ProgrammeAidPaid(member_id=member, base_union_id=uuid.uuid4(), group=RecipientGroup.DEEP,
                             payment=first, receipts=[first])  # fmt: skip
    envelope = MagicMock(subject_version=7)
    await apply_relief_event(conn, envelope, event)  # type: ignore[arg-type]
    ((sql, args),) = conn.calls  # the receipts only: no relief case is written
    assert "INSERT INTO programme_receipts" in sql
    assert "WHERE programme_receipts.version < EXCLUDED.version" in sql
    assert "NOT EXISTS (SELECT FROM erased_members WHERE member_id = $1)" in sql
    assert args[:2] == (member, 7)
    assert [r["title"] for r in json.loads(args[2])] == ["2027年春节送温暖"]


def test_the_card_reads_the_receipts_only_for_the_member_themself() -> None:
    section = cards.CARD_DETAILS[cards.CARD_DETAILS.index("AS redemptions") :]
    assert re.search(
        r"CASE WHEN \$2 THEN.*FROM \{s\}\.programme_receipts.*ELSE '\[\]' END AS programme_aid", section, re.S
    )
    assert "programme_aid" in cards.CARD_DETAIL_LISTS


def test_an_erased_members_receipts_go_with_their_card() -> None:
    assert "DELETE FROM programme_receipts WHERE member_id = $1" in inspect.getsource(cards.erase_member)


def _table(sql: str) -> str:
    body = re.search(r"CREATE TABLE (?:%1\$I\.)?programme_receipts \((.*?)\n\);", sql, re.S)
    assert body is not None
    return body.group(1)


def test_the_migration_and_a_new_generation_define_the_same_table() -> None:
    migration = resources.files("services.projector.migrations").joinpath("0012_programme_receipts.sql")
    generation = resources.files("services.projector.store").joinpath("generation.sql")
    assert _table(migration.read_text(encoding="utf-8")) == _table(generation.read_text(encoding="utf-8"))
    assert "programme_receipts" in PUBLIC_VIEWS


def test_the_member_is_told_of_each_payment_in_words() -> None:
    member = uuid.uuid4()
    spring = receipt(Programme.CONSOLATION, "2027年春节送温暖", 50_000, datetime(2027, 1, 20, 2, tzinfo=UTC))
    autumn = receipt(Programme.STUDENT_AID, "2027年金秋助学", 300_000, datetime(2027, 8, 30, 8, tzinfo=UTC))
    event = ProgrammeAidPaid(member_id=member, base_union_id=uuid.uuid4(), group=RecipientGroup.DEEP,
                             payment=autumn, receipts=[autumn, spring])  # fmt: skip
    (item,) = items_for(event)  # the payment only, not every receipt again
    assert (item.member_id, item.kind, item.title) == (member, Kind.AID, "金秋助学金已发放")
    assert item.body == "“2027年金秋助学” 3000.00 元已发放。详情见会员卡上的“我的慰问与助学”。"
    assert "student_aid" not in item.body
