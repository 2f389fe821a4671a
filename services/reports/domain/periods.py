"""The months a report covers, as a request names them (`from`, `to`: YYYY-MM). Pure: the
route hands the query text and today's date, and gets a Period or a refusal in Chinese.

Defaults: no `to` is the current month; no `from` is the year up to `to` (12 months). At most
MAX_MONTHS months, so one request cannot ask the read model for decades of figures."""

import re
from datetime import date

from services.reports.domain.tables import Period
from shared.errors import InvalidInput

MAX_MONTHS = 36
DEFAULT_MONTHS = 12
FIRST_YEAR, LAST_YEAR = 2000, 2100
# Exactly YYYY-MM: "2024-1", "202401" and "2024-01-15" are refused, not guessed at.
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


def parse_month(text: str, name: str) -> date:
    """The first day of the month `text` names; `name` is how the refusal calls the field."""
    match = _MONTH.fullmatch(text)
    if match is None:
        raise InvalidInput(f"{name}应写作 年-月,如 2026-01")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise InvalidInput(f"{name}的月份应在 01 至 12 之间")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(f"{name}的年份应在 {FIRST_YEAR} 至 {LAST_YEAR} 之间")
    return date(year, month, 1)


def months_between(start: date, end: date) -> int:
    """How many months from `start`'s to `end`'s, both counted."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_period(start: str | None, end: str | None, today: date) -> Period:
    """The period a request's `from` and `to` name, defaults filled in (see the module)."""
    last = parse_month(end, "结束月份(to)") if end else date(today.year, today.month, 1)
    first = parse_month(start, "开始月份(from)") if start else add_months(last, 1 - DEFAULT_MONTHS)
    if first > last:
        raise InvalidInput("开始月份不能晚于结束月份")
    if months_between(first, last) > MAX_MONTHS:
        raise InvalidInput(f"一次最多查询 {MAX_MONTHS} 个月")
    return Period(start=first, end=last)
