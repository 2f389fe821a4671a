"""The figures' rules, pure: months in China time, periods, rates, subtree sums, versions."""

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from services.reports.domain.tables import Period, ReportTable
from shared.events import CHINA

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_MONTHS = 60  # a report covers at most five years at once
DEFAULT_MONTHS = 12


class InvalidPeriod(ValueError):
    """A period the reader asked for that cannot be reported (message in Chinese)."""


def month_of(at: datetime) -> date:
    """The first day of the month `at` falls in, in China time (UTC+8): 2026-01-31 17:00 UTC is
    already February in Beijing."""
    local = at.astimezone(CHINA)
    return date(local.year, local.month, 1)


def month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def parse_month(text: str, name: str) -> date:
    m = MONTH_RE.fullmatch(text)
    if m is None:
        raise InvalidPeriod(f"{name} 须为 YYYY-MM 格式的月份")
    year = int(m.group(1))
    if not 2000 <= year <= 2100:
        raise InvalidPeriod(f"{name} 的年份须在 2000 至 2100 之间")
    return date(year, int(m.group(2)), 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> int:
    """How many months from start to end, both included."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def period_of(first: str | None, last: str | None, now: datetime) -> Period:
    """The months asked for (from, to: YYYY-MM, both included). Without `to`: this month in China;
    without `from`: the 12 months ending with `to`."""
    end = parse_month(last, "to") if last else month_of(now)
    start = parse_month(first, "from") if first else add_months(end, 1 - DEFAULT_MONTHS)
    if start > end:
        raise InvalidPeriod("起始月份不能晚于结束月份")
    if months_between(start, end) > MAX_MONTHS:
        raise InvalidPeriod(f"一次最多统计 {MAX_MONTHS} 个月")
    return Period(start=start, end=end)


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
