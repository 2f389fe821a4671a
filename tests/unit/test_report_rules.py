"""The reports' figure rules (services/reports/domain): rates with nothing to divide by, months
in China time, subtree sums, versions, labels, who may read; and the relief cause codes kept off
the member's card."""

import re
import uuid
from datetime import UTC, date, datetime
from importlib import resources

import pytest

from services.projector.api.routes import ReliefView
from services.projector.domain.inbox import items_for
from services.reports.domain import labels
from services.reports.domain import measures as m
from services.reports.domain.periods import parse_period
from services.reports.domain.rules import (
    month_of,
    month_text,
    months_of,
    rate,
    subtree_sum,
    version_of,
    years_of,
)
from services.reports.domain.tables import Column, Period, ReportTable
from services.reports.handlers.reports import BUILDERS, TITLES, _programmes, scope_root
from services.reports.store.figures import Flow
from shared.auth import Principal, Role
from shared.contracts import relief
from shared.errors import Forbidden, InvalidInput


def test_a_rate_with_nothing_to_divide_by_is_none_not_zero() -> None:
    assert rate(0, 0) is None  # no employer that should have a union: no founding rate at all
    assert rate(5, 0) is None
    assert rate(0, 10) == 0.0
    assert rate(2, 3) == 0.6667
    assert rate(3, 140) == 0.0214
    assert rate(150, 100) == 1.0  # more members than the register's covered workforce: capped


def test_months_are_china_months() -> None:
    # 31 Jan 16:00 UTC is 1 Feb 00:00 in Beijing; 15:59 is still January.
    assert month_of(datetime(2026, 1, 31, 16, 0, tzinfo=UTC)) == date(2026, 2, 1)
    assert month_of(datetime(2026, 1, 31, 15, 59, tzinfo=UTC)) == date(2026, 1, 1)
    assert month_of(datetime(2025, 12, 31, 20, tzinfo=UTC)) == date(2026, 1, 1)  # a new year too
    assert month_text(date(2026, 3, 1)) == "2026-03"


def test_a_period_lists_its_months_and_years_across_a_new_year() -> None:
    period = Period(start=date(2025, 11, 1), end=date(2026, 2, 1))
    assert [month_text(m) for m in months_of(period)] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert years_of(period) == [2025, 2026]
    default = parse_period(None, None, date(2026, 3, 15))
    assert (default.start, default.end) == (date(2025, 4, 1), date(2026, 3, 1))
    with pytest.raises(InvalidInput):
        parse_period("2026-04", "2026-03", date(2026, 3, 15))


def test_a_subtree_sum_counts_the_union_and_everything_below_it_only() -> None:
    city, k1, k2, b1, b3 = (uuid.uuid4() for _ in range(5))
    paths = {city: [city], k1: [city, k1], k2: [city, k2], b1: [city, k1, b1], b3: [city, k2, b3]}
    members = {city: 0, k1: 0, k2: 0, b1: 4, b3: 7}
    assert subtree_sum(members, paths, city) == 11
    assert subtree_sum(members, paths, k1) == 4
    assert subtree_sum(members, paths, b3) == 7
    assert subtree_sum({**members, uuid.uuid4(): 100}, paths, city) == 11  # not in the tree: nowhere


def test_the_version_changes_with_any_figure_and_only_then() -> None:
    def tables(n: int) -> tuple[ReportTable, ...]:
        return (ReportTable("t", "表", (Column("n", "数"),), ({"n": n},)),)

    assert version_of(tables(1)) == version_of(tables(1))
    assert version_of(tables(1)) != version_of(tables(2))
    assert re.fullmatch(r"[0-9a-f]{16}", version_of(tables(1)))


def test_every_code_reads_in_chinese_and_unknown_ones_never_empty() -> None:
    assert all(labels.TIERS[t] for t in relief.Tier)
    assert all(labels.AID_TYPES[a] for a in relief.AidType)
    assert labels.label(labels.CAUSES, "illness") == "因病"
    assert labels.label(labels.CAUSES, None) == "未知"
    assert labels.label(labels.CAUSES, "new_cause") == "new_cause"
    assert (
        set(BUILDERS)
        == set(TITLES)
        == {"membership", "coverage", "relief", "legal", "competitions", "offers"}
    )


def test_only_cadres_and_admins_read_reports() -> None:
    union = uuid.uuid4()
    cadre = Principal(sub="c", role=Role.CADRE, union_id=union)
    assert scope_root(cadre, None) == union  # default: the cadre's own union
    other = uuid.uuid4()
    assert scope_root(cadre, other) == other  # whether it is below theirs is checked on the tree
    assert scope_root(Principal(sub="a", role=Role.ADMIN), other) == other
    with pytest.raises(InvalidInput):
        scope_root(Principal(sub="a", role=Role.ADMIN), None)
    with pytest.raises(Forbidden):
        scope_root(Principal(sub="m", role=Role.MEMBER, member_id=uuid.uuid4()), union)
    assert not cadre.covers_union([uuid.uuid4(), other])
    assert cadre.covers_union([uuid.uuid4(), union, other])


def test_the_card_keeps_no_cause() -> None:
    # Relief v2 events carry the case's cause codes for the statistics; the card's table, its
    # relief view and the inbox item the event makes hold none of it.
    ddl = resources.files("services.projector.store").joinpath("generation.sql").read_text(encoding="utf-8")
    relief_table = ddl[ddl.index("CREATE TABLE relief_cases") :].split(");")[0]
    assert "cause" not in relief_table
    assert not [f for f in ReliefView.model_fields if "cause" in f]
    case = relief.CaseSnapshot(
        case_id=uuid.uuid4(), member_id=uuid.uuid4(), status=relief.CaseStatus.IN_REGISTER, tier=relief.Tier.DEEP,
        union_id=uuid.uuid4(), aid_year=2026, aid_paid_fen=0, causes=["illness", "unemployment"],
    )  # fmt: skip
    event = relief.CaseApproved(case=case, tier=relief.Tier.DEEP, approved_at=datetime.now(UTC),
                                plan=relief.PlanSummary(aid_types=[relief.AidType.MEDICAL],
                                                        next_review_due=date(2027, 1, 1)))  # fmt: skip
    text = " ".join(f"{i.title} {i.body}" for i in items_for(event))
    assert text and not any(word in text for word in ("illness", "unemployment", "因病", "失业"))


def test_programme_payments_are_counted_by_programme_and_group_with_chinese_labels() -> None:
    may, june = date(2027, 5, 1), date(2027, 6, 1)
    table = _programmes(
        [
            Flow(m.PROGRAMME_PAID, "consolation/deep", may, 3, 150_000),
            Flow(m.PROGRAMME_PAID, "consolation/deep", june, 1, 50_000),
            Flow(m.PROGRAMME_PAID, "consolation/employer", june, 2, 400_000),
            Flow(m.PROGRAMME_PAID, "student_aid/undergraduate", june, 1, 300_000),
            Flow(m.AID_PAID, "tuition", june, 1, 300_000),  # another measure: not counted here
        ]
    )
    assert [(r["programme"], r["group"], r["recipients"], r["paid"]) for r in table.rows] == [
        ("送温暖", "深度困难职工", 4, 200_000),
        ("送温暖", "困难企业", 2, 400_000),
        ("金秋助学", "本科", 1, 300_000),
    ]
