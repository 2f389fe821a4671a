"""A report's charts as SVG, drawn on the server: Altair builds the Vega-Lite spec, vl-convert
(a bundled Deno + Vega, no browser) compiles it to SVG. Offline by construction: the data is
inline, `allowed_base_urls=[]` refuses any URL a spec might name, and the text is set in a
font installed on the machine (scripts/browser.sh installs WenQuanYi Micro Hei).

For people with screen readers the SVG is an image with a name: role="img", aria-label, and
<title>/<desc> (the chart's title and a one-line summary with its numbers); the page shows the
same numbers in a table beside it. Chinese throughout: money in yuan (the figures are fen),
rates as percentages.

The engine is synchronous and heavy (~60 MB the first time, about a second to start): charts
are rendered on one worker thread, off the event loop, and cached by report version.
"""

import asyncio
import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from services.reports.domain.tables import ChartKind, ChartSpec, Column, ColumnKind, Report, ReportTable

# The first found is the one the text is measured with; the SVG names them all, so a reader
# without WenQuanYi still gets a CJK font.
FONT = "WenQuanYi Micro Hei"
FONT_FAMILY = f"{FONT}, Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif"
FONT_DIRS = ("/usr/share/fonts/truetype/wqy", "/usr/share/fonts/opentype/noto")
WIDTH, HEIGHT = 560, 280
# The summary in <desc> names this many values at most ("…等共 N 项" beyond).
SUMMARY_VALUES = 24
CACHE_SIZE = 256


class UnknownChart(LookupError):
    """The report has no chart (or the chart no table) of that id."""


def format_value(kind: ColumnKind, value: object) -> str:
    """A figure as a person reads it: 1,234 / 1,234.50 元 / 81.2%."""
    if value is None:
        return "无"
    if kind is ColumnKind.MONEY and isinstance(value, int | float):
        return f"{value / 100:,.2f} 元"
    if kind is ColumnKind.RATE and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    if kind is ColumnKind.COUNT and isinstance(value, int | float):
        return f"{value:,.0f}"
    return str(value)


def _plotted(kind: ColumnKind, value: object) -> float | None:
    """The number the chart draws: yuan for money, the share itself for a rate."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return value / 100 if kind is ColumnKind.MONEY else float(value)


def _axis_format(kind: ColumnKind) -> str:
    return {ColumnKind.RATE: ".0%", ColumnKind.MONEY: ",.0f"}.get(kind, ",d")


def _columns(table: ReportTable, chart: ChartSpec) -> tuple[Column, Column, Column | None]:
    by_key = {c.key: c for c in table.columns}
    try:
        x, y = by_key[chart.x], by_key[chart.y]
        color = by_key[chart.color] if chart.color is not None else None
    except KeyError as exc:
        raise UnknownChart(f"{chart.chart}: no column {exc} in {table.table}") from exc
    return x, y, color


def _y_title(y: Column) -> str:
    return f"{y.label}(元)" if y.kind is ColumnKind.MONEY and "元" not in y.label else y.label


def table_of(report: Report, chart: ChartSpec) -> ReportTable:
    for table in report.tables:
        if table.table == chart.table:
            return table
    raise UnknownChart(f"{chart.chart}: no table {chart.table}")


def chart_of(report: Report, chart_id: str) -> ChartSpec:
    for chart in report.charts:
        if chart.chart == chart_id:
            return chart
    raise UnknownChart(chart_id)


def _points(table: ReportTable, chart: ChartSpec) -> list[dict[str, Any]]:
    """The rows as the spec takes them, under fixed field names (a column key with a dot or a
    bracket would be a path to Vega), each with its value's text and a description in Chinese."""
    x, y, color = _columns(table, chart)
    points = []
    for row in table.rows:
        # No figure: kept, so its month stays on the axis and a line breaks there (drawn as
        # nothing, named 无 like the table beside it).
        plotted = _plotted(y.kind, row.get(y.key))
        label = format_value(y.kind, row.get(y.key))
        point: dict[str, Any] = {"x": str(row.get(x.key) or ""), "y": plotted, "label": label}
        parts = [f"{x.label}:{point['x']}"]
        if color is not None:
            point["c"] = str(row.get(color.key) or "")
            parts.append(f"{color.label}:{point['c']}")
        point["desc"] = ";".join([*parts, f"{y.label}:{label}"])
        points.append(point)
    return points


def summary(report: Report, chart: ChartSpec) -> str:
    """One line for <desc>: what is drawn against what, and the values."""
    table = table_of(report, chart)
    x, y, color = _columns(table, chart)
    points = [p for p in _points(table, chart) if p["y"] is not None]
    if not points:
        return f"{report.union_name}{chart.title}:暂无数据。"
    shown = [
        f"{p['x']}{' ' + p['c'] if color is not None else ''} {p['label']}" for p in points[:SUMMARY_VALUES]
    ]
    more = f"等共 {len(points)} 项" if len(points) > SUMMARY_VALUES else ""
    return f"{report.union_name}{chart.title},按{x.label}的{y.label}:{';'.join(shown)}{more}。"


def vega_lite_spec(report: Report, chart: ChartSpec) -> dict[str, Any]:
    import altair as alt  # on the first chart, not at the service's start: ~40 MB a reader may never need

    table = table_of(report, chart)
    x, y, color = _columns(table, chart)
    points = _points(table, chart)
    many = len({p["x"] for p in points}) > 12
    x_enc = alt.X(
        "x:O" if x.kind is ColumnKind.MONTH else "x:N",
        title=x.label,
        sort=None,  # the table's order: months in order, tiers as the report lists them
        axis=alt.Axis(labelAngle=-45 if many else 0, labelLimit=120),
    )
    # Households and people come whole: no 0.2 tick rounded to a second "0" on a small count.
    step = 1 if y.kind is ColumnKind.COUNT else alt.Undefined
    y_enc = alt.Y("y:Q", title=_y_title(y), axis=alt.Axis(format=_axis_format(y.kind), tickMinStep=step))
    base = alt.Chart(alt.InlineData(values=points))
    encoding: dict[str, Any] = {"x": x_enc, "y": y_enc, "description": alt.Description("desc:N")}
    if color is not None:
        encoding["color"] = alt.Color("c:N", title=color.label, sort=None)
    if chart.kind is ChartKind.LINE:
        marks: alt.Chart = base.mark_line(point=True).encode(**encoding)
    else:
        if chart.kind is ChartKind.GROUPED_BAR and color is not None:
            encoding["xOffset"] = alt.XOffset("c:N", sort=None)
        marks = base.mark_bar().encode(**encoding)
    layers: list[alt.Chart] = [marks]
    # Values written on single series: on stacked or grouped bars they would overlap.
    if color is None:
        text = base.mark_text(dy=-6, baseline="bottom", fontSize=10, aria=False).transform_filter(
            "isValid(datum.y)"
        )
        layers.append(text.encode(x=x_enc, y=y_enc, text=alt.Text("label:N")))
    layered = alt.layer(*layers).properties(
        title=alt.Title(chart.title, subtitle=f"{report.union_name} {_period_text(report)}"),
        width=WIDTH,
        height=HEIGHT,
    )
    spec: dict[str, Any] = layered.to_dict()
    return spec


def _period_text(report: Report) -> str:
    start, end = report.period.start, report.period.end
    if (start.year, start.month) == (end.year, end.month):
        return f"{start:%Y-%m}"
    return f"{start:%Y-%m} 至 {end:%Y-%m}"


# The engine's settings for every chart: the font, and no English descriptions of axes and
# legends (the image's name and <desc> say it in Chinese; each mark carries its own).
_CONFIG: dict[str, Any] = {
    "font": FONT_FAMILY,
    "axis": {"aria": False, "labelFontSize": 11, "titleFontSize": 12},
    "legend": {"aria": False},
    "title": {"fontSize": 14, "anchor": "start"},
    "view": {"stroke": None},
}
_fonts_registered = False
_fonts_lock = threading.Lock()


def _register_fonts() -> None:
    """vl-convert reads the system's fonts; the CJK directories are named as well, in case its
    scan misses them (a container without fontconfig's cache)."""
    import vl_convert

    global _fonts_registered
    with _fonts_lock:
        if _fonts_registered:
            return
        for directory in FONT_DIRS:
            if os.path.isdir(directory):
                vl_convert.register_font_directory(directory)
        _fonts_registered = True


def _labelled(svg: str, title: str, desc: str) -> str:
    """The engine's SVG with a name for assistive technology: role, aria-label, <title>, <desc>."""
    head_end = svg.index(">", svg.index("<svg")) + 1
    head = svg[:head_end]
    head = head.replace("<svg", f'<svg role="img" aria-label={quoteattr(f"{title}。{desc}")}', 1)
    return f"{head}<title>{escape(title)}</title><desc>{escape(desc)}</desc>{svg[head_end:]}"


def _draw(spec: dict[str, Any]) -> str:
    import vl_convert  # the engine loads on the first chart (ChartCache.warm_up to have it sooner)

    _register_fonts()
    svg: str = vl_convert.vegalite_to_svg(spec, config=_CONFIG, allowed_base_urls=[], format_locale="zh-CN")
    return svg


def chart_svg(report: Report, chart: ChartSpec) -> str:
    """The chart drawn: synchronous and CPU-heavy, call it off the event loop (ChartCache)."""
    return _labelled(_draw(vega_lite_spec(report, chart)), chart.title, summary(report, chart))


CacheKey = tuple[Hashable, ...]


class ChartCache:
    """Rendered SVGs by (report, union, period, version, chart): a bounded LRU, one render at a
    time on the engine's thread, and one render per key however many ask for it at once.

    The key holds more than the version (a digest of the tables): two unions may have the same
    figures, and a union renamed keeps its figures, while the picture names the union."""

    def __init__(
        self, size: int = CACHE_SIZE, render: Callable[[Report, ChartSpec], str] = chart_svg
    ) -> None:
        self.size = size
        self._render = render
        self._entries: OrderedDict[CacheKey, str] = OrderedDict()
        self._pending: dict[CacheKey, asyncio.Future[str]] = {}
        self._engine: ThreadPoolExecutor | None = None

    @staticmethod
    def key(report: Report, chart: ChartSpec) -> CacheKey:
        return (report.report, report.union_id, report.union_name, report.period, report.version, chart)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[CacheKey]:
        return iter(self._entries)

    async def svg(self, report: Report, chart: ChartSpec) -> str:
        key = self.key(report, chart)
        if (hit := self._entries.get(key)) is not None:
            self._entries.move_to_end(key)
            return hit
        if (pending := self._pending.get(key)) is not None:
            return await asyncio.shield(pending)
        if self._engine is None:
            self._engine = ThreadPoolExecutor(max_workers=1, thread_name_prefix="charts")
        future = asyncio.get_running_loop().run_in_executor(self._engine, self._render, report, chart)
        self._pending[key] = future
        try:
            svg = await asyncio.shield(future)
        finally:
            self._pending.pop(key, None)
        self._entries[key] = svg
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return svg

    async def warm_up(self) -> None:
        """Start the engine now (about a second and ~60 MB, see the module) rather than on the
        first reader's request: for the service's start, if it wants it."""
        if self._engine is None:
            self._engine = ThreadPoolExecutor(max_workers=1, thread_name_prefix="charts")
        spec = {"data": {"values": [{"x": "启动", "y": 1}]}, "mark": "bar"}
        await asyncio.get_running_loop().run_in_executor(self._engine, _draw, spec)

    def close(self) -> None:
        if self._engine is not None:
            with contextlib.suppress(RuntimeError):
                self._engine.shutdown(wait=False, cancel_futures=True)
            self._engine = None


# The service's one cache: the engine is per process, so is what it drew.
CHARTS = ChartCache()
