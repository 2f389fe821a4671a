"""The reports API (docs/reports.md): the list, one report's figures, a union's coverage. The
charts and files of a report are api/render.py's."""

import uuid
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from services.reports.api.deps import DepsDep
from services.reports.domain.periods import parse_period
from services.reports.domain.rules import month_text, rate
from services.reports.domain.tables import Report
from services.reports.handlers import reports
from shared.events import china_date
from shared.http import CallerDep
from shared.inputs import StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute)

ReportName = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[a-z_]+$")]
Cell = str | int | float | None


class ReportListItem(BaseModel):
    report: str
    title: str


class ReportList(BaseModel):
    items: list[ReportListItem]
    next: str | None = None


class ColumnOut(BaseModel):
    key: str
    label: str
    kind: str = Field(description="text, count, money (fen: 分, shown as 元), rate (0..1), month (YYYY-MM)")


class TableOut(BaseModel):
    table: str
    title: str
    columns: list[ColumnOut]
    rows: list[dict[str, Cell]]


class ChartOut(BaseModel):
    chart: str
    title: str
    table: str
    url: str = Field(description="the chart as SVG, on this service")


class PeriodOut(BaseModel):
    start: str = Field(alias="from", serialization_alias="from")
    end: str = Field(alias="to", serialization_alias="to")


class ReportOut(BaseModel):
    report: str
    title: str
    union_id: str
    union_name: str
    period: PeriodOut
    version: str = Field(description="changes whenever a figure does")
    tables: list[TableOut]
    charts: list[ChartOut]


def report_out(r: Report) -> ReportOut:
    query = urlencode(
        {"union_id": r.union_id, "from": month_text(r.period.start), "to": month_text(r.period.end)}
    )
    return ReportOut(
        report=r.report, title=r.title, union_id=r.union_id, union_name=r.union_name,
        period=PeriodOut.model_validate({"from": month_text(r.period.start), "to": month_text(r.period.end)}),
        version=r.version,
        tables=[TableOut(table=t.table, title=t.title,
                         columns=[ColumnOut(key=c.key, label=c.label, kind=c.kind.value) for c in t.columns],
                         rows=[dict(row) for row in t.rows]) for t in r.tables],
        charts=[ChartOut(chart=c.chart, title=c.title, table=c.table,
                         url=f"/reports/{r.report}/charts/{c.chart}.svg?{query}") for c in r.charts],
    )  # fmt: skip


@router.get("/reports", tags=["reports"], responses=problems(401))
async def list_reports(caller: CallerDep) -> ReportList:
    """The reports there are (报表): membership, coverage, relief, legal, competitions, offers."""
    return ReportList(items=[ReportListItem(report=k, title=v) for k, v in reports.TITLES.items()])


@router.get(
    "/reports/{report}",
    tags=["reports"],
    responses=problems(401, 403, 404, 422),
    response_model_by_alias=True,
)
async def get_report(
    deps: DepsDep,
    caller: CallerDep,
    report: ReportName,
    union_id: uuid.UUID | None = None,
    start: Annotated[str | None, Query(alias="from", max_length=7, description="YYYY-MM")] = None,
    end: Annotated[str | None, Query(alias="to", max_length=7, description="YYYY-MM")] = None,
) -> ReportOut:
    """One report's tables and charts for union_id's subtree (default: the cadre's union), months
    from..to in China time (default: the 12 months to this one). Cadres within their subtree,
    admins anywhere."""
    period = parse_period(start, end, china_date(datetime.now(UTC)))
    return report_out(await reports.load_report(deps, caller, report, union_id, period))


class CoverageItem(BaseModel):
    union_id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None
    depth: int = Field(description="levels below the union asked for (0: that union)")
    kind: str
    members: int = Field(description="active members in this union's subtree")
    employers: int
    employers_should: int = Field(description="employers that should have a union (应建会)")
    employers_with_union: int = Field(description="of those, employers with a base union (已建会)")
    workforce: int
    workforce_covered: int = Field(description="workforce of the employers with a base union")
    founding_rate: float | None = Field(description="建会率: employers_with_union / employers_should")
    enrollment_rate: float | None = Field(description="入会率: members / workforce_covered")


class CoverageOut(BaseModel):
    union_id: uuid.UUID
    as_of: datetime
    items: list[CoverageItem]


@router.get("/unions/{union_id}/coverage", tags=["coverage"], responses=problems(401, 403, 404, 422))
async def union_coverage(deps: DepsDep, caller: CallerDep, union_id: uuid.UUID) -> CoverageOut:
    """建会率 and 入会率 for the union and every union below it, each over its own subtree."""
    rows = await reports.coverage_of(deps, caller, union_id)
    return CoverageOut(
        union_id=union_id,
        as_of=datetime.now(UTC),
        items=[
            CoverageItem(
                union_id=r.union_id,
                name=r.name,
                parent_id=r.parent_id,
                depth=r.depth,
                kind=r.kind,
                members=r.members,
                employers=r.employers,
                employers_should=r.employers_should,
                employers_with_union=r.employers_with_union,
                workforce=r.workforce,
                workforce_covered=r.workforce_covered,
                founding_rate=rate(r.employers_with_union, r.employers_should),
                enrollment_rate=rate(r.members, r.workforce_covered),
            )
            for r in rows
        ],
    )
