"""Hardship tiers, set by income bands pegged to the local minimum-living line (低保线).

A band is "per-capita household income below (or up to) a multiple of the line, with one of
these causes". Multiples are in per mille (1500 = 1.5×) and every comparison is exact integer
arithmetic on fen: income × 1000 against line × size × multiple, never a division or a float.
Defaults follow one city's rules: below the line → deep; up to 1.5× with a long-term cause such
as illness or disability → relative; up to 3× after an accident or disaster → by accident.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from services.relief.domain.intake import Cause, Household
from shared.contracts.relief import Tier

PER_MILLE = 1000


@dataclass(frozen=True)
class TierBand:
    tier: Tier
    ceiling_per_mille: int  # of the minimum-living line, per head
    inclusive: bool  # True: "up to" the ceiling; False: strictly below it
    causes: frozenset[Cause] = frozenset()  # one of these must be present; empty: any cause

    def describe(self) -> str:
        bound = "up to" if self.inclusive else "below"
        times = f"{self.ceiling_per_mille / PER_MILLE:g}× the line"
        causes = f" with {' or '.join(sorted(self.causes))}" if self.causes else ""
        return f"{self.tier}: per-capita income {bound} {times}{causes}"


RELATIVE_CAUSES = frozenset({Cause.ILLNESS, Cause.DISABILITY, Cause.SCHOOLING, Cause.SINGLE_PARENT})
ACCIDENT_CAUSES = frozenset({Cause.ACCIDENT, Cause.DISASTER})


def standard_bands(relative_per_mille: int = 1500, accident_per_mille: int = 3000) -> tuple[TierBand, ...]:
    """Deep below the line; relative and by-accident up to configurable multiples of it."""
    if not PER_MILLE <= relative_per_mille <= accident_per_mille:
        raise ValueError("bands widen: the line <= the relative ceiling <= the accident ceiling")
    return (
        TierBand(Tier.DEEP, PER_MILLE, inclusive=False),
        TierBand(Tier.RELATIVE, relative_per_mille, inclusive=True, causes=RELATIVE_CAUSES),
        TierBand(Tier.ACCIDENT, accident_per_mille, inclusive=True, causes=ACCIDENT_CAUSES),
    )


DEFAULT_BANDS = standard_bands()


def income_within(h: Household, line_fen: int, per_mille: int, *, inclusive: bool) -> bool:
    """Is per-capita income below (or up to) line × per_mille/1000? Exact, in integers."""
    income = h.monthly_income_fen * PER_MILLE
    ceiling = line_fen * h.size * per_mille
    return income <= ceiling if inclusive else income < ceiling


def band_for(
    h: Household, causes: tuple[Cause, ...], line_fen: int, bands: tuple[TierBand, ...]
) -> TierBand | None:
    """The first band the household falls in, in the order given; None: not eligible by income."""
    for band in bands:
        if band.causes and not band.causes.intersection(causes):
            continue
        if income_within(h, line_fen, band.ceiling_per_mille, inclusive=band.inclusive):
            return band
    return None


@dataclass(frozen=True)
class ReliefPolicy:
    """Every number the rules use, configurable per deployment; lines per region code."""

    default_line_fen: int = 100_000  # 1,000 yuan a month per head
    # Region code (as unions carry it, e.g. "330100") -> line in fen; the longest prefix wins,
    # so "33" can set a province's line and "3301" a city's.
    regional_lines_fen: Mapping[str, int] = field(default_factory=dict)
    bands: tuple[TierBand, ...] = DEFAULT_BANDS
    # Exit (脱困) when per-capita income is above line × this (the near-低保 line) ...
    exit_factor_per_mille: int = 1500
    max_plausible_household: int = 10  # larger households need an override with a reason
    disclosure_days: int = 5  # 公示期
    review_interval_days: int = 365  # every file is re-verified yearly

    def __post_init__(self) -> None:
        if self.default_line_fen <= 0 or any(v <= 0 for v in self.regional_lines_fen.values()):
            raise ValueError("a minimum-living line must be a positive number of fen")
        if self.disclosure_days < 1:
            raise ValueError("the disclosure window is at least one day")
        if not self.bands:
            raise ValueError("at least one tier band is needed")

    def review_due(self, today: date) -> date:
        """When a file entered in (or re-verified for) the register is next re-verified."""
        return today + timedelta(days=self.review_interval_days)

    def line_for(self, region: str) -> int:
        best = ""
        for prefix in self.regional_lines_fen:
            if region.startswith(prefix) and len(prefix) > len(best):
                best = prefix
        return self.regional_lines_fen[best] if best else self.default_line_fen
