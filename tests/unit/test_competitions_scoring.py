"""Stage scoring: trimmed means from five judges on, weights, mixed sources, the tie-break rule,
the spread flag, and exact arithmetic throughout."""

import itertools
import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.competitions.domain.scoring import (
    Criterion,
    EntryInput,
    Sources,
    judge_total,
    public_scores,
    rank_stage,
    show,
    trimmed_mean,
    validate_points,
)
from shared.errors import InvalidInput

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SKILL = [Criterion("technique", 60, Decimal(100)), Criterion("safety", 40, Decimal(100))]
ONE = [Criterion("overall", 1, Decimal(100))]


def F(x: str | int) -> Fraction:
    return Fraction(Decimal(x)) if isinstance(x, str) else Fraction(x)


def entry(no: int, *totals: str, votes: int = 0, minutes: int = 0) -> EntryInput:
    return EntryInput(
        uuid.uuid4(), no, T0 + timedelta(minutes=minutes), [{"overall": Decimal(t)} for t in totals], votes
    )


def test_fewer_than_five_judges_are_averaged_plainly() -> None:
    assert trimmed_mean([F(90), F(80), F(70), F(10)]) == F("62.5")


def test_five_judges_drop_the_highest_and_the_lowest() -> None:
    assert trimmed_mean([F(100), F(90), F(80), F(70), F(0)]) == F(80)


def test_only_one_highest_and_one_lowest_are_dropped_when_they_repeat() -> None:
    assert trimmed_mean([F(90), F(90), F(80), F(70), F(70), F(70)]) == Fraction(310, 4)


def test_thirds_stay_exact_until_shown() -> None:
    mean = trimmed_mean([F(1), F(1), F(2)])
    assert mean == Fraction(4, 3)
    assert show(mean) == Decimal("1.3333")
    assert show(Fraction(2, 3)) == Decimal("0.6667")  # rounded half up, for display only


def test_criterion_weights_apply_on_a_hundred_point_scale() -> None:
    criteria = [Criterion("technique", 3, Decimal(50)), Criterion("safety", 1, Decimal(10))]
    # technique 40/50 -> 80, safety 5/10 -> 50: (3*80 + 1*50) / 4 = 72.5
    assert judge_total(criteria, {"technique": Decimal(40), "safety": Decimal(5)}) == F("72.5")


def test_mixed_sources_forty_percent_public_sixty_percent_experts() -> None:
    a, b = entry(1, "80", votes=50), entry(2, "90", votes=100)
    ranked = rank_stage(ONE, Sources(experts=60, public=40), [a, b], Decimal(20))
    by_no = {r.entry_no: r for r in ranked}
    assert by_no[1].public_score == 50 and by_no[2].public_score == 100
    assert by_no[1].score == F(68)  # 0.6*80 + 0.4*50
    assert by_no[2].score == F(94)  # 0.6*90 + 0.4*100
    assert [r.entry_no for r in ranked] == [2, 1]


def test_public_scores_are_zero_when_nobody_voted() -> None:
    e = uuid.uuid4()
    assert public_scores({e: 0}) == {e: Fraction(0)}


def test_equal_stage_scores_go_to_the_higher_expert_score() -> None:
    # same stage score 70: entry 1 = experts 60, public 100; entry 2 = experts 80, public 40
    a, b = entry(1, "60", votes=100), entry(2, "80", votes=40)
    ranked = rank_stage(ONE, Sources(experts=3, public=1), [a, b], Decimal(20))
    assert ranked[0].score == ranked[1].score
    assert [r.entry_no for r in ranked] == [2, 1]


def test_equal_expert_scores_go_to_the_heavier_criterion() -> None:
    # judge totals: A = (60*80 + 40*60)/100 = 72, B = (60*70 + 40*75)/100 = 72
    a = EntryInput(uuid.uuid4(), 1, T0, [{"technique": Decimal(80), "safety": Decimal(60)}])
    b = EntryInput(uuid.uuid4(), 2, T0, [{"technique": Decimal(70), "safety": Decimal(75)}])
    ranked = rank_stage(SKILL, Sources(), [b, a], Decimal(20))
    assert ranked[0].score == ranked[1].score == 72
    assert [r.entry_no for r in ranked] == [1, 2]


def test_then_the_earlier_registration_then_the_lower_entry_number() -> None:
    late, early = entry(1, "75", minutes=10), entry(2, "75", minutes=0)
    assert [r.entry_no for r in rank_stage(ONE, Sources(), [late, early], Decimal(20))] == [2, 1]
    same_time = [entry(3, "75"), entry(2, "75")]
    assert [r.entry_no for r in rank_stage(ONE, Sources(), same_time, Decimal(20))] == [2, 3]


def test_a_spread_above_the_gap_is_flagged_for_the_chief_judge() -> None:
    wide, narrow = entry(1, "95", "60"), entry(2, "80", "75")
    by_no = {r.entry_no: r for r in rank_stage(ONE, Sources(), [wide, narrow], Decimal(20))}
    assert by_no[1].spread == 35 and by_no[1].flagged
    assert by_no[2].spread == 5 and not by_no[2].flagged


def test_an_entry_nobody_scored_cannot_be_ranked() -> None:
    with pytest.raises(InvalidInput) as exc:
        rank_stage(ONE, Sources(), [entry(1, "80"), entry(2)], Decimal(20))
    assert exc.value.context["unscored_entries"] == [2]


def test_a_sheet_scores_every_criterion_within_its_range() -> None:
    validate_points(SKILL, {"technique": Decimal("99.50"), "safety": Decimal(0)})
    for bad in (
        {"technique": Decimal(90)},
        {"technique": Decimal(90), "safety": Decimal(80), "speed": Decimal(1)},
        {"technique": Decimal(101), "safety": Decimal(80)},
        {"technique": Decimal(-1), "safety": Decimal(80)},
        {"technique": Decimal("90.125"), "safety": Decimal(80)},
        {"technique": Decimal("NaN"), "safety": Decimal(80)},
    ):
        with pytest.raises(InvalidInput):
            validate_points(SKILL, bad)


def test_weights_and_sources_must_be_positive() -> None:
    with pytest.raises(InvalidInput):
        Criterion("x", 0, Decimal(100))
    with pytest.raises(InvalidInput):
        Sources(0, 0)


points = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)


@given(st.lists(points.map(Fraction), min_size=1, max_size=12))
def test_trimmed_mean_lies_between_the_lowest_and_the_highest(values: list[Fraction]) -> None:
    m = trimmed_mean(values)
    assert min(values) <= m <= max(values)


@given(st.lists(points.map(Fraction), min_size=5, max_size=12), points.map(Fraction))
def test_one_outlier_judge_cannot_move_a_trimmed_score_beyond_the_others(
    values: list[Fraction], outlier: Fraction
) -> None:
    ordered = sorted(values)
    m = trimmed_mean([*ordered[:-1], outlier])  # replace the top judge by anything at all
    rest = ordered[:-1]
    assert rest[0] <= m <= rest[-1]


@given(st.lists(points.map(Fraction), min_size=1, max_size=12), st.randoms())
def test_the_order_judges_scored_in_does_not_matter(values: list[Fraction], rnd: random.Random) -> None:
    shuffled = list(values)
    rnd.shuffle(shuffled)
    assert trimmed_mean(shuffled) == trimmed_mean(values)


@given(st.lists(st.lists(points, min_size=1, max_size=6), min_size=1, max_size=8), st.randoms())
def test_ranks_are_a_permutation_and_follow_the_scores(
    sheets: list[list[Decimal]], rnd: random.Random
) -> None:
    entries = [
        EntryInput(uuid.uuid4(), i + 1, T0, [{"overall": p} for p in judged])
        for i, judged in enumerate(sheets)
    ]
    rnd.shuffle(entries)
    ranked = rank_stage(ONE, Sources(), entries, Decimal(20))
    assert [r.rank for r in ranked] == list(range(1, len(entries) + 1))
    assert all(a.score >= b.score for a, b in itertools.pairwise(ranked))
    again = rank_stage(ONE, Sources(), list(reversed(entries)), Decimal(20))
    assert [r.entry_id for r in again] == [r.entry_id for r in ranked]  # the tie-break is total


@given(st.lists(points, min_size=2, max_size=2))
def test_a_criterion_weighted_alone_gives_its_own_normalised_score(pair: list[Decimal]) -> None:
    criteria = [Criterion("a", 1, Decimal(100)), Criterion("b", 1, Decimal(100))]
    assert judge_total(criteria, {"a": pair[0], "b": pair[1]}) == (Fraction(pair[0]) + Fraction(pair[1])) / 2
