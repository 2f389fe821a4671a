"""What the card says in words: every status, stage and deadline code in plain Chinese, with the
next step where there is one for the member. Members never read a raw code like `in_disclosure`."""

from dataclasses import dataclass

from shared.contracts.enrollment import MembershipStatus
from shared.contracts.legal import DISPUTE_KIND_LABELS, DeadlineName, Outcome, Stage
from shared.contracts.relief import TIER_LABELS, AidType, CaseStatus
from shared.contracts.relief_programmes import PROGRAMME_LABELS


@dataclass(frozen=True)
class Said:
    label: str
    next_step: str | None = None


MEMBERSHIP: dict[str, Said] = {
    MembershipStatus.ACTIVE: Said("在会", None),
    MembershipStatus.LEFT: Said("已离会", "重新申请入会即可恢复会籍，会员号与卡号保持不变"),
}

APPLICATION: dict[str, Said] = {
    "pending": Said("审核中", "工会正在审核，无需操作"),
    "approved": Said("已通过", None),
    "rejected": Said("未通过", "请按未通过原因修改后重新申请，或联系所选工会"),
}

RELIEF: dict[str, Said] = {
    CaseStatus.REPORTED: Said("已受理", "工会将安排入户走访核实"),
    CaseStatus.VERIFICATION_REQUESTED: Said("走访完成，等待核实确认", "无需操作，等待工会审批"),
    CaseStatus.VERIFIED: Said("已核实", "工会将进行公示"),
    CaseStatus.DECLINED: Said("未纳入帮扶", "如情况变化，可重新申请困难帮扶"),
    CaseStatus.IN_DISCLOSURE: Said("公示中", "公示期满无异议后建档"),
    CaseStatus.PLAN_REQUESTED: Said("帮扶方案审批中", "无需操作，等待工会审批"),
    CaseStatus.IN_REGISTER: Said("已建档，享受帮扶", "每年复核一次，家庭情况变化请告知工会"),
    CaseStatus.EXIT_REQUESTED: Said("脱困退出审批中", "无需操作"),
    CaseStatus.EXITED: Said("已脱困", "如再遇困难，可重新申请"),
    CaseStatus.SUSPENDED: Said("已暂停（已离会）", "恢复会籍后可联系工会恢复帮扶"),
    CaseStatus.WITHDRAWN: Said("已撤销", None),
}

TIER: dict[str, str] = TIER_LABELS

STAGE: dict[str, Said] = {
    Stage.INTAKE: Said("已登记，待受理", "工会将在受理后联系你"),
    Stage.CONSULTATION: Said("法律咨询", "请按约定时间与法律援助人员沟通"),
    Stage.MEDIATION: Said("调解中", "请配合调解，保留好工资条、合同等证据"),
    Stage.ARBITRATION: Said("劳动仲裁中", "请按仲裁委通知出庭"),
    Stage.LITIGATION: Said("诉讼中", "请按法院通知参加庭审"),
    Stage.CLOSED: Said("已结案", None),
}

OUTCOME: dict[str, str] = {
    Outcome.SETTLED: "已调解解决",
    Outcome.AWARD_WON: "仲裁胜诉",
    Outcome.AWARD_LOST: "仲裁败诉",
    Outcome.WITHDRAWN: "已撤回",
    Outcome.ADVICE_GIVEN: "已提供法律咨询",
    Outcome.REJECTED: "未受理（已转介）",
}

DEADLINE: dict[str, str] = {
    DeadlineName.ARBITRATION_LIMIT: "申请劳动仲裁的时效截止",
    DeadlineName.MEDIATION_WINDOW: "调解期满（未解决可申请仲裁）",
    DeadlineName.AWARD_DUE: "仲裁裁决期限",
    DeadlineName.SUIT_LIMIT: "起诉期限（裁决后15日内）",
    DeadlineName.OPINION_REPLY: "用人单位答复意见书期限",
    DeadlineName.INSPECTION_RESPONSE: "劳动监察立案期限",
}

DISPUTE_KIND: dict[str, str] = DISPUTE_KIND_LABELS


AID_TYPE: dict[str, str] = {
    AidType.CONSOLATION: "送温暖慰问金",
    AidType.TUITION: "金秋助学金",
    AidType.MEDICAL: "医疗救助金",
    AidType.MICRO_LOAN: "小额贷款",
    AidType.JOB_HELP: "就业帮扶",
    AidType.COUNSELLING: "心理咨询",
}


# 送温暖, 金秋助学; a programme the card does not know yet reads as aid from the union, never raw.
PROGRAMME: dict[str, str] = PROGRAMME_LABELS
UNKNOWN_PROGRAMME = "工会帮扶"


def said(table: dict[str, Said], code: str) -> Said:
    """The words for a code; a code the card does not know yet reads as pending, never raw."""
    return table.get(code) or Said("处理中", None)


def word(table: dict[str, str], code: str | None) -> str | None:
    return None if code is None else table.get(code, "处理中")
