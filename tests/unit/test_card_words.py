"""Every code the card can show has words in Chinese (and a next step where the member has one):
a member never reads `in_disclosure`."""

import re

import pytest

from services.projector.domain import labels
from shared.contracts.enrollment import MembershipStatus
from shared.contracts.legal import DeadlineName, DisputeKind, Outcome, Stage
from shared.contracts.relief import CaseStatus, Tier

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(
    ("table", "codes"),
    [
        (labels.MEMBERSHIP, list(MembershipStatus)),
        (labels.APPLICATION, ["pending", "approved", "rejected"]),
        (labels.RELIEF, list(CaseStatus)),
        (labels.STAGE, list(Stage)),
    ],
)
def test_every_status_has_chinese_words(table: dict[str, labels.Said], codes: list[str]) -> None:
    assert set(table) == set(codes)
    for code in codes:
        said = labels.said(table, code)
        assert CHINESE.search(said.label) and code not in said.label, code
        assert said.next_step is None or CHINESE.search(said.next_step), code


@pytest.mark.parametrize(
    ("table", "codes"),
    [
        (labels.TIER, list(Tier)),
        (labels.OUTCOME, list(Outcome)),
        (labels.DEADLINE, list(DeadlineName)),
        (labels.DISPUTE_KIND, list(DisputeKind)),
    ],
)
def test_every_word_is_chinese(table: dict[str, str], codes: list[str]) -> None:
    assert set(table) == set(codes)
    assert all(CHINESE.search(labels.word(table, c) or "") for c in codes)


def test_an_unknown_code_reads_as_pending_never_raw() -> None:
    assert labels.said(labels.RELIEF, "some_new_status").label == "处理中"
    assert labels.word(labels.TIER, "new_tier") == "处理中"
    assert labels.word(labels.TIER, None) is None
    # What a member in disclosure reads on their card.
    assert labels.said(labels.RELIEF, "in_disclosure") == labels.Said("公示中", "公示期满无异议后建档")
