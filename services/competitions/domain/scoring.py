"""Scoring a stage: pure functions over exact numbers (never floats).

Judges give points per criterion (a Decimal with at most two places, 0..the criterion's maximum).
Everything in between is a `Fraction`, so nothing is rounded until a score is shown.

- A judge's total for an entry: the weighted mean of their criterion points, each criterion first
  put on a 0..100 scale (points / max_points * 100), weighted by the criterion's weight.
- The expert score of an entry: the mean of its judges' totals; with five judges or more, the
  single highest and single lowest total are dropped first (去掉一个最高分和一个最低分).
- A stage may mix sources: the expert score and the public vote (100 * the entry's votes / the
  most votes any entry got), weighted by the stage's source weights (e.g. 60 experts, 40 public).
- Ranking, best first, ties broken in this order (`TIE_BREAK_RULE`): the higher stage score; then
  the higher expert score; then the higher trimmed mean on the heaviest criterion (the first one
  declared among equally heavy ones); then the earlier registration; then the lower entry number.
  Every entry gets its own rank: after the tie-break no two entries share one.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from shared.errors import InvalidInput

TRIM_FROM = 5  # judges needed before the highest and the lowest are dropped
HUNDRED = Fraction(100)
TIE_BREAK_RULE = (
    "higher stage score; then higher expert score; then higher trimmed mean on the heaviest "
    "criterion; then earlier registration; then lower entry number"
)


@dataclass(frozen=True)
class Criterion:
    key: str
    weight: int  # a positive integer; only the ratios matter
    max_points: Decimal

    def __post_init__(self) -> None:
        if self.weight <= 0:
            raise InvalidInput(f"criterion {self.key!r}: weight must be positive")
        if self.max_points <= 0:
            raise InvalidInput(f"criterion {self.key!r}: max_points must be positive")


@dataclass(frozen=True)
class Sources:
    """How the stage score mixes experts and the public vote (integer weights, ratios matter)."""

    experts: int = 1
    public: int = 0

    def __post_init__(self) -> None:
        if self.experts < 0 or self.public < 0 or self.experts + self.public == 0:
            raise InvalidInput("source weights must be non-negative and not both zero")


def mean(values: Sequence[Fraction]) -> Fraction:
    if not values:
        raise ValueError("mean of nothing")
    return sum(values, Fraction(0)) / len(values)


def trimmed_mean(values: Sequence[Fraction]) -> Fraction:
    """Mean of the judges' values; from five judges on, drop one highest and one lowest."""
    if len(values) >= TRIM_FROM:
        ordered = sorted(values)
        return mean(ordered[1:-1])
    return mean(values)


def validate_points(criteria: Sequence[Criterion], points: Mapping[str, Decimal]) -> None:
    """A sheet scores every criterion, and only those, within 0..max_points, at most 2 places."""
    keys = [c.key for c in criteria]
    missing = [k for k in keys if k not in points]
    unknown = sorted(set(points) - set(keys))
    if missing or unknown:
        raise InvalidInput("a score sheet scores every criterion once", missing=missing, unknown=unknown)
    for c in criteria:
        p = points[c.key]
        if not p.is_finite() or p < 0 or p > c.max_points:
            raise InvalidInput(f"criterion {c.key!r}: points must be between 0 and {c.max_points}")
        exponent = p.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            raise InvalidInput(f"criterion {c.key!r}: at most two decimal places")


def normalised(c: Criterion, points: Decimal) -> Fraction:
    return Fraction(points) / Fraction(c.max_points) * HUNDRED


def judge_total(criteria: Sequence[Criterion], points: Mapping[str, Decimal]) -> Fraction:
    """One judge's weighted score for one entry, on 0..100."""
    total_weight = sum(c.weight for c in criteria)
    return sum((c.weight * normalised(c, points[c.key]) for c in criteria), Fraction(0)) / total_weight


def heaviest(criteria: Sequence[Criterion]) -> Criterion:
    return max(criteria, key=lambda c: c.weight)  # max keeps the first of equals


def public_scores(votes: Mapping[uuid.UUID, int]) -> dict[uuid.UUID, Fraction]:
    """100 for the most-voted entry, the others in proportion; all 0 when nobody voted."""
    top = max(votes.values(), default=0)
    return {e: (Fraction(v * 100, top) if top else Fraction(0)) for e, v in votes.items()}


@dataclass(frozen=True)
class EntryInput:
    entry_id: uuid.UUID
    entry_no: int
    registered_at: datetime
    sheets: Sequence[Mapping[str, Decimal]]  # one per judge who scored it
    votes: int = 0


@dataclass(frozen=True)
class EntryResult:
    entry_id: uuid.UUID
    entry_no: int
    rank: int
    score: Fraction
    expert_score: Fraction
    public_score: Fraction
    judges: int
    spread: Fraction  # highest judge total minus lowest
    flagged: bool  # spread above the stage's gap: the chief judge looks at it


def show(value: Fraction, places: int = 4) -> Decimal:
    """Round only for display (half up)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def rank_stage(
    criteria: Sequence[Criterion], sources: Sources, entries: Sequence[EntryInput], spread_gap: Decimal
) -> list[EntryResult]:
    """Score and rank every entry of a stage; an entry no judge scored cannot be ranked."""
    unscored = [e.entry_no for e in entries if not e.sheets]
    if unscored and sources.experts:
        raise InvalidInput("every entry needs at least one score sheet", unscored_entries=unscored)
    public = public_scores({e.entry_id: e.votes for e in entries})
    top = heaviest(criteria)
    keyed = []
    for e in entries:
        totals = [judge_total(criteria, s) for s in e.sheets]
        expert = trimmed_mean(totals) if totals else Fraction(0)
        on_top = trimmed_mean([normalised(top, s[top.key]) for s in e.sheets]) if e.sheets else Fraction(0)
        score = (sources.experts * expert + sources.public * public[e.entry_id]) / (
            sources.experts + sources.public
        )
        spread = max(totals) - min(totals) if totals else Fraction(0)
        keyed.append(
            (
                (-score, -expert, -on_top, e.registered_at, e.entry_no),
                EntryResult(
                    e.entry_id, e.entry_no, 0, score, expert, public[e.entry_id], len(totals), spread,
                    spread > Fraction(spread_gap),
                ),
            )
        )  # fmt: skip
    keyed.sort(key=lambda pair: pair[0])
    return [
        EntryResult(r.entry_id, r.entry_no, i, r.score, r.expert_score, r.public_score, r.judges,
        r.spread, r.flagged)
        for i, (_, r) in enumerate(keyed, start=1)
    ]  # fmt: skip
