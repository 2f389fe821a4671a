"""A report turned into pictures and files: a relief-like report built by hand (households by
tier, money paid by aid type and month, a rate by month), drawn by the real engine (vl-convert)
and written by shared/tabular.py; the months a request names; and the two routes, with the
report's figures standing in for load_report (part C1's)."""

import asyncio
import io
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from urllib.parse import unquote

import httpx
import pytest
import vl_convert
from fastapi import FastAPI
from openpyxl import load_workbook

from services.reports.api import render as routes
from services.reports.domain.periods import MAX_MONTHS, parse_period
from services.reports.domain.tables import (
    ChartKind,
    ChartSpec,
    Column,
    ColumnKind,
    Period,
    Report,
    ReportTable,
)
from services.reports.render.charts import ChartCache, chart_svg
from services.reports.render.files import UnknownTable, report_download, report_file
from shared.auth import Caller, Principal, Role
from shared.errors import InvalidInput, install_error_handlers
from shared.http import _caller
from shared.inputs import StrictRoute
from shared.tabular import TableFormat, _sheet_names, attachment, read_table

SVG = "{http://www.w3.org/2000/svg}"
TODAY = date(2026, 12, 3)


def relief_report(version: str = "v1", union_name: str = "杭州市总工会") -> Report:
    tiers = ReportTable(
        "households_by_tier",
        "按困难类别的帮扶户数",
        (Column("tier", "困难类别", ColumnKind.TEXT), Column("households", "户数")),
        ({"tier": "特困", "households": 12}, {"tier": "相对困难", "households": 1234}),
    )
    paid = ReportTable(
        "paid_by_aid",
        "按救助类型的支出",
        (
            Column("month", "月份", ColumnKind.MONTH),
            Column("aid", "救助类型", ColumnKind.TEXT),
            Column("paid", "支出金额", ColumnKind.MONEY),
        ),
        (
            {"month": "2026-01", "aid": "生活救助", "paid": 123450},
            {"month": "2026-01", "aid": "医疗救助", "paid": 50000},
            {"month": "2026-02", "aid": "生活救助", "paid": 99901},
        ),
    )
    rates = ReportTable(
        "reverified",
        "按月复核完成率",
        (Column("month", "月份", ColumnKind.MONTH), Column("rate", "复核完成率", ColumnKind.RATE)),
        (
            {"month": "2026-01", "rate": 0.81234},
            {"month": "2026-02", "rate": None},
            {"month": "2026-03", "rate": 1},
        ),
    )
    return Report(
        report="relief",
        title="困难职工帮扶",
        union_id=str(uuid.UUID(int=7)),
        union_name=union_name,
        period=Period(date(2026, 1, 1), date(2026, 3, 1)),
        version=version,
        tables=(tiers, paid, rates),
        charts=(
            ChartSpec("households_by_tier", "按困难类别的帮扶户数", "households_by_tier", ChartKind.BAR, "tier", "households"),
            ChartSpec("paid_by_aid", "按救助类型的支出", "paid_by_aid", ChartKind.STACKED_BAR, "month", "paid", "aid"),
            ChartSpec("reverified", "复核完成率", "reverified", ChartKind.LINE, "month", "rate"),
        ),
    )  # fmt: skip


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (the engine's own output, not a stranger's file)


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


# Charts -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def drawn() -> dict[str, ET.Element]:
    report = relief_report()
    return {c.chart: _parse(chart_svg(report, c)) for c in report.charts}


def test_a_chart_is_an_svg_image_named_for_screen_readers(drawn: dict[str, ET.Element]) -> None:
    for chart in relief_report().charts:
        root = drawn[chart.chart]
        assert root.tag == f"{SVG}svg"
        assert root.get("role") == "img"
        assert (root.get("aria-label") or "").startswith(chart.title)
        assert root.findtext(f"{SVG}title") == chart.title
        desc = root.findtext(f"{SVG}desc") or ""
        assert desc.startswith("杭州市总工会" + chart.title) and "\n" not in desc


def test_the_bar_chart_carries_its_chinese_labels_and_its_values(drawn: dict[str, ET.Element]) -> None:
    root = drawn["households_by_tier"]
    texts = _texts(root)
    assert {"困难类别", "户数", "特困", "相对困难", "12", "1,234"} <= set(texts)
    assert "特困 12;相对困难 1,234" in (root.findtext(f"{SVG}desc") or "")


def test_money_is_drawn_in_yuan_and_rates_as_percentages(drawn: dict[str, ET.Element]) -> None:
    paid = drawn["paid_by_aid"]
    assert "支出金额(元)" in _texts(paid) and {"生活救助", "医疗救助"} <= set(_texts(paid))
    desc = paid.findtext(f"{SVG}desc") or ""
    assert "2026-01 生活救助 1,234.50 元" in desc and "2026-02 生活救助 999.01 元" in desc
    # The y axis counts yuan: the largest stack is 1,734.50 yuan, not 173,450 fen.
    assert "1,600" in _texts(paid) and "100,000" not in _texts(paid)
    rate = drawn["reverified"]
    assert {"81.2%", "100.0%"} <= set(_texts(rate))  # the values written on the line
    assert "80%" in _texts(rate)  # the axis
    # A month without a figure stays on the axis, undrawn, and the summary skips it.
    assert "2026-02" in _texts(rate)
    assert "2026-01 81.2%;2026-03 100.0%" in (rate.findtext(f"{SVG}desc") or "")


def test_a_chart_names_nothing_outside_itself(drawn: dict[str, ET.Element]) -> None:
    for root in drawn.values():
        text = ET.tostring(root, encoding="unicode")
        assert "<script" not in text and "href=" not in text and "@import" not in text
    # And the engine is held to that: a spec naming a URL is refused, not fetched.
    with pytest.raises(ValueError, match="not allowed"):
        vl_convert.vegalite_to_svg(
            {"data": {"url": "https://example.com/x.json"}, "mark": "bar"}, allowed_base_urls=[]
        )


def test_markup_in_a_name_stays_text() -> None:
    report = relief_report(union_name='<script>alert("x")</script>&工会')
    root = _parse(chart_svg(report, report.charts[0]))  # parses: nothing was injected
    assert '<script>alert("x")</script>&工会' in (root.findtext(f"{SVG}desc") or "")
    assert root.find(f".//{SVG}script") is None


def test_a_chart_without_figures_says_so() -> None:
    report = relief_report()
    empty = ReportTable("households_by_tier", "按困难类别的帮扶户数", report.tables[0].columns, ())
    report = Report(**{**report.__dict__, "tables": (empty, *report.tables[1:])})
    root = _parse(chart_svg(report, report.charts[0]))
    assert root.findtext(f"{SVG}desc") == "杭州市总工会按困难类别的帮扶户数:暂无数据。"


class CountingRender:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, report: Report, chart: ChartSpec) -> str:
        self.calls.append((report.version, chart.chart))
        return f"<svg>{report.version}:{chart.chart}</svg>"


async def test_the_cache_keeps_a_version_and_draws_again_for_a_new_one() -> None:
    render = CountingRender()
    cache = ChartCache(size=2, render=render)
    v1, v2 = relief_report("v1"), relief_report("v2")
    bar = v1.charts[0]
    first = await cache.svg(v1, bar)
    assert await cache.svg(relief_report("v1"), bar) is first
    assert render.calls == [("v1", "households_by_tier")]
    again = await cache.svg(v2, bar)
    assert again != first and render.calls[-1] == ("v2", "households_by_tier")
    # Two unions with the same figures (or one renamed) do not share a picture: it names the union.
    await cache.svg(relief_report("v1", union_name="西湖区总工会"), bar)
    assert len(render.calls) == 3
    # Bounded: the least recently used goes first.
    assert len(cache) == 2 and ChartCache.key(v1, bar) not in set(cache)
    cache.close()


async def test_the_engine_can_be_started_before_the_first_reader() -> None:
    cache = ChartCache()
    await cache.warm_up()
    report = relief_report("warm")
    assert "<title>复核完成率</title>" in await cache.svg(report, report.charts[2])
    cache.close()


async def test_many_asking_at_once_get_one_render() -> None:
    render = CountingRender()
    cache = ChartCache(render=render)
    report = relief_report("v9")
    answers = await asyncio.gather(*(cache.svg(report, report.charts[1]) for _ in range(5)))
    assert render.calls == [("v9", "paid_by_aid")] and len(set(answers)) == 1
    cache.close()


# Files ------------------------------------------------------------------------------------------


def test_csv_opens_in_excel_with_chinese_headers_and_formatted_values() -> None:
    report = relief_report()
    data, name = report_file(report, TableFormat.CSV, None)
    assert data.startswith(b"\xef\xbb\xbf")
    table = read_table(TableFormat.CSV, data)
    assert table.header == ("困难类别", "户数")  # the first table unless one is named
    assert [cells for _, cells in table.rows] == [("特困", "12"), ("相对困难", "1234")]
    assert name == "困难职工帮扶-杭州市总工会-202601至202603-按困难类别的帮扶户数.csv"
    paid, _ = report_file(report, TableFormat.CSV, "paid_by_aid")
    lines = paid.decode("utf-8-sig").splitlines()
    assert lines[0] == "月份,救助类型,支出金额(元)"
    assert lines[1:] == ["2026-01,生活救助,1234.50", "2026-01,医疗救助,500.00", "2026-02,生活救助,999.01"]
    rates, _ = report_file(report, TableFormat.CSV, "reverified")
    assert rates.decode("utf-8-sig").splitlines()[1:] == ["2026-01,0.8123", "2026-02,", "2026-03,1.0000"]


def test_xlsx_has_a_sheet_per_table_with_the_same_numbers() -> None:
    report = relief_report()
    data, name = report_file(report, TableFormat.XLSX, None)
    assert name == "困难职工帮扶-杭州市总工会-202601至202603.xlsx"
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["按困难类别的帮扶户数", "按救助类型的支出", "按月复核完成率"]
    tiers, paid, rates = book.worksheets
    assert [[c.value for c in row] for row in tiers.iter_rows()] == [
        ["困难类别", "户数"],
        ["特困", 12],
        ["相对困难", 1234],
    ]
    assert paid["C1"].value == "支出金额(元)"
    assert Decimal(str(paid["C2"].value)) == Decimal("1234.50") and paid["C2"].number_format == "#,##0.00"
    assert Decimal(str(paid["C4"].value)) == Decimal("999.01")
    assert rates["B2"].value == 0.8123 and rates["B2"].number_format == "0.00%"
    assert rates["B3"].value is None
    # read_table (the import's reader) sees the first sheet as the table.
    assert read_table(TableFormat.XLSX, data).header == ("困难类别", "户数")


def test_one_table_can_be_chosen_and_an_unknown_one_is_refused() -> None:
    report = relief_report()
    data, _ = report_file(report, TableFormat.XLSX, "reverified")
    assert load_workbook(io.BytesIO(data)).sheetnames == ["按月复核完成率"]
    with pytest.raises(UnknownTable):
        report_file(report, TableFormat.CSV, "nope")


def test_sheet_names_are_ones_excel_accepts() -> None:
    names = _sheet_names(["a/b:c", "x" * 40, "x" * 40, "", "'引号'"])
    assert names[0] == "a_b_c" and len(names[1]) == 31 and names[2].endswith("_2") and len(names[2]) == 31
    assert names[3] == "Sheet4" and names[4] == "引号"


def test_the_file_name_is_chinese_for_browsers_and_ascii_for_the_rest() -> None:
    _, name, fallback = report_download(relief_report(), TableFormat.XLSX, None)
    header = attachment(name, fallback)
    assert header.startswith('attachment; filename="relief-202601-202603.xlsx"; ')
    assert header.isascii()
    assert unquote(header.split("filename*=UTF-8''")[1]) == name


# Periods ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "first", "last"),
    [
        ("2026-01", "2026-03", date(2026, 1, 1), date(2026, 3, 1)),
        ("2026-05", "2026-05", date(2026, 5, 1), date(2026, 5, 1)),
        (None, None, date(2026, 1, 1), date(2026, 12, 1)),  # the 12 months up to this one
        (None, "2026-03", date(2025, 4, 1), date(2026, 3, 1)),
        ("2026-02", None, date(2026, 2, 1), date(2026, 12, 1)),
        ("2024-01", "2026-12", date(2024, 1, 1), date(2026, 12, 1)),  # 36 months
    ],
)
def test_periods_accepted(start: str | None, end: str | None, first: date, last: date) -> None:
    assert parse_period(start, end, TODAY) == Period(first, last)


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("2026-1", None, "年-月"),
        ("202601", None, "年-月"),
        ("2026-01-15", None, "年-月"),
        ("２０２６-01", None, "年-月"),  # full-width digits are not \d here
        ("2026-13", None, "01 至 12"),
        ("2026-00", None, "01 至 12"),
        ("1999-12", None, "年份"),
        ("2026-04", "2026-03", "不能晚于"),
        ("2023-12", "2026-12", f"{MAX_MONTHS} 个月"),
        (None, "2027-01", None),  # the future is allowed (a plan), within the span
    ],
)
def test_periods_refused_with_a_reason(start: str | None, end: str | None, reason: str | None) -> None:
    if reason is None:
        assert parse_period(start, end, TODAY).end == date(2027, 1, 1)
        return
    with pytest.raises(InvalidInput, match=reason):
        parse_period(start, end, TODAY)


# Routes -----------------------------------------------------------------------------------------


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    asked: list[tuple[str, uuid.UUID | None, Period]] = []

    async def load_report(
        deps: object, claims: Caller, report: str, union_id: uuid.UUID | None, period: Period
    ) -> Report:
        asked.append((report, union_id, period))
        return relief_report()

    monkeypatch.setattr(routes, "load_report", load_report)
    app = FastAPI()
    app.router.route_class = StrictRoute
    install_error_handlers(app)
    app.include_router(routes.router)
    app.state.deps = object()
    principal = Principal(sub="cadre-1", role=Role.CADRE, union_id=uuid.UUID(int=7))
    app.dependency_overrides[_caller] = lambda: Caller(principal, "corr-1")
    app.state.asked = asked
    yield app


async def _get(app: FastAPI, path: str, **kw: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path, **kw)  # type: ignore[arg-type]


async def test_the_chart_route_serves_svg_with_its_version_as_etag(app: FastAPI) -> None:
    union = uuid.UUID(int=7)
    r = await _get(app, f"/reports/relief/charts/paid_by_aid.svg?union_id={union}&from=2026-01&to=2026-03")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.headers["cache-control"].startswith("private") and "v1" in r.headers["etag"]
    assert _parse(r.text).findtext(f"{SVG}title") == "按救助类型的支出"
    assert app.state.asked == [("relief", union, Period(date(2026, 1, 1), date(2026, 3, 1)))]
    again = await _get(
        app, "/reports/relief/charts/paid_by_aid.svg", headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""


async def test_the_chart_route_refuses_in_chinese(app: FastAPI) -> None:
    unknown = await _get(app, "/reports/relief/charts/no%20such.svg")
    assert unknown.status_code == 404 and "没有这张图表" in unknown.json()["detail"]
    months = await _get(app, "/reports/relief/charts/paid_by_aid.svg?from=2026-04&to=2026-01")
    assert months.status_code == 422 and "不能晚于" in months.json()["detail"]
    misspelt = await _get(app, "/reports/relief/charts/paid_by_aid.svg?form=2026-01")
    assert misspelt.status_code == 422


async def test_the_export_route_answers_a_named_file(app: FastAPI) -> None:
    r = await _get(app, "/reports/relief/export?format=csv&table=paid_by_aid")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.decode("utf-8-sig").startswith("月份,救助类型,支出金额(元)")
    disposition = r.headers["content-disposition"]
    assert 'filename="relief-202601-202603-paid_by_aid.csv"' in disposition
    assert (
        unquote(disposition.split("''")[1]) == "困难职工帮扶-杭州市总工会-202601至202603-按救助类型的支出.csv"
    )
    xlsx = await _get(app, "/reports/relief/export?format=xlsx")
    assert len(load_workbook(io.BytesIO(xlsx.content)).sheetnames) == 3
    unknown = await _get(app, "/reports/relief/export?format=csv&table=nope")
    assert unknown.status_code == 404 and "没有这张表" in unknown.json()["detail"]
    assert (await _get(app, "/reports/relief/export?format=pdf")).status_code == 422


def test_a_small_count_is_drawn_on_whole_ticks() -> None:
    """One household: the axis reads 0 and 1, not 0, 0.2 … shown as 0, 0, 1, 1."""
    table = ReportTable(
        "t",
        "户数",
        (Column("tier", "困难类别", ColumnKind.TEXT), Column("n", "户数")),
        ({"tier": "深度困难", "n": 1},),
    )
    chart = ChartSpec("c", "户数", "t", ChartKind.BAR, "tier", "n")
    report = Report("relief", "困难职工帮扶", str(uuid.uuid4()), "西湖区总工会",
                    Period(date(2026, 1, 1), date(2026, 12, 1)), "v1", (table,), (chart,))  # fmt: skip
    numbers = [t for t in _texts(_parse(chart_svg(report, chart))) if t.isdigit()]
    assert sorted(set(numbers)) == ["0", "1"] and numbers.count("0") == 1, numbers
