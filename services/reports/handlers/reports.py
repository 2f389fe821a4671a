"""The reports' figures from the read model, within the caller's scope: `load_report` (also what
the chart and file routes draw from, api/render.py) and the coverage of a union's subtree.

Scope: an admin reads any union; a cadre the unions whose path (in this read model) holds their
binding's union; anyone else nothing (403)."""

import uuid
from collections import defaultdict
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any

from services.reports.api.deps import Deps
from services.reports.domain import coverage as cov
from services.reports.domain import labels as lb
from services.reports.domain import measures as m
from services.reports.domain.rules import month_text, months_of, rate, version_of, years_of
from services.reports.domain.tables import (
    ChartKind,
    ChartSpec,
    Column,
    ColumnKind,
    Period,
    Report,
    ReportTable,
)
from services.reports.store import figures, generations
from services.reports.store.figures import UnionInfo
from shared.auth import Caller, Principal, Role
from shared.contracts.legal import MediationOutcome, Outcome, Stage
from shared.contracts.relief import AidType, Tier
from shared.db import Conn
from shared.errors import Forbidden, InvalidInput, NotFound

TITLES = {
    "membership": "会员发展与流动",
    "coverage": "建会率与入会率",
    "relief": "困难职工帮扶",
    "legal": "法律维权",
    "competitions": "劳动和技能竞赛",
    "offers": "普惠优惠使用",
}

Row = dict[str, str | int | float | None]
Built = tuple[tuple[ReportTable, ...], tuple[ChartSpec, ...]]
Builder = Callable[[Conn, UnionInfo, Period], Coroutine[Any, Any, Built]]


def scope_root(principal: Principal, union_id: uuid.UUID | None) -> uuid.UUID:
    """The union asked for (default: the cadre's binding); only staff read reports."""
    if principal.role is Role.CADRE:
        return union_id or principal.union_id  # type: ignore[return-value]  # a cadre token names one
    if principal.role is Role.ADMIN:
        if union_id is None:
            raise InvalidInput("请指定要统计的工会(union_id)")
        return union_id
    raise Forbidden("统计报表仅供工会干部和管理员查看")


async def scoped_union(conn: Conn, principal: Principal, union_id: uuid.UUID) -> UnionInfo:
    found = await figures.union(conn, union_id)
    if found is None:
        raise NotFound("没有这个工会,或其信息尚未同步到统计服务")
    if not principal.covers_union(found.path):
        raise Forbidden("该工会不在您的管辖范围内")
    return found


async def load_report(
    deps: Deps, claims: Caller, report: str, union_id: uuid.UUID | None, period: Period
) -> Report:
    """The report `report` for the subtree of `union_id` (default: the caller's binding) over
    `period`; NotFound for an unknown report or union, Forbidden outside the caller's scope."""
    builder = BUILDERS.get(report)
    if builder is None:
        raise NotFound(f"没有这份报表:{report}")
    root = scope_root(claims.principal, union_id)
    async with generations.reading(deps.pool) as conn:
        union = await scoped_union(conn, claims.principal, root)
        tables, charts = await builder(conn, union, period)
    return Report(
        report=report,
        title=TITLES[report],
        union_id=str(union.union_id),
        union_name=union.name,
        period=period,
        version=version_of(tables),
        tables=tables,
        charts=charts,
    )


async def coverage_of(deps: Deps, caller: Caller, union_id: uuid.UUID) -> list[figures.CoverageRow]:
    root = scope_root(caller.principal, union_id)
    async with generations.reading(deps.pool) as conn:
        await scoped_union(conn, caller.principal, root)
        return await figures.coverage(conn, root)


# --- the reports ------------------------------------------------------------------------------


def _per_month(
    flows: list[figures.Flow], period: Period, measures: dict[str, str], *, amount: bool = False
) -> list[Row]:
    """One row per month of the period (months without any fact: zeros), a column per measure."""
    sums: dict[tuple[str, date], int] = defaultdict(int)
    for f in flows:
        sums[(f.measure, f.month)] += f.amount if amount else f.count
    return [
        {"month": month_text(month), **{key: sums[(measure, month)] for key, measure in measures.items()}}
        for month in months_of(period)
    ]


async def _membership(conn: Conn, union: UnionInfo, period: Period) -> Built:
    measures = {
        "joined": m.JOINED,
        "left": m.LEFT,
        "transferred_in": m.TRANSFERRED_IN,
        "transferred_out": m.TRANSFERRED_OUT,
    }
    flows = await figures.flows(conn, union.union_id, list(measures.values()), period.start, period.end)
    rows = _per_month(flows, period, measures)
    for r in rows:
        r["net"] = (
            int(r["joined"] or 0)
            - int(r["left"] or 0)
            + int(r["transferred_in"] or 0)
            - int(r["transferred_out"] or 0)
        )
    by_month = ReportTable(
        "flows_by_month",
        "入会与会员流动(按月)",
        (
            Column("month", "月份", ColumnKind.MONTH),
            Column("joined", "新入会"),
            Column("left", "退会"),
            Column("transferred_in", "转入"),
            Column("transferred_out", "转出"),
            Column("net", "净增"),
        ),
        tuple(rows),
    )
    nodes = await figures.coverage(conn, union.union_id, max_depth=1)
    members = ReportTable(
        "members_by_union",
        "会员人数(本级及下一级工会)",
        (Column("union", "工会", ColumnKind.TEXT), Column("members", "会员人数")),
        tuple({"union": n.name, "members": n.members} for n in nodes),
    )
    charts = (
        ChartSpec("joined_by_month", "每月新入会人数", "flows_by_month", ChartKind.BAR, "month", "joined"),
        ChartSpec("net_by_month", "每月会员净增", "flows_by_month", ChartKind.LINE, "month", "net"),
        ChartSpec(
            "members_by_union", "各工会会员人数", "members_by_union", ChartKind.BAR, "union", "members"
        ),
    )
    return (by_month, members), charts


_COVERAGE_COLUMNS = (
    Column("members", "会员人数"),
    Column("employers_should", "应建会单位"),
    Column("employers_with_union", "已建会单位"),
    Column("founding_rate", "建会率", ColumnKind.RATE),
    Column("workforce_covered", "已建会单位职工数"),
    Column("enrollment_rate", "入会率", ColumnKind.RATE),
)


def _coverage_figures(
    members: int, should: int, with_union: int, covered: int
) -> dict[str, int | float | None]:
    """A coverage row's figures: the counts and the two rates (建会率, 入会率) made of them."""
    return {
        "members": members, "employers_should": should, "employers_with_union": with_union,
        "founding_rate": rate(with_union, should), "workforce_covered": covered,
        "enrollment_rate": rate(members, covered),
    }  # fmt: skip


async def _coverage(conn: Conn, union: UnionInfo, period: Period) -> Built:
    nodes = await figures.coverage(conn, union.union_id, max_depth=1)
    table = ReportTable(
        "coverage_by_union",
        "建会率与入会率(本级及下一级工会)",
        (
            Column("union", "工会", ColumnKind.TEXT),
            Column("kind", "类别", ColumnKind.TEXT),
            *_COVERAGE_COLUMNS,
        ),
        tuple(
            {
                "union": n.name,
                "kind": lb.label(lb.UNION_KINDS, n.kind),
                **_coverage_figures(
                    n.members, n.employers_should, n.employers_with_union, n.workforce_covered
                ),
            }
            for n in nodes
        ),
    )
    months = months_of(period)
    measures = [*cov.MEMBER_FLOWS, *cov.COVERAGE_MEASURES]
    before = await figures.totals_before(conn, union.union_id, measures, period.start)
    by_month: dict[date, dict[str, int]] = defaultdict(dict)
    for f in await figures.flows(conn, union.union_id, measures, period.start, period.end):
        by_month[f.month][f.measure] = by_month[f.month].get(f.measure, 0) + f.amount
    ends = cov.month_ends(before, by_month, months)
    trend = ReportTable(
        "coverage_by_month",
        "建会率与入会率(每月末)",
        (
            Column("month", "月份", ColumnKind.MONTH),
            *_COVERAGE_COLUMNS,
        ),
        tuple(
            {
                "month": month_text(e.month),
                **_coverage_figures(
                    e.members, e.employers_should, e.employers_with_union, e.workforce_covered
                ),
            }
            for e in ends
        ),
    )
    rates = ReportTable(
        "rates_by_month",
        "建会率与入会率走势",
        (
            Column("month", "月份", ColumnKind.MONTH),
            Column("series", "指标", ColumnKind.TEXT),
            Column("rate", "比率", ColumnKind.RATE),
        ),
        tuple(
            {"month": r["month"], "series": label, "rate": r[key]}
            for r in trend.rows
            for key, label in (("founding_rate", "建会率"), ("enrollment_rate", "入会率"))
        ),
    )
    charts = (
        ChartSpec("founding_rate", "建会率", "coverage_by_union", ChartKind.BAR, "union", "founding_rate"),
        ChartSpec(
            "enrollment_rate", "入会率", "coverage_by_union", ChartKind.BAR, "union", "enrollment_rate"
        ),
        ChartSpec(
            "rates_by_month",
            "建会率与入会率走势(每月末)",
            "rates_by_month",
            ChartKind.LINE,
            "month",
            "rate",
            "series",
        ),
    )
    return (table, trend, rates), charts


_TIER_ORDER = [t.value for t in Tier]
NOT_YET_TIERED = "待核实"


def _tier_label(tier: str | None) -> str:
    return NOT_YET_TIERED if tier is None else lb.label(lb.TIERS, tier)


async def _relief(conn: Conn, union: UnionInfo, period: Period) -> Built:
    root = union.union_id
    by_tier = await figures.relief_by_tier(conn, root)
    tiers = ReportTable(
        "households_by_tier",
        "在册困难职工户数(按困难类别)",
        (Column("tier", "困难类别", ColumnKind.TEXT), Column("households", "户数")),
        tuple(
            {"tier": _tier_label(t), "households": by_tier.get(t, 0)}
            for t in [*_TIER_ORDER, None]
            if by_tier.get(t)
        ),
    )
    causes = ReportTable(
        "households_by_cause",
        "在册困难职工户数(按致困原因)",
        (
            Column("cause", "致困原因", ColumnKind.TEXT),
            Column("tier", "困难类别", ColumnKind.TEXT),
            Column("households", "户数"),
        ),
        tuple(
            {"cause": lb.label(lb.CAUSES, c), "tier": _tier_label(t), "households": n}
            for t, c, n in await figures.relief_households(conn, root)
        ),
    )
    flows = await figures.flows(
        conn, root, [m.AID_PAID, m.CASES_OPENED, m.PROGRAMME_PAID], period.start, period.end
    )
    budgets = await figures.budgets(conn, root, years_of(period))
    paid: dict[str, int] = defaultdict(int)
    for f in flows:
        if f.measure == m.AID_PAID:
            paid[f.dim] += f.amount
    aid = ReportTable(
        "aid_by_type",
        "帮扶资金支出与预算(按帮扶类型)",
        (
            Column("aid_type", "帮扶类型", ColumnKind.TEXT),
            Column("paid", "已支出", ColumnKind.MONEY),
            Column("budget", "预算", ColumnKind.MONEY),
            Column("used_rate", "预算执行率", ColumnKind.RATE),
        ),
        tuple(
            {
                "aid_type": lb.label(lb.AID_TYPES, a.value),
                "paid": paid.get(a.value, 0),
                "budget": budgets.get(a.value, 0),
                "used_rate": rate(paid.get(a.value, 0), budgets.get(a.value, 0)),
            }
            for a in AidType
            if paid.get(a.value) or budgets.get(a.value)
        ),
    )
    long = ReportTable(
        "aid_vs_budget",
        "帮扶资金:已支出与预算",
        (
            Column("aid_type", "帮扶类型", ColumnKind.TEXT),
            Column("series", "项目", ColumnKind.TEXT),
            Column("amount", "金额", ColumnKind.MONEY),
        ),
        tuple(
            row
            for r in aid.rows
            for row in (
                {"aid_type": r["aid_type"], "series": "已支出", "amount": r["paid"]},
                {"aid_type": r["aid_type"], "series": "预算", "amount": r["budget"]},
            )
        ),
    )
    monthly = ReportTable(
        "aid_by_month",
        "每月帮扶资金与新建档案",
        (
            Column("month", "月份", ColumnKind.MONTH),
            Column("paid", "帮扶资金", ColumnKind.MONEY),
            Column("cases_opened", "新受理困难申报"),
        ),
        tuple(
            {**p, **c}
            for p, c in zip(
                _per_month(flows, period, {"paid": m.AID_PAID}, amount=True),
                _per_month(flows, period, {"cases_opened": m.CASES_OPENED}),
                strict=True,
            )
        ),
    )
    charts = (
        ChartSpec(
            "households_by_tier",
            "困难职工户数(按困难类别)",
            "households_by_tier",
            ChartKind.BAR,
            "tier",
            "households",
        ),
        ChartSpec(
            "households_by_cause",
            "困难职工户数(按致困原因)",
            "households_by_cause",
            ChartKind.STACKED_BAR,
            "cause",
            "households",
            "tier",
        ),
        ChartSpec(
            "aid_vs_budget",
            "帮扶资金:已支出与预算",
            "aid_vs_budget",
            ChartKind.GROUPED_BAR,
            "aid_type",
            "amount",
            "series",
        ),
        ChartSpec("aid_by_month", "每月帮扶资金", "aid_by_month", ChartKind.LINE, "month", "paid"),
    )
    return (tiers, causes, aid, long, monthly, _programmes(flows)), charts


def _programmes(flows: list[figures.Flow]) -> ReportTable:
    """送温暖 and 金秋助学 over the period: recipients and money by programme and group."""
    reached: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for f in flows:
        if f.measure == m.PROGRAMME_PAID:
            programme, _, group = f.dim.partition("/")
            reached[(programme, group)][0] += f.count
            reached[(programme, group)][1] += f.amount
    return ReportTable(
        "programmes",
        "送温暖与金秋助学(按项目与类别)",
        (
            Column("programme", "项目", ColumnKind.TEXT),
            Column("group", "类别", ColumnKind.TEXT),
            Column("recipients", "受助户(家)数"),
            Column("paid", "金额", ColumnKind.MONEY),
        ),
        tuple(
            {
                "programme": lb.label(lb.PROGRAMMES, programme),
                "group": lb.label(lb.PROGRAMME_GROUPS, group),
                "recipients": n,
                "paid": paid,
            }
            for (programme, group), (n, paid) in sorted(reached.items())
        ),
    )


async def _legal(conn: Conn, union: UnionInfo, period: Period) -> Built:
    root = union.union_id
    stages = await figures.disputes_by_stage(conn, root)
    by_stage = ReportTable(
        "disputes_by_stage",
        "维权案件(按当前阶段)",
        (Column("stage", "阶段", ColumnKind.TEXT), Column("cases", "案件数")),
        tuple(
            {"stage": lb.label(lb.STAGES, s.value), "cases": stages[s.value]}
            for s in Stage
            if stages.get(s.value)
        ),
    )
    measures = [
        m.DISPUTES_FILED,
        m.DISPUTES_CLOSED,
        m.RECOVERED,
        m.MEDIATIONS,
        m.LETTERS_SENT,
        m.LETTERS_ANSWERED,
    ]
    flows = await figures.flows(conn, root, measures, period.start, period.end)
    per: dict[tuple[str, str], int] = defaultdict(int)
    for f in flows:
        per[(f.measure, f.dim)] += f.amount if f.measure == m.RECOVERED else f.count
    outcomes = ReportTable(
        "outcomes",
        "结案情况(按结果)",
        (
            Column("outcome", "结果", ColumnKind.TEXT),
            Column("cases", "结案数"),
            Column("recovered", "挽回经济损失", ColumnKind.MONEY),
        ),
        tuple(
            {
                "outcome": lb.label(lb.OUTCOMES, o.value),
                "cases": per[(m.DISPUTES_CLOSED, o.value)],
                "recovered": per[(m.RECOVERED, o.value)],
            }
            for o in Outcome
            if per.get((m.DISPUTES_CLOSED, o.value))
        ),
    )
    mediation = ReportTable(
        "mediation",
        "调解结果",
        (Column("outcome", "调解结果", ColumnKind.TEXT), Column("cases", "件数")),
        tuple({"outcome": o.label, "cases": per[(m.MEDIATIONS, o.value)]} for o in MediationOutcome),
    )
    sent = sum(n for (measure, _), n in per.items() if measure == m.LETTERS_SENT)
    letters = ReportTable(
        "supervision",
        "劳动法律监督函",
        (Column("item", "项目", ColumnKind.TEXT), Column("count", "件数")),
        (
            {"item": "已发出", "count": sent},
            {
                "item": "已回复",
                "count": per[(m.LETTERS_ANSWERED, "rectified")] + per[(m.LETTERS_ANSWERED, "not_rectified")],
            },
            {"item": "已整改", "count": per[(m.LETTERS_ANSWERED, "rectified")]},
        ),
    )
    monthly = ReportTable(
        "disputes_by_month",
        "每月新收与结案",
        (Column("month", "月份", ColumnKind.MONTH), Column("filed", "新收案件"), Column("closed", "结案")),
        tuple(_per_month(flows, period, {"filed": m.DISPUTES_FILED, "closed": m.DISPUTES_CLOSED})),
    )
    charts = (
        ChartSpec(
            "disputes_by_stage", "维权案件(按阶段)", "disputes_by_stage", ChartKind.BAR, "stage", "cases"
        ),
        ChartSpec("mediation", "调解结果", "mediation", ChartKind.BAR, "outcome", "cases"),
        ChartSpec("filed_by_month", "每月新收案件", "disputes_by_month", ChartKind.LINE, "month", "filed"),
    )
    mediated = sum(per[(m.MEDIATIONS, o.value)] for o in MediationOutcome)
    answered = per[(m.LETTERS_ANSWERED, "rectified")] + per[(m.LETTERS_ANSWERED, "not_rectified")]
    rates = ReportTable(
        "rates",
        "调解成功率与监督函回复率",
        (
            Column("item", "指标", ColumnKind.TEXT),
            Column("numerator", "件数"),
            Column("denominator", "基数"),
            Column("rate", "比率", ColumnKind.RATE),
        ),
        tuple(
            {"item": item, "numerator": n, "denominator": d, "rate": rate(n, d)}
            for item, n, d in (
                # Mediations that ended in the period: those that reached an agreement.
                ("调解成功率", per[(m.MEDIATIONS, MediationOutcome.AGREEMENT.value)], mediated),
                # Letters sent in the period: answered at all, and answered with things put right
                # (整改回复率, the figure the reports name).
                ("监督函回复率", answered, sent),
                ("整改回复率", per[(m.LETTERS_ANSWERED, "rectified")], sent),
            )
        ),
    )
    return (by_stage, outcomes, mediation, letters, rates, monthly), charts


async def _competitions(conn: Conn, union: UnionInfo, period: Period) -> Built:
    measures = {
        "entries": m.ENTRIES,
        "withdrawn": m.ENTRIES_WITHDRAWN,
        "awards": m.AWARDS,
        "ideas_adopted": m.IDEAS_ADOPTED,
    }
    flows = await figures.flows(conn, union.union_id, list(measures.values()), period.start, period.end)
    per: dict[tuple[str, str], int] = defaultdict(int)
    for f in flows:
        per[(f.measure, f.dim)] += f.count
    kinds = sorted({dim for _, dim in per})
    by_kind = ReportTable(
        "by_kind",
        "竞赛参与和获奖(按竞赛类别)",
        (
            Column("kind", "竞赛类别", ColumnKind.TEXT),
            Column("entries", "报名"),
            Column("withdrawn", "退赛"),
            Column("awards", "获奖"),
            Column("ideas_adopted", "金点子采纳"),
        ),
        tuple(
            {"kind": lb.label(lb.COMPETITION_KINDS, k), **{key: per[(ms, k)] for key, ms in measures.items()}}
            for k in kinds
        ),
    )
    monthly = ReportTable(
        "by_month",
        "每月报名与获奖",
        (Column("month", "月份", ColumnKind.MONTH), Column("entries", "报名"), Column("awards", "获奖")),
        tuple(_per_month(flows, period, {"entries": m.ENTRIES, "awards": m.AWARDS})),
    )
    charts = (
        ChartSpec("entries_by_kind", "各类竞赛报名人次", "by_kind", ChartKind.BAR, "kind", "entries"),
        ChartSpec("entries_by_month", "每月报名人次", "by_month", ChartKind.LINE, "month", "entries"),
    )
    return (by_kind, monthly), charts


async def _offers(conn: Conn, union: UnionInfo, period: Period) -> Built:
    flows = await figures.flows(conn, union.union_id, [m.REDEMPTIONS], period.start, period.end)
    per_partner: dict[str, int] = defaultdict(int)
    for f in flows:
        per_partner[f.dim] += f.count
    monthly = ReportTable(
        "redemptions_by_month",
        "每月优惠使用次数",
        (Column("month", "月份", ColumnKind.MONTH), Column("redemptions", "使用次数")),
        tuple(_per_month(flows, period, {"redemptions": m.REDEMPTIONS})),
    )
    partners = ReportTable(
        "redemptions_by_partner",
        "优惠使用次数(按合作商家)",
        (Column("partner", "合作商家", ColumnKind.TEXT), Column("redemptions", "使用次数")),
        tuple({"partner": p, "redemptions": n} for p, n in sorted(per_partner.items())),
    )
    charts = (
        ChartSpec(
            "redemptions_by_month",
            "每月优惠使用次数",
            "redemptions_by_month",
            ChartKind.LINE,
            "month",
            "redemptions",
        ),
        ChartSpec(
            "redemptions_by_partner",
            "各合作商家使用次数",
            "redemptions_by_partner",
            ChartKind.BAR,
            "partner",
            "redemptions",
        ),
    )
    return (monthly, partners), charts


BUILDERS: dict[str, Builder] = {
    "membership": _membership,
    "coverage": _coverage,
    "relief": _relief,
    "legal": _legal,
    "competitions": _competitions,
    "offers": _offers,
}
