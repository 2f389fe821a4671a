"""Coverage month by month (services/reports/domain/coverage.py): an employer's change as the
difference it makes to its union's counts, and month ends as the sum of every difference."""

import uuid
from datetime import date

from services.reports.domain import coverage as cov
from services.reports.domain import measures as m

K1, K2, B1 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def counts(
    union: uuid.UUID, base: uuid.UUID | None, workforce: int, should: bool = True
) -> cov.EmployerCounts:
    return cov.EmployerCounts(union, base, workforce, should)


def diff(before: cov.EmployerCounts | None, after: cov.EmployerCounts) -> set[tuple[str, uuid.UUID, int]]:
    return {(d.measure, d.union_id, d.amount) for d in cov.differences(before, after)}


def test_a_registration_adds_what_the_employer_counts() -> None:
    assert diff(None, counts(K1, B1, 100)) == {
        (cov.EMPLOYERS_SHOULD, K1, 1), (cov.EMPLOYERS_WITH_UNION, K1, 1), (cov.WORKFORCE_COVERED, K1, 100),
    }  # fmt: skip
    assert diff(None, counts(K1, None, 50)) == {(cov.EMPLOYERS_SHOULD, K1, 1)}
    assert diff(None, counts(K1, None, 0, should=False)) == set()


def test_founding_a_union_adds_the_employer_and_its_workers_to_the_covered() -> None:
    assert diff(counts(K1, None, 50), counts(K1, B1, 50)) == {
        (cov.EMPLOYERS_WITH_UNION, K1, 1), (cov.WORKFORCE_COVERED, K1, 50),
    }  # fmt: skip
    assert diff(counts(K1, B1, 50), counts(K1, B1, 70)) == {(cov.WORKFORCE_COVERED, K1, 20)}
    assert diff(counts(K1, B1, 50), counts(K1, B1, 50)) == set()  # the same again: no difference


def test_moving_to_another_responsible_union_takes_it_away_from_the_old_one() -> None:
    assert diff(counts(K1, B1, 100), counts(K2, None, 100)) == {
        (cov.EMPLOYERS_SHOULD, K1, -1), (cov.EMPLOYERS_WITH_UNION, K1, -1), (cov.WORKFORCE_COVERED, K1, -100),
        (cov.EMPLOYERS_SHOULD, K2, 1),
    }  # fmt: skip


def test_month_ends_sum_every_difference_up_to_each_month() -> None:
    jan, feb, mar = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
    before = {
        m.JOINED: 10,
        m.LEFT: 2,
        cov.EMPLOYERS_SHOULD: 3,
        cov.EMPLOYERS_WITH_UNION: 1,
        cov.WORKFORCE_COVERED: 80,
    }
    by_month = {
        jan: {m.JOINED: 5, m.TRANSFERRED_OUT: 1},
        mar: {m.TRANSFERRED_IN: 2, m.LEFT: 1, cov.EMPLOYERS_WITH_UNION: 1, cov.WORKFORCE_COVERED: 40},
    }
    assert cov.month_ends(before, by_month, [jan, feb, mar]) == [
        cov.MonthEnd(jan, 12, 3, 1, 80),
        cov.MonthEnd(feb, 12, 3, 1, 80),  # nothing happened: February ends as January did
        cov.MonthEnd(mar, 13, 3, 2, 120),
    ]
