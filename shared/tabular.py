"""Tables in and out of files: the roster import reads CSV and XLSX, every export writes them.

One place for it, so an export from enrollment and one from reports open the same way in Excel
and WPS: CSV is UTF-8 with a byte-order mark (without it Excel shows Chinese as mojibake), and a
cell that starts like a formula is quoted with a leading apostrophe (CSV injection: `=HYPERLINK`
in a name must stay text). XLSX is written by openpyxl in write-only mode (constant memory) and
read in read-only mode; a workbook's first sheet is the table.
"""

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.exceptions import InvalidFileException

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Cells starting with these are formulas to a spreadsheet (OWASP's list for CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A file over this many rows is refused before it is read further (an import is 10,000 rows).
MAX_ROWS = 20_000
MAX_COLUMNS = 50
MAX_CELL = 500


class TableFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        return CSV_MEDIA_TYPE if self is TableFormat.CSV else XLSX_MEDIA_TYPE


class UnreadableTable(ValueError):
    """The file is not a table this module can read; the message is for the person (Chinese)."""


@dataclass(frozen=True)
class Table:
    """A header and its rows, every cell text (stripped); rows are numbered from 2 as in the
    file (the header is line 1), so a report can name the line a person sees."""

    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]


def _safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_table(
    fmt: TableFormat, header: Sequence[str], rows: Iterable[Sequence[Any]], title: str = ""
) -> bytes:
    """The table as a file's bytes; `title` names the XLSX sheet (31 characters at most)."""
    if fmt is TableFormat.CSV:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([_safe_cell(h) for h in header])
        for row in rows:
            writer.writerow(["" if c is None else _safe_cell(c) for c in row])
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=(title or "Sheet1")[:31])
    sheet.append([_safe_cell(h) for h in header])
    for row in rows:
        sheet.append([_safe_cell(c) for c in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Sheet:
    """One table of a workbook: `number_formats`, by column, is how Excel shows a number
    ("0.00", "0.00%") without changing it; None or missing leaves the cell as it is."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    number_formats: Sequence[str | None] = ()


# Excel refuses these in a sheet's name, and names longer than 31 characters.
_SHEET_NAME_REFUSES = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _sheet_names(titles: Sequence[str]) -> list[str]:
    """Names Excel takes: its characters only, 31 at most, unique (case-insensitively)."""
    names: list[str] = []
    for number, title in enumerate(titles, start=1):
        base = title.translate(_SHEET_NAME_REFUSES).strip("'").strip() or f"Sheet{number}"
        name, suffix = base[:31], 1
        while name.casefold() in {n.casefold() for n in names}:
            suffix += 1
            name = f"{base[: 31 - len(str(suffix)) - 1]}_{suffix}"
        names.append(name)
    return names


def write_workbook(sheets: Sequence[Sheet]) -> bytes:
    """An XLSX with one sheet per table, in order (a report's export)."""
    book = Workbook(write_only=True)
    for sheet, name in zip(sheets, _sheet_names([s.title for s in sheets]), strict=True):
        out = book.create_sheet(title=name)
        out.append([_safe_cell(h) for h in sheet.header])
        formats = list(sheet.number_formats)
        for row in sheet.rows:
            cells: list[object] = []
            for index, value in enumerate(row):
                fmt = formats[index] if index < len(formats) else None
                number = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
                if fmt is not None and number:
                    cell = WriteOnlyCell(out, value=value)
                    cell.number_format = fmt
                    cells.append(cell)
                else:
                    cells.append(_safe_cell(value))
            out.append(cells)
    if not sheets:
        book.create_sheet(title="Sheet1")  # a workbook without a sheet does not open
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed into Excel comes back as 13800000000.0
    return str(value).strip()


def _bounded(lines: Iterator[Sequence[object]]) -> Table:
    header: tuple[str, ...] | None = None
    rows: list[tuple[int, tuple[str, ...]]] = []
    for number, raw in enumerate(lines, start=1):
        cells = tuple(_text(c) for c in raw)
        if len(cells) > MAX_COLUMNS:
            raise UnreadableTable(f"第{number}行的列数超过{MAX_COLUMNS}列")
        if any(len(c) > MAX_CELL for c in cells):
            raise UnreadableTable(f"第{number}行有单元格超过{MAX_CELL}个字符")
        if header is None:
            header = cells
            continue
        if not any(cells):
            continue  # blank lines at the end of a sheet are common; they are not rows
        if len(rows) >= MAX_ROWS:
            raise UnreadableTable(f"文件超过{MAX_ROWS}行,请拆分后分批导入")
        rows.append((number, cells))
    if header is None or not any(header):
        raise UnreadableTable("文件是空的:第一行应为表头")
    return Table(header=header, rows=tuple(rows))


def read_table(fmt: TableFormat, data: bytes) -> Table:
    """The file's first table; anything unreadable is an `UnreadableTable` with a reason."""
    if fmt is TableFormat.CSV:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")  # Excel on a Chinese Windows saves CSV as GBK
            except UnicodeDecodeError as exc:
                raise UnreadableTable("无法识别文件编码,请另存为 UTF-8 的 CSV") from exc
        if "\x00" in text:
            raise UnreadableTable("文件含有无效字符,不是 CSV 文本")
        try:
            return _bounded(iter(csv.reader(io.StringIO(text, newline=""))))
        except csv.Error as exc:
            raise UnreadableTable(f"CSV 格式有误:{exc}") from exc
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableTable("无法读取该 Excel 文件,请使用 .xlsx 格式") from exc
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise UnreadableTable("Excel 文件中没有工作表")
        return _bounded(iter(sheet.iter_rows(values_only=True)))
    finally:
        book.close()


def format_of(content_type: str | None, file_name: str | None = None) -> TableFormat | None:
    """The format a request's Content-Type (or, failing that, its file name) says, or None."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in ("text/csv", "application/csv"):
        return TableFormat.CSV
    if kind == XLSX_MEDIA_TYPE:
        return TableFormat.XLSX
    name = (file_name or "").lower()
    if name.endswith(".csv"):
        return TableFormat.CSV
    if name.endswith(".xlsx"):
        return TableFormat.XLSX
    return None


def attachment(name: str, fallback: str) -> str:
    """A Content-Disposition naming the file in UTF-8 (RFC 5987: every current browser reads it,
    so a Chinese name arrives whole), with an ASCII name for the rest."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
