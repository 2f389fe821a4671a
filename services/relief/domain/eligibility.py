"""Eligibility: each criterion shows pass or fail with the figures behind it.

A cadre may override one criterion of a case, and only with a reason (recorded in the trail);
overriding the income band also names the tier. Being an active member cannot be overridden:
only members may have a case.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.relief.domain.intake import Cause, Household
from services.relief.domain.tiers import ReliefPolicy, band_for
from shared.contracts.relief import Tier
from shared.errors import Conflict, InvalidInput


class Criterion(StrEnum):
    ACTIVE_MEMBER = "active_member"
    INCOME_BAND = "income_band"
    CAUSE_PRESENT = "cause_present"
    HOUSEHOLD_SIZE = "household_size"


NOT_OVERRIDABLE = frozenset({Criterion.ACTIVE_MEMBER})


@dataclass(frozen=True)
class Override:
    criterion: Criterion
    reason: str
    tier: Tier | None  # set when the income band is overridden
    by: str
    at: datetime


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str
    override: Override | None = None

    @property
    def satisfied(self) -> bool:
        return self.passed or self.override is not None


@dataclass(frozen=True)
class Eligibility:
    checks: tuple[Check, ...]
    tier: Tier | None  # from the income band, or from the override of it

    @property
    def eligible(self) -> bool:
        return all(c.satisfied for c in self.checks) and self.tier is not None

    @property
    def failing(self) -> list[str]:
        return [c.name for c in self.checks if not c.satisfied]


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d} yuan"


def assess(
    *,
    member_active: bool,
    household: Household,
    causes: tuple[Cause, ...],
    line_fen: int,
    policy: ReliefPolicy,
    override: Override | None,
) -> Eligibility:
    band = band_for(household, causes, line_fen, policy.bands)
    per_capita = f"per-capita income {yuan(household.per_capita_fen)}, line {yuan(line_fen)}"
    results = {
        Criterion.ACTIVE_MEMBER: Check(
            Criterion.ACTIVE_MEMBER,
            member_active,
            "an active union member" if member_active else "not an active union member",
        ),
        Criterion.INCOME_BAND: Check(
            Criterion.INCOME_BAND,
            band is not None,
            f"{per_capita}: {band.describe()}" if band else f"{per_capita}: within no band",
        ),
        Criterion.CAUSE_PRESENT: Check(
            Criterion.CAUSE_PRESENT,
            bool(causes),
            f"causes: {', '.join(causes)}" if causes else "no cause of hardship recorded",
        ),
        Criterion.HOUSEHOLD_SIZE: Check(
            Criterion.HOUSEHOLD_SIZE,
            1 <= household.size <= policy.max_plausible_household,
            f"{household.size} people (plausible: 1 to {policy.max_plausible_household})",
        ),
    }
    tier = band.tier if band else None
    if override is not None:
        check = results[override.criterion]
        results[override.criterion] = Check(check.name, check.passed, check.detail, override)
        if override.criterion is Criterion.INCOME_BAND and not check.passed:
            tier = override.tier
    return Eligibility(checks=tuple(results.values()), tier=tier)


def make_override(
    current: Eligibility,
    existing: Override | None,
    criterion: Criterion,
    reason: str,
    tier: Tier | None,
    by: str,
    at: datetime,
) -> Override:
    cleaned = reason.strip()
    if not cleaned:
        raise InvalidInput("overriding a criterion needs a reason")
    if len(cleaned) > 1000:
        raise InvalidInput("the reason must be at most 1000 characters")
    if criterion in NOT_OVERRIDABLE:
        raise InvalidInput(f"{criterion} cannot be overridden: only active members may have a case")
    if criterion is Criterion.INCOME_BAND and tier is None:
        raise InvalidInput("overriding the income band must name the tier")
    if criterion is not Criterion.INCOME_BAND and tier is not None:
        raise InvalidInput("a tier is named only when overriding the income band")
    if existing is not None:
        raise Conflict(
            f"one criterion per case may be overridden, and {existing.criterion} already is "
            f"({existing.by}: {existing.reason})"
        )
    check = next(c for c in current.checks if c.name == criterion)
    if check.passed:
        raise Conflict(f"{criterion} passes ({check.detail}); there is nothing to override")
    return Override(criterion=criterion, reason=cleaned, tier=tier, by=by, at=at)


def require_eligible(result: Eligibility) -> Tier:
    """Verification is approved only for an eligible case: its tier."""
    if not result.eligible or result.tier is None:
        raise Conflict(
            f"not eligible: {', '.join(result.failing) or 'no tier'} failing; decline it, or override "
            "one criterion with a reason",
            failing=result.failing,
        )
    return result.tier
