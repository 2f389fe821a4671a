"""Programme aid on the card (送温暖, 金秋助学): the receipts relief last sent, newest first, each
programme in Chinese words, never a raw code."""

import re
import uuid
from datetime import UTC, datetime

from pydantic import TypeAdapter

from services.projector.domain import labels
from services.projector.domain.card import ProgrammeAid, programme_aid
from shared.contracts.relief_programmes import Programme, ProgrammeReceipt

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
