"""Tier bands pegged to the minimum-living line, at and around their boundaries, and eligibility
with its one overridable criterion."""

from datetime import UTC, datetime
from typing import Any

import pytest

from services.relief.domain.eligibility import Criterion, Eligibility, assess, make_override, yuan
from services.relief.domain.intake import Cause, Household
from services.relief.domain.tiers import (
    DEFAULT_BANDS,
    RELATIVE_CAUSES,
    ReliefPolicy,
    band_for,
    income_within,
    standard_bands,
)
from shared.contracts.relief import Tier
from shared.errors import Conflict, InvalidInput

LINE = 100_000  # 1,000 yuan per head and month
T0 = datetime(2026, 3, 1, tzinfo=UTC)
POLICY = ReliefPolicy()


def tier(size: int, income_fen: int, *causes: Cause) -> Tier | None:
    band = band_for(Household(size, income_fen), causes, LINE, DEFAULT_BANDS)
    return band.tier if band else None


@pytest.mark.parametrize(
    ("size", "income", "causes", "expected"),
    [
        # Deep: strictly below the line, whatever the cause.
        (1, 99_999, (Cause.UNEMPLOYMENT,), Tier.DEEP),
        (1, 0, (Cause.UNEMPLOYMENT,), Tier.DEEP),
        (1, 100_000, (Cause.UNEMPLOYMENT,), None),  # exactly at the line is not below it
        (3, 299_999, (), Tier.DEEP),  # per head 999.99 and two thirds: below, with no rounding
        (3, 300_000, (Cause.UNEMPLOYMENT,), None),
        # Relative: up to 1.5× with a long-term cause.
        (1, 100_000, (Cause.ILLNESS,), Tier.RELATIVE),  # at the line, with illness
        (1, 150_000, (Cause.DISABILITY,), Tier.RELATIVE),  # exactly 1.5×: "up to" includes it
        (1, 150_001, (Cause.ILLNESS,), None),  # one fen above
        (3, 450_000, (Cause.SINGLE_PARENT,), Tier.RELATIVE),
        (3, 450_001, (Cause.SINGLE_PARENT,), None),
        # By accident: up to 3× after an accident or a disaster.
        (1, 150_001, (Cause.ACCIDENT,), Tier.ACCIDENT),
        (1, 300_000, (Cause.DISASTER,), Tier.ACCIDENT),  # exactly 3×
        (1, 300_001, (Cause.ACCIDENT,), None),
        (2, 600_000, (Cause.ACCIDENT,), Tier.ACCIDENT),
        (2, 600_001, (Cause.ACCIDENT,), None),
        # Order: the deepest band that applies wins.
        (1, 50_000, (Cause.ACCIDENT, Cause.ILLNESS), Tier.DEEP),
        (1, 120_000, (Cause.ACCIDENT, Cause.ILLNESS), Tier.RELATIVE),
    ],
)
def test_tier_bands_and_their_boundaries(
    size: int, income: int, causes: tuple[Cause, ...], expected: Tier
) -> None:
    assert tier(size, income, *causes) is expected


def test_the_band_ceilings_are_configurable() -> None:
    wider = standard_bands(relative_per_mille=2000, accident_per_mille=4000)
    h = Household(1, 180_000)
    assert band_for(h, (Cause.ILLNESS,), LINE, DEFAULT_BANDS) is None
    relative = band_for(h, (Cause.ILLNESS,), LINE, wider)
    assert relative is not None and relative.tier is Tier.RELATIVE
    assert relative.describe() == "relative: per-capita income up to 2× the line with " + " or ".join(
        sorted(RELATIVE_CAUSES)
    )
    with pytest.raises(ValueError, match="bands widen"):
        standard_bands(relative_per_mille=900)
    with pytest.raises(ValueError, match="bands widen"):
        standard_bands(relative_per_mille=3000, accident_per_mille=2000)


def test_income_comparison_is_exact_integer_arithmetic() -> None:
    # 1,000,000,000 fen shared by 3 is not a whole number of fen; no division happens.
    assert income_within(Household(3, 299_999), LINE, 1000, inclusive=False)
    assert not income_within(Household(3, 300_000), LINE, 1000, inclusive=False)
    assert income_within(Household(3, 300_000), LINE, 1000, inclusive=True)


def test_the_line_is_configured_per_region_and_the_longest_prefix_wins() -> None:
    policy = ReliefPolicy(default_line_fen=90_000, regional_lines_fen={"33": 95_000, "3301": 110_000})
    assert policy.line_for("330106") == 110_000
    assert policy.line_for("330206") == 95_000
    assert policy.line_for("110105") == 90_000
    assert policy.line_for("") == 90_000


@pytest.mark.parametrize(
    "bad",
    [{"default_line_fen": 0}, {"regional_lines_fen": {"33": -1}}, {"disclosure_days": 0}, {"bands": ()}],
)
def test_a_policy_refuses_impossible_numbers(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ReliefPolicy(**bad)


def check_of(e: Eligibility, name: Criterion) -> tuple[bool, bool]:
    c = next(c for c in e.checks if c.name == name)
    return c.passed, c.satisfied


def test_every_criterion_shows_pass_or_fail_with_its_figures() -> None:
    e = assess(
        member_active=True,
        household=Household(2, 250_000),
        causes=(Cause.ILLNESS,),
        line_fen=LINE,
        policy=POLICY,
        override=None,
    )
    assert e.eligible and e.tier is Tier.RELATIVE
    assert [c.name for c in e.checks] == list(Criterion)
    income = next(c for c in e.checks if c.name == Criterion.INCOME_BAND)
    assert "per-capita income 1,250.00 yuan, line 1,000.00 yuan" in income.detail


def test_failing_criteria_are_named() -> None:
    e = assess(
        member_active=False,
        household=Household(12, 10_000_000),
        causes=(),
        line_fen=LINE,
        policy=POLICY,
        override=None,
    )
    assert not e.eligible and e.tier is None
    assert e.failing == list(Criterion)


def _large_household() -> Eligibility:
    return assess(
        member_active=True,
        household=Household(12, 100_000),
        causes=(Cause.ILLNESS,),
        line_fen=LINE,
        policy=POLICY,
        override=None,
    )


def test_a_cadre_overrides_one_failing_criterion_with_a_reason() -> None:
    current = _large_household()
    assert check_of(current, Criterion.HOUSEHOLD_SIZE) == (False, False)
    override = make_override(
        current, None, Criterion.HOUSEHOLD_SIZE, "  三代同堂, 12 口人, 走访核实  ", None, "cadre:li", T0
    )
    assert override.reason == "三代同堂, 12 口人, 走访核实"
    after = assess(
        member_active=True,
        household=Household(12, 100_000),
        causes=(Cause.ILLNESS,),
        line_fen=LINE,
        policy=POLICY,
        override=override,
    )
    assert check_of(after, Criterion.HOUSEHOLD_SIZE) == (False, True)  # still shown as failed, overridden
    assert after.eligible and after.tier is Tier.DEEP


def test_an_override_needs_a_reason() -> None:
    with pytest.raises(InvalidInput, match="needs a reason"):
        make_override(_large_household(), None, Criterion.HOUSEHOLD_SIZE, "   ", None, "cadre:li", T0)


def test_membership_cannot_be_overridden() -> None:
    e = assess(
        member_active=False,
        household=Household(1, 0),
        causes=(Cause.ILLNESS,),
        line_fen=LINE,
        policy=POLICY,
        override=None,
    )
    with pytest.raises(InvalidInput, match="only active members"):
        make_override(e, None, Criterion.ACTIVE_MEMBER, "kind", None, "cadre:li", T0)


def test_only_one_criterion_per_case_may_be_overridden() -> None:
    current = _large_household()
    first = make_override(current, None, Criterion.HOUSEHOLD_SIZE, "checked", None, "cadre:li", T0)
    with pytest.raises(Conflict, match="one criterion per case"):
        make_override(current, first, Criterion.CAUSE_PRESENT, "another", None, "cadre:li", T0)


def test_a_passing_criterion_is_not_overridden() -> None:
    with pytest.raises(Conflict, match="nothing to override"):
        make_override(_large_household(), None, Criterion.CAUSE_PRESENT, "why", None, "cadre:li", T0)


def test_overriding_the_income_band_names_the_tier() -> None:
    e = assess(
        member_active=True,
        household=Household(1, 200_000),
        causes=(Cause.ILLNESS,),
        line_fen=LINE,
        policy=POLICY,
        override=None,
    )
    assert not e.eligible
    with pytest.raises(InvalidInput, match="must name the tier"):
        make_override(e, None, Criterion.INCOME_BAND, "medical bills", None, "cadre:li", T0)
    with pytest.raises(InvalidInput, match="only when overriding the income band"):
        make_override(_large_household(), None, Criterion.HOUSEHOLD_SIZE, "x", Tier.DEEP, "c", T0)
    o = make_override(e, None, Criterion.INCOME_BAND, "medical bills 5,000 a month", Tier.RELATIVE, "c", T0)
    after = assess(
        member_active=True,
        household=Household(1, 200_000),
        causes=(Cause.ILLNESS,),
        line_fen=LINE,
        policy=POLICY,
        override=o,
    )
    assert after.eligible and after.tier is Tier.RELATIVE


@pytest.mark.parametrize(
    ("fen", "text"), [(0, "0.00 yuan"), (1, "0.01 yuan"), (100_000, "1,000.00 yuan"), (-250, "-2.50 yuan")]
)
def test_fen_are_shown_as_yuan_without_floats(fen: int, text: str) -> None:
    assert yuan(fen) == text
