"""Coverage month by month (建会率 and 入会率 at each month's end), pure.

The register changes one employer at a time (EmployerRegistered / EmployerUpdated): each change
is written as the difference it makes to its responsible union's three counts, in the month it
happened; a month's end is then the sum of every difference up to it, the same way the member
count is the sum of joined, left and transferred up to it. A change met again (the same
version, or an older one after a newer) makes no difference: the handler compares versions."""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from services.reports.domain import measures as m

# The counts the coverage of a union is made of, as monthly differences (facts.measure).
EMPLOYERS_SHOULD = "employers_should"  # employers that should have a union (the 建会率 denominator)
EMPLOYERS_WITH_UNION = "employers_with_union"  # ... and have one (its numerator)
WORKFORCE_COVERED = "workforce_covered"  # workers of employers with a union (the 入会率 denominator)
COVERAGE_MEASURES = (EMPLOYERS_SHOULD, EMPLOYERS_WITH_UNION, WORKFORCE_COVERED)
# How each membership flow moves the member count.
MEMBER_FLOWS: Mapping[str, int] = {m.JOINED: 1, m.LEFT: -1, m.TRANSFERRED_IN: 1, m.TRANSFERRED_OUT: -1}


@dataclass(frozen=True)
class EmployerCounts:
    """What one employer adds to its responsible union's coverage counts."""

    responsible_union_id: uuid.UUID
    base_union_id: uuid.UUID | None
    workforce: int
    should_have_union: bool

    def counts(self) -> dict[str, int]:
        covered = self.base_union_id is not None
        return {
            EMPLOYERS_SHOULD: int(self.should_have_union),
            EMPLOYERS_WITH_UNION: int(self.should_have_union and covered),
            WORKFORCE_COVERED: self.workforce if covered else 0,
        }


@dataclass(frozen=True)
class Difference:
    measure: str
    union_id: uuid.UUID
    amount: int
    side: str  # "before" (taken away from the old union) or "after": a fact's dim


def differences(before: EmployerCounts | None, after: EmployerCounts) -> list[Difference]:
    """What a change of one employer does to the counts: the old contribution taken away from its
    old responsible union, the new one added to the new union; nothing where they cancel."""
    if before is not None and before.responsible_union_id == after.responsible_union_id:
        old, new = before.counts(), after.counts()
        return [
            Difference(k, after.responsible_union_id, new[k] - old[k], "after")
            for k in COVERAGE_MEASURES
            if new[k] != old[k]
        ]
    found = [Difference(k, after.responsible_union_id, v, "after") for k, v in after.counts().items() if v]
    if before is not None:
        found += [
            Difference(k, before.responsible_union_id, -v, "before") for k, v in before.counts().items() if v
        ]
    return found


@dataclass(frozen=True)
class MonthEnd:
    month: date
    members: int
    employers_should: int
    employers_with_union: int
    workforce_covered: int


def month_ends(
    before_start: Mapping[str, int], by_month: Mapping[date, Mapping[str, int]], months: Sequence[date]
) -> list[MonthEnd]:
    """Each month's end from the sums of every difference before the period (`before_start`, by
    measure) and within it (`by_month`); membership flows count by MEMBER_FLOWS."""
    running = _level(before_start.items())
    ends: list[MonthEnd] = []
    for month in months:
        change = _level(by_month.get(month, {}).items())
        running = {k: running.get(k, 0) + change.get(k, 0) for k in {*running, *change}}
        level = [running.get(k, 0) for k in ("members", *COVERAGE_MEASURES)]
        ends.append(MonthEnd(month, *level))
    return ends


def _level(sums: Iterable[tuple[str, int]]) -> dict[str, int]:
    level: dict[str, int] = {}
    for measure, amount in sums:
        key, factor = ("members", MEMBER_FLOWS[measure]) if measure in MEMBER_FLOWS else (measure, 1)
        level[key] = level.get(key, 0) + factor * amount
    return level
