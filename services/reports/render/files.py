"""A report as a file to download, through shared/tabular.py (the same CSV and XLSX as every
export: BOM for Excel, formula-like cells quoted).

- XLSX: one sheet per table (or the one `table` names), headed by the Chinese labels.
- CSV: one table, the first unless `table` names another.

Values: counts as whole numbers; money in yuan with 2 decimals (the figures are fen, turned
exactly with Decimal); rates as the share 0..1 with 4 decimals — a number a spreadsheet can
compute with, shown as a percentage in XLSX by the cell's format (81.23%), the value unchanged.
"""

import re
from decimal import Decimal

from services.reports.domain.tables import Column, ColumnKind, Report, ReportTable
from shared.tabular import Sheet, TableFormat, write_table, write_workbook

_CENT = Decimal("0.01")
# Excel's display of each kind (None: as written).
_XLSX_FORMATS: dict[ColumnKind, str] = {
    ColumnKind.MONEY: "#,##0.00",
    ColumnKind.RATE: "0.00%",
    ColumnKind.COUNT: "#,##0",
}
# What a file name may not hold on Windows, macOS or in a header.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_NOT_ASCII_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class UnknownTable(LookupError):
    """The report has no table of that id."""


def header_label(column: Column) -> str:
    if column.kind is ColumnKind.MONEY and "元" not in column.label:
        return f"{column.label}(元)"
    return column.label


def cell(column: Column, value: object, fmt: TableFormat) -> object:
    """A figure as the file holds it (CSV: text; XLSX: a number where it is one)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if column.kind is ColumnKind.MONEY:
        yuan = (Decimal(str(value)) / 100).quantize(_CENT)
        return yuan if fmt is TableFormat.XLSX else f"{yuan:.2f}"
    if column.kind is ColumnKind.RATE:
        share = round(float(value), 4)
        return share if fmt is TableFormat.XLSX else f"{share:.4f}"
    if column.kind is ColumnKind.COUNT:
        return int(value)
    return str(value)


def _rows(table: ReportTable, fmt: TableFormat) -> list[list[object]]:
    return [[cell(c, row.get(c.key), fmt) for c in table.columns] for row in table.rows]


def chosen_tables(report: Report, table: str | None) -> tuple[ReportTable, ...]:
    if table is None:
        return report.tables
    for candidate in report.tables:
        if candidate.table == table:
            return (candidate,)
    raise UnknownTable(table)


def _period(report: Report, sep: str) -> str:
    start, end = report.period.start, report.period.end
    return f"{start:%Y%m}" if start == end else f"{start:%Y%m}{sep}{end:%Y%m}"


def file_names(report: Report, fmt: TableFormat, table: ReportTable | None) -> tuple[str, str]:
    """(the Chinese name, an ASCII fallback) of the file, extension included."""
    title = f"{report.title}-{report.union_name}-{_period(report, '至')}"
    plain = f"{report.report}-{_period(report, '-')}"
    if table is not None:
        title, plain = f"{title}-{table.title}", f"{plain}-{table.table}"
    title = _UNSAFE_NAME.sub("_", title).strip(" .") or report.report
    plain = _NOT_ASCII_NAME.sub("_", plain).strip("._") or "report"
    return f"{title}.{fmt.value}", f"{plain}.{fmt.value}"


def report_file(report: Report, fmt: TableFormat, table: str | None = None) -> tuple[bytes, str]:
    """The file's bytes and its (Chinese) name; `UnknownTable` if `table` is not the report's."""
    return report_download(report, fmt, table)[:2]


def report_download(report: Report, fmt: TableFormat, table: str | None = None) -> tuple[bytes, str, str]:
    """As report_file, with the ASCII fallback name as well (for Content-Disposition)."""
    tables = chosen_tables(report, table)
    if fmt is TableFormat.CSV:
        first = tables[0] if tables else None
        data = write_table(
            fmt,
            [header_label(c) for c in first.columns] if first else [],
            _rows(first, fmt) if first else [],
        )
        # The table is named in the file's name when the report has others it could have been.
        named = first if first is not None and len(report.tables) > 1 else None
        name, fallback = file_names(report, fmt, named)
        return data, name, fallback
    sheets = [
        Sheet(
            title=t.title,
            header=[header_label(c) for c in t.columns],
            rows=_rows(t, fmt),
            number_formats=[_XLSX_FORMATS.get(c.kind) for c in t.columns],
        )
        for t in tables
    ]
    name, fallback = file_names(report, fmt, tables[0] if table is not None and tables else None)
    return write_workbook(sheets), name, fallback
