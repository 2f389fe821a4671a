"""A report as the reports service hands it to its readers: tables of figures, and the charts
drawn from them. Pure data: the figures come from the read model (store/, handlers/), the
pictures and files from render/, both through these shapes."""

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class ColumnKind(StrEnum):
    TEXT = "text"
    COUNT = "count"  # a whole number
    MONEY = "money"  # yuan, two decimals (figures are kept in fen)
    RATE = "rate"  # a share 0..1, shown as a percentage
    MONTH = "month"  # YYYY-MM


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # Chinese, as the reader sees it
    kind: ColumnKind = ColumnKind.COUNT


@dataclass(frozen=True)
class ReportTable:
    table: str  # an id, stable across versions: "joined_by_month"
    title: str
    columns: tuple[Column, ...]
    rows: tuple[dict[str, str | int | float | None], ...]


class ChartKind(StrEnum):
    BAR = "bar"  # one bar per x
    STACKED_BAR = "stacked_bar"  # bars split by `color`
    GROUPED_BAR = "grouped_bar"
    LINE = "line"  # one line per `color` (or one)


@dataclass(frozen=True)
class ChartSpec:
    chart: str  # an id: "households_by_tier"
    title: str
    table: str  # the table it draws
    kind: ChartKind
    x: str  # column keys of that table
    y: str
    color: str | None = None


@dataclass(frozen=True)
class Period:
    start: date  # the first day of the first month
    end: date  # the first day of the last month


@dataclass(frozen=True)
class Report:
    report: str  # membership, coverage, relief, legal, competitions, offers
    title: str
    union_id: str
    union_name: str
    period: Period
    # Changes whenever a figure does (a digest of the tables): charts and files are cached by it.
    version: str
    tables: tuple[ReportTable, ...]
    charts: tuple[ChartSpec, ...] = field(default=())
