"""The console never shows a raw code: every choice a queue's action offers (the enums behind
the body hints of services/*/domain/queues.py) has its Chinese words in console.js."""

import re
from pathlib import Path

from services.relief.domain.intake import Cause
from shared.contracts.legal import MediationOutcome, Outcome
from shared.contracts.relief import AidType

CONSOLE = Path(__file__).resolve().parents[2] / "services" / "web" / "static" / "console.js"


def _choice_labels() -> dict[str, str]:
    block = re.search(r"const CHOICE_LABELS = \{(.*?)\};", CONSOLE.read_text(encoding="utf-8"), re.S)
    assert block, "CHOICE_LABELS is gone from console.js"
    return dict(re.findall(r'(\w+): "([^"]+)"', block.group(1)))


def test_every_choice_a_queue_offers_has_chinese_words() -> None:
    labels = _choice_labels()
    for enum in (MediationOutcome, Outcome, AidType, Cause):
        for member in enum:
            assert re.search(r"[\u4e00-\u9fff]", labels.get(member.value, "")), (
                f"{enum.__name__}.{member.name}"
            )
