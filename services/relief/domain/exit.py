"""Exit from hardship (脱困): explicit criteria checked on a re-investigation.

A household may leave the register when its per-capita income is above the local line times the
exit factor (the near-低保 line) and the five guarantees hold: medical care, work, children's
schooling, housing and social insurance (医业学房保). Each criterion shows pass or fail.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from services.relief.domain.eligibility import Check, yuan
from services.relief.domain.intake import Household, clean_text, validate_household
from services.relief.domain.tiers import PER_MILLE, income_within
from services.relief.domain.visits import check_visit_date
from shared.errors import Conflict


class Guarantee(StrEnum):
    MEDICAL = "medical"  # 医: medical care covered
    WORK = "work"  # 业: someone in work
    SCHOOLING = "schooling"  # 学: children in school
    HOUSING = "housing"  # 房: safe housing
    SOCIAL_INSURANCE = "social_insurance"  # 保: social insurance


INCOME_CRITERION = "income_above_exit_line"


@dataclass(frozen=True)
class ExitCheck:
    checks: tuple[Check, ...]

    @property
    def met(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failing(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]


def exit_check(
    household: Household, guarantees: Mapping[Guarantee, bool], line_fen: int, factor_per_mille: int
) -> ExitCheck:
    exit_line = line_fen * factor_per_mille // PER_MILLE
    # Above the exit line: not "up to" it, so the complement of an inclusive band.
    above = not income_within(household, line_fen, factor_per_mille, inclusive=True)
    income = Check(
        INCOME_CRITERION,
        above,
        f"per-capita income {yuan(household.per_capita_fen)} "
        f"{'above' if above else 'not above'} {yuan(exit_line)} "
        f"({factor_per_mille / PER_MILLE:g}× the line of {yuan(line_fen)})",
    )
    five = tuple(
        Check(
            f"guarantee_{g}",
            bool(guarantees.get(g, False)),
            "holds" if guarantees.get(g) else "does not hold",
        )
        for g in Guarantee
    )
    return ExitCheck(checks=(income, *five))


def require_exit_met(check: ExitCheck) -> None:
    if not check.met:
        raise Conflict(
            f"the exit criteria are not met: {', '.join(check.failing)}",
            failing=check.failing,
        )


@dataclass(frozen=True)
class ExitReview:
    """The re-investigation for exit, as the cadre entered it."""

    visited_on: date
    household_size: int
    monthly_income_fen: int
    guarantees: Mapping[Guarantee, bool]
    findings: str


@dataclass(frozen=True)
class ExitVisit:
    visited_on: date
    household: Household
    findings: str


def validate_exit_review(review: ExitReview, today: date) -> ExitVisit:
    return ExitVisit(
        visited_on=check_visit_date(review.visited_on, today),
        household=validate_household(review.household_size, review.monthly_income_fen),
        findings=clean_text(review.findings, "the findings", required=True),
    )
