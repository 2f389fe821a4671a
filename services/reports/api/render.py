"""The routes that turn a report into a picture or a file: a chart as SVG, the tables as CSV
or XLSX. The figures come from load_report (handlers/reports.py), scoped to the caller there;
these routes only draw and write what it returns.

Both answer `Cache-Control: private` (figures of a union's subtree are not for shared caches)
with an ETag from the report's version, and 304 to a browser that already holds that version."""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from services.reports.domain.periods import parse_period
from services.reports.domain.tables import Period, Report
from services.reports.handlers.reports import load_report
from services.reports.render.charts import CHARTS, UnknownChart, chart_of
from services.reports.render.files import UnknownTable, report_download
from shared.errors import NotFound
from shared.events import china_date
from shared.http import AppDeps, CallerDep
from shared.inputs import StrictRoute
from shared.openapi import problems
from shared.tabular import TableFormat, attachment

router = APIRouter(route_class=StrictRoute)

# Whatever C1's start returns: these routes hand it on to load_report untouched.
DepsDep = Annotated[Any, AppDeps]
# Bounded, not patterned: an unknown name is a 404 in Chinese (load_report's, or chart_of's).
ReportName = Annotated[str, Path(min_length=1, max_length=32)]
ChartId = Annotated[str, Path(min_length=1, max_length=64)]
# Raised when what a chart or a file looks like changes, so a browser's copy is not kept.
RENDERING = "r1"
# What an SVG may do once opened on its own: nothing but draw (its text comes from the data).
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


@dataclass(frozen=True)
class ReportQuery:
    union_id: uuid.UUID | None
    period: Period


async def report_query(
    union_id: uuid.UUID | None = None,
    start: Annotated[str | None, Query(alias="from", max_length=7, description="YYYY-MM")] = None,
    end: Annotated[str | None, Query(alias="to", max_length=7, description="YYYY-MM")] = None,
) -> ReportQuery:
    """union_id, from and to of any report route (the months refused in Chinese: periods.py)."""
    return ReportQuery(union_id, parse_period(start, end, china_date(datetime.now(UTC))))


ReportQueryDep = Annotated[ReportQuery, Depends(report_query)]
IfNoneMatch = Annotated[str | None, Header(max_length=1024)]


def _etag(report: Report, *parts: str) -> str:
    """The version, and what the picture or file shows beside the figures (the union's name,
    the titles), so a renamed union is not kept under its old name."""
    shown = repr((report.title, report.union_name, report.charts, [t.title for t in report.tables]))
    digest = hashlib.sha256(shown.encode()).hexdigest()[:12]
    return '"' + "-".join(p.replace('"', "") for p in (RENDERING, report.version, digest, *parts)) + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _cached(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": "private, no-cache"}


@router.get(
    "/reports/{report}/charts/{chart}.svg",
    tags=["reports"],
    responses={
        **problems(403, 404),
        200: {"content": {"image/svg+xml": {}}, "description": "the chart, with <title> and <desc>"},
        304: {"description": "the browser's copy is this version"},
    },
)
async def chart_image(
    report: ReportName,
    chart: ChartId,
    query: ReportQueryDep,
    deps: DepsDep,
    caller: CallerDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    figures = await load_report(deps, caller, report, query.union_id, query.period)
    try:
        spec = chart_of(figures, chart)
    except UnknownChart as exc:
        raise NotFound(f"报表“{figures.title}”没有这张图表") from exc
    etag = _etag(figures, chart)
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=_cached(etag))
    svg = await CHARTS.svg(figures, spec)
    headers = {**_cached(etag), "Content-Security-Policy": SVG_POLICY, "X-Content-Type-Options": "nosniff"}
    return Response(svg, media_type="image/svg+xml", headers=headers)


@router.get(
    "/reports/{report}/export",
    tags=["reports"],
    responses={
        **problems(403, 404),
        200: {
            "content": {TableFormat.CSV.media_type: {}, TableFormat.XLSX.media_type: {}},
            "description": "the report's tables as a file (XLSX: a sheet per table; CSV: one table)",
        },
        304: {"description": "the browser's copy is this version"},
    },
)
async def export(
    report: ReportName,
    query: ReportQueryDep,
    deps: DepsDep,
    caller: CallerDep,
    fmt: Annotated[TableFormat, Query(alias="format")] = TableFormat.XLSX,
    table: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    figures = await load_report(deps, caller, report, query.union_id, query.period)
    etag = _etag(figures, fmt.value, table or "")
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=_cached(etag))
    try:
        data, name, fallback = report_download(figures, fmt, table)
    except UnknownTable as exc:
        raise NotFound(f"报表“{figures.title}”没有这张表") from exc
    headers = {**_cached(etag), "Content-Disposition": attachment(name, fallback)}
    return Response(data, media_type=fmt.media_type, headers=headers)
