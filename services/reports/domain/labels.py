"""Chinese labels for the codes the figures are grouped by (readers never see a raw code)."""

from collections.abc import Mapping

from shared.contracts.competitions import CompetitionKind
from shared.contracts.enrollment import UnionKind
from shared.contracts.legal import DISPUTE_KIND_LABELS, MediationOutcome, Outcome, Stage
from shared.contracts.relief import TIER_LABELS, AidType
from shared.contracts.relief_programmes import PROGRAMME_LABELS, RECIPIENT_GROUP_LABELS, SCHOOL_TYPE_LABELS

UNKNOWN = "未知"

TIERS: dict[str, str] = TIER_LABELS
CAUSES = {
    "illness": "因病",
    "disaster": "因灾",
    "children_schooling": "因学",
    "disability": "因残",
    "single_parent": "单亲",
    "accident": "意外",
    "unemployment": "失业",
}
AID_TYPES: dict[str, str] = {
    AidType.CONSOLATION: "送温暖",
    AidType.TUITION: "金秋助学",
    AidType.MEDICAL: "医疗救助",
    AidType.MICRO_LOAN: "小额贷款",
    AidType.JOB_HELP: "就业帮扶",
    AidType.COUNSELLING: "心理咨询",
}
PROGRAMMES: dict[str, str] = PROGRAMME_LABELS
# A programme's groups: a campaign's recipient groups, student aid's school types.
PROGRAMME_GROUPS: dict[str, str] = {**RECIPIENT_GROUP_LABELS, **SCHOOL_TYPE_LABELS}
STAGES: dict[str, str] = {
    Stage.INTAKE: "受理",
    Stage.CONSULTATION: "咨询",
    Stage.MEDIATION: "调解",
    Stage.ARBITRATION: "仲裁",
    Stage.LITIGATION: "诉讼",
    Stage.CLOSED: "已结案",
}
OUTCOMES: dict[str, str] = {
    Outcome.SETTLED: "和解",
    Outcome.AWARD_WON: "胜诉/仲裁支持",
    Outcome.AWARD_LOST: "未获支持",
    Outcome.WITHDRAWN: "撤回",
    Outcome.ADVICE_GIVEN: "咨询办结",
    Outcome.REJECTED: "不予受理",
}
MEDIATION = {m.value: m.label for m in MediationOutcome}
DISPUTE_KINDS: dict[str, str] = DISPUTE_KIND_LABELS
COMPETITION_KINDS: dict[str, str] = {
    CompetitionKind.LABOUR: "劳动竞赛",
    CompetitionKind.SKILLS: "技能竞赛",
    CompetitionKind.GOLDEN_IDEAS: "金点子",
    CompetitionKind.TEAM_TITLE: "先进集体创建",
}
UNION_KINDS: dict[str, str] = {
    UnionKind.NATIONAL: "全国总工会",
    UnionKind.PROVINCE: "省总工会",
    UnionKind.CITY: "市总工会",
    UnionKind.COUNTY: "县(区)总工会",
    UnionKind.TOWNSHIP: "乡镇(街道)工会",
    UnionKind.BASE: "基层工会",
    UnionKind.BRANCH: "分工会",
    UnionKind.GROUP: "工会小组",
}


def label(table: Mapping[str, str], code: str | None) -> str:
    """The label of a code; 未知 for none, the code itself for one added since (never empty)."""
    if code is None:
        return UNKNOWN
    return table.get(code, code)
