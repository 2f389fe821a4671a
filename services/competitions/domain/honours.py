"""Honours and titles (劳模, technical expert, 工人先锋号): no life tenure. A title is granted for at
most five years at a time, renewed only after a passed assessment, and may be revoked. Only an
honour valid on a date is current on it. Pure: no I/O."""

from dataclasses import dataclass
from datetime import date

from shared.contracts.competitions import HonourKind
from shared.errors import Conflict, InvalidInput

MAX_TERM_YEARS = 5
__all__ = ["MAX_TERM_YEARS", "Honour", "HonourKind", "latest_end", "validate_term"]


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def latest_end(start: date) -> date:
    """The last day a term starting on `start` may run to: five years, exclusive of the anniversary."""
    return add_years(start, MAX_TERM_YEARS)


def validate_term(start: date, valid_until: date) -> None:
    if valid_until < start:
        raise InvalidInput("valid_until is before the start of the term")
    if valid_until > latest_end(start):
        raise InvalidInput(
            f"a title is granted for at most {MAX_TERM_YEARS} years",
            latest_valid_until=latest_end(start).isoformat(),
        )


@dataclass(frozen=True)
class Honour:
    granted_on: date
    valid_until: date
    revoked_on: date | None = None

    def current_on(self, day: date) -> bool:
        if self.revoked_on is not None and self.revoked_on <= day:
            return False
        return self.granted_on <= day <= self.valid_until

    def renewed(self, today: date, assessment_passed: bool, valid_until: date) -> "Honour":
        """A new term of at most five years from the day after the current one ends (or from today
        when it already lapsed); only after a passed assessment, never for a revoked title."""
        if self.revoked_on is not None:
            raise Conflict("a revoked title is not renewed")
        if not assessment_passed:
            raise Conflict("renewal needs a passed assessment; revoke the title instead")
        start = max(today, self.valid_until)
        validate_term(start, valid_until)
        if valid_until <= self.valid_until:
            raise InvalidInput("a renewal extends the term")
        return Honour(self.granted_on, valid_until)

    def revoked(self, on: date) -> "Honour":
        if self.revoked_on is not None:
            raise Conflict("the title is already revoked")
        return Honour(self.granted_on, self.valid_until, on)
