"""The figures' rules, pure: months in China time, rates, subtree sums, versions (the months a
request names: periods.py)."""

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from services.reports.domain.periods import add_months, months_between
from services.reports.domain.tables import Period, ReportTable
from shared.events import CHINA


def month_of(at: datetime) -> date:
    """The first day of the month `at` falls in, in China time (UTC+8): 2026-01-31 17:00 UTC is
    already February in Beijing."""
    local = at.astimezone(CHINA)
    return date(local.year, local.month, 1)


def month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def months_of(period: Period) -> list[date]:
    return [add_months(period.start, i) for i in range(months_between(period.start, period.end))]


def years_of(period: Period) -> list[int]:
    return list(range(period.start.year, period.end.year + 1))


def rate(numerator: int, denominator: int) -> float | None:
    """A share 0..1, rounded to four places; None when there is nothing to divide by (no
    employer that should have a union, no covered workforce): not 0, which would read as a
    failure. Capped at 1 (more members than the covered workforce records: the register lags)."""
    if denominator <= 0:
        return None
    return round(min(numerator / denominator, 1.0), 4)


def in_subtree(path: Sequence[uuid.UUID], root: uuid.UUID) -> bool:
    """Whether a union with this path (root .. union) lies in root's subtree (root included)."""
    return root in path


def subtree_sum(
    values: Mapping[uuid.UUID, int], paths: Mapping[uuid.UUID, Sequence[uuid.UUID]], root: uuid.UUID
) -> int:
    """The sum of a per-union figure over root's subtree: the unions whose path holds root (the
    SQL does the same with `path @> ARRAY[root]`). A union not in the tree counts nowhere."""
    return sum(v for u, v in values.items() if u in paths and in_subtree(paths[u], root))


def version_of(tables: Iterable[ReportTable]) -> str:
    """A digest of the tables: changes whenever a figure (or a label) does."""
    doc = [{"table": t.table, "columns": [c.key for c in t.columns], "rows": list(t.rows)} for t in tables]
    raw = json.dumps(doc, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]
