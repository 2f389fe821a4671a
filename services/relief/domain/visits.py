"""Home visits (入户调查) and follow-up contacts: what a cadre found, dated in China time.

A visit's figures replace the reported ones for the decision, so it must be recent: not in the
future, and not more than a year old.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from services.relief.domain.intake import Cause, Household, clean_text, validate_causes, validate_household
from shared.errors import InvalidInput

MAX_VISIT_AGE = timedelta(days=366)


@dataclass(frozen=True)
class VisitForm:
    """A visit as the cadre entered it."""

    visited_on: date
    household_size: int
    monthly_income_fen: int
    causes: tuple[Cause, ...]
    findings: str


@dataclass(frozen=True)
class Visit:
    visited_on: date
    household: Household
    causes: tuple[Cause, ...]
    findings: str


def check_visit_date(visited_on: date, today: date) -> date:
    if visited_on > today:
        raise InvalidInput("a visit cannot be dated in the future")
    if visited_on < today - MAX_VISIT_AGE:
        raise InvalidInput("a visit more than a year old cannot support a decision")
    return visited_on


def check_contact_date(contacted_on: date, today: date) -> date:
    if contacted_on > today:
        raise InvalidInput("a contact cannot be dated in the future")
    return contacted_on


def validate_visit(form: VisitForm, today: date) -> Visit:
    return Visit(
        visited_on=check_visit_date(form.visited_on, today),
        household=validate_household(form.household_size, form.monthly_income_fen),
        causes=validate_causes(form.causes),
        findings=clean_text(form.findings, "the visit's findings", required=True),
    )
