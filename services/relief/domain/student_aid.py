"""金秋助学 (autumn student aid): pure rules, no I/O.

Each summer a union opens a window; a member (or a cadre for them) applies for a child admitted
to university or vocational school. The household is eligible when it is in the relief register,
or else when the relief rules (eligibility.assess, the cause being the child's schooling) say
so. The amount depends on the school type; one grant per student per academic year (the
student's ID number, reduced to a keyed hash, is the key). An approved application is disclosed
publicly with masked names; an upheld objection declines it; when the disclosure ends with no
objection waiting, it is approved, then paid from a tuition budget.
"""

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.relief.domain.aid import MAX_DISBURSEMENT_FEN, require_same_request
from services.relief.domain.disclosure import public_name
from services.relief.domain.eligibility import Eligibility, assess
from services.relief.domain.intake import Cause, Household, validate_household
from services.relief.domain.tiers import ReliefPolicy
from shared.contracts.relief_programmes import SCHOOL_TYPE_LABELS, SchoolType
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.national_id import InvalidNationalId, normalize_national_id
from shared.transitions import Transitions

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_WINDOW_DAYS = 366
DEFAULT_DISCLOSURE_DAYS = 5
MAX_DISCLOSURE_DAYS = 30
# How long before the academic year a student may have been admitted (a bachelor in year 4,
# a master after a gap): older admissions are a typo.
MAX_YEARS_IN_SCHOOL = 8


# Windows ----------------------------------------------------------------------------------------


class WindowStatus(StrEnum):
    SCHEDULED = "scheduled"  # not open yet
    OPEN = "open"  # applications are taken
    CLOSED = "closed"  # its time passed (the durable timer closes it)


WINDOW_STATUS_LABELS: dict[str, str] = {
    WindowStatus.SCHEDULED: "未开始",
    WindowStatus.OPEN: "申请中",
    WindowStatus.CLOSED: "已截止",
}


def window_title(academic_year: int) -> str:
    return f"{academic_year}年金秋助学"


def check_academic_year(year: int) -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(f"学年须在 {MIN_YEAR} 至 {MAX_YEAR} 之间")
    return year


def check_window_times(opens_at: datetime, closes_at: datetime) -> tuple[datetime, datetime]:
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise InvalidInput("开始和截止时间须带时区 (如 2027-07-01T00:00:00+08:00)")
    if closes_at <= opens_at:
        raise InvalidInput("截止时间须晚于开始时间")
    if closes_at - opens_at > timedelta(days=MAX_WINDOW_DAYS):
        raise InvalidInput(f"申请期最长 {MAX_WINDOW_DAYS} 天")
    return opens_at, closes_at


def check_amounts(amounts: Mapping[SchoolType, int]) -> dict[SchoolType, int]:
    """Fen per student for each school type the window funds; at least one, each positive."""
    if not amounts:
        raise InvalidInput("至少为一种学校类型设定资助金额")
    for school_type, fen in amounts.items():
        if not 0 < fen <= MAX_DISBURSEMENT_FEN:
            raise InvalidInput(
                f"{SCHOOL_TYPE_LABELS[school_type]}的资助金额须为 1 至 {MAX_DISBURSEMENT_FEN} 分"
            )
    return {t: amounts[t] for t in SchoolType if t in amounts}


def check_disclosure_days(days: int | None) -> int:
    chosen = DEFAULT_DISCLOSURE_DAYS if days is None else days
    if not 1 <= chosen <= MAX_DISCLOSURE_DAYS:
        raise InvalidInput(f"公示期须为 1 至 {MAX_DISCLOSURE_DAYS} 天")
    return chosen


def window_status(
    now: datetime, opens_at: datetime, closes_at: datetime, closed_at: datetime | None
) -> WindowStatus:
    """By time, and closed for good once the timer closed it."""
    if closed_at is not None or now >= closes_at:
        return WindowStatus.CLOSED
    return WindowStatus.OPEN if now >= opens_at else WindowStatus.SCHEDULED


def require_window_open(status: WindowStatus, opens_at: datetime, closes_at: datetime) -> None:
    if status is WindowStatus.SCHEDULED:
        raise Conflict(f"申请尚未开始, 开始时间 {opens_at.isoformat()}", window_status=status.value)
    if status is WindowStatus.CLOSED:
        raise Conflict(f"申请已截止 ({closes_at.isoformat()})", window_status=status.value)


def amount_for(amounts: Mapping[SchoolType, int], school_type: SchoolType) -> int:
    if school_type not in amounts:
        funded = "、".join(SCHOOL_TYPE_LABELS[t] for t in amounts) or "无"
        raise Conflict(f"本次金秋助学不资助{SCHOOL_TYPE_LABELS[school_type]}学生 (资助: {funded})")
    return amounts[school_type]


# The student ----------------------------------------------------------------------------------


def student_id(raw: str, today: date) -> str:
    """The student's ID number in canonical form (18 characters, GB 11643 check digit). The
    refusal never quotes the number."""
    try:
        return normalize_national_id(raw, today)
    except InvalidNationalId as exc:
        raise InvalidInput(f"学生身份证号无效 ({exc.reason})") from exc


def student_key(national_id: str) -> str:
    """What the keyed hash is taken of: prefixed, so it never equals another kind of value's."""
    return f"student-aid-student:{national_id}"


def check_admission_year(admission_year: int, academic_year: int) -> int:
    if not academic_year - MAX_YEARS_IN_SCHOOL <= admission_year <= academic_year:
        raise InvalidInput(f"入学年份须在 {academic_year - MAX_YEARS_IN_SCHOOL} 至 {academic_year} 之间")
    return admission_year


def clean(value: str, what: str, *, limit: int, required: bool = True) -> str:
    cleaned = value.strip()
    if required and not cleaned:
        raise InvalidInput(f"请填写{what}")
    if len(cleaned) > limit:
        raise InvalidInput(f"{what}最多 {limit} 个字")
    return cleaned


def masked(name: str) -> str:
    """The public-disclosure style of relief's own disclosures (张*三)."""
    return public_name(name) if name else ""


# Eligibility ----------------------------------------------------------------------------------


class EligibleBy(StrEnum):
    REGISTER = "register"  # the household is in the relief register
    ASSESSMENT = "assessment"  # not in the register: the relief rules on the household's figures


ELIGIBLE_BY_LABELS: dict[str, str] = {
    EligibleBy.REGISTER: "困难职工档案",
    EligibleBy.ASSESSMENT: "按帮扶标准认定",
}

# The cause the relief rules weigh for student aid: the child's schooling (因学).
STUDENT_AID_CAUSES = (Cause.SCHOOLING,)


def assess_household(
    household: Household, *, member_active: bool, line_fen: int, policy: ReliefPolicy
) -> Eligibility:
    """The relief rules themselves (eligibility.assess), with schooling as the cause."""
    return assess(
        member_active=member_active,
        household=validate_household(household.size, household.monthly_income_fen),
        causes=STUDENT_AID_CAUSES,
        line_fen=line_fen,
        policy=policy,
        override=None,
    )


def eligible_by(
    *,
    member_active: bool,
    in_register: bool,
    household: Household | None,
    line_fen: int,
    policy: ReliefPolicy,
) -> EligibleBy:
    """Why the application is eligible, or a 409 saying why not."""
    if not member_active:
        raise Conflict("只有在册会员可以申请金秋助学")
    if in_register:
        return EligibleBy.REGISTER
    if household is None:
        raise Conflict("家庭不在困难职工档案中: 请填写家庭月收入和人口, 按帮扶标准认定")
    result = assess_household(household, member_active=member_active, line_fen=line_fen, policy=policy)
    if not result.eligible:
        raise Conflict(
            "不符合金秋助学条件: 家庭不在困难职工档案中, 按帮扶标准认定也不符合 "
            f"(人均月收入 {household.per_capita_fen / 100:.2f} 元, 低保线 {line_fen / 100:.2f} 元)",
            failing=result.failing,
        )
    return EligibleBy.ASSESSMENT


def require_not_aided(already: bool, academic_year: int) -> None:
    """Once per student per academic year (the unique index is the guard; this is the reason)."""
    if already:
        raise Conflict(f"该学生 {academic_year} 学年已申请或已获金秋助学资助")


# Applications ---------------------------------------------------------------------------------


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"  # waits for review
    IN_DISCLOSURE = "in_disclosure"  # approved on review: 公示, objections taken
    APPROVED = "approved"  # the disclosure ended with no upheld objection: to be paid
    DECLINED = "declined"  # on review, or an objection upheld
    PAID = "paid"


APPLICATION_STATUS_LABELS: dict[str, str] = {
    ApplicationStatus.SUBMITTED: "待审核",
    ApplicationStatus.IN_DISCLOSURE: "公示中",
    ApplicationStatus.APPROVED: "已批准",
    ApplicationStatus.DECLINED: "未通过",
    ApplicationStatus.PAID: "已发放",
}

# An application that counts for "once per student per academic year".
LIVE = frozenset(s for s in ApplicationStatus if s is not ApplicationStatus.DECLINED)


class Step(StrEnum):
    APPROVE_REVIEW = "approve_review"
    DECLINE_REVIEW = "decline_review"
    OBJECT = "object"
    UPHOLD_OBJECTION = "uphold_objection"
    END_DISCLOSURE = "end_disclosure"
    PAY = "pay"


APPLICATION_MOVES: Transitions[ApplicationStatus, Step] = Transitions(
    {
        (ApplicationStatus.SUBMITTED, Step.APPROVE_REVIEW): ApplicationStatus.IN_DISCLOSURE,
        (ApplicationStatus.SUBMITTED, Step.DECLINE_REVIEW): ApplicationStatus.DECLINED,
        (ApplicationStatus.IN_DISCLOSURE, Step.OBJECT): ApplicationStatus.IN_DISCLOSURE,
        (ApplicationStatus.IN_DISCLOSURE, Step.UPHOLD_OBJECTION): ApplicationStatus.DECLINED,
        (ApplicationStatus.IN_DISCLOSURE, Step.END_DISCLOSURE): ApplicationStatus.APPROVED,
        (ApplicationStatus.APPROVED, Step.PAY): ApplicationStatus.PAID,
    },
    {
        Step.APPROVE_REVIEW: "只有待审核的申请可以审核",
        Step.DECLINE_REVIEW: "只有待审核的申请可以审核",
        Step.OBJECT: "只有公示中的申请可以提出异议",
        Step.UPHOLD_OBJECTION: "只有公示中的申请可以因异议成立而不予通过",
        Step.END_DISCLOSURE: "只有公示中的申请可以结束公示",
        Step.PAY: "只有已批准的申请可以发放",
    },
    APPLICATION_STATUS_LABELS,
)


def next_status(status: ApplicationStatus, step: Step) -> ApplicationStatus:
    return APPLICATION_MOVES.next(status, step)


def require_other_reviewer(filed_by: str, reviewer: str) -> None:
    """Four eyes: the cadre who filed an application for a member does not review it."""
    if filed_by == reviewer:
        raise Forbidden("同一人不能既代为申请又审核(四眼原则)")


def review_reason(approve: bool, reason: str) -> str:
    cleaned = clean(reason, "理由", limit=1000, required=not approve)
    return cleaned


def disclosure_end(start: datetime, days: int) -> datetime:
    return start + timedelta(days=days)


class AfterDisclosure(StrEnum):
    APPROVE = "approve"
    WAIT = "wait"  # an objection waits for its answer: the answer decides
    NOTHING = "nothing"  # not in disclosure any more (declined by an upheld objection)


def after_disclosure(
    status: ApplicationStatus, now: datetime, ends_at: datetime | None, unanswered: int
) -> AfterDisclosure:
    """What ending (or an answer after the end of) the disclosure does."""
    if status is not ApplicationStatus.IN_DISCLOSURE or ends_at is None:
        return AfterDisclosure.NOTHING
    if now < ends_at or unanswered:
        return AfterDisclosure.WAIT
    return AfterDisclosure.APPROVE


def require_disclosure_running(now: datetime, ends_at: datetime | None) -> None:
    if ends_at is None or now >= ends_at:
        raise Conflict("公示期已结束, 不再受理异议")


def require_unanswered(answered_at: datetime | None) -> None:
    if answered_at is not None:
        raise Conflict("该异议已答复")


# Evidence -------------------------------------------------------------------------------------


MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
}
EVIDENCE_TYPES = tuple(_MAGIC)
EVIDENCE_TYPE_LABELS = {"image/jpeg": "JPEG 图片", "image/png": "PNG 图片", "application/pdf": "PDF 文件"}


@dataclass(frozen=True)
class Evidence:
    file_name: str
    content_type: str
    size: int
    sha256: bytes


def evidence_type(content_type: str | None) -> str:
    """The media type without parameters; refused unless jpeg, png or pdf."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "image/jpg":
        media = "image/jpeg"
    if media not in _MAGIC:
        raise InvalidInput("录取通知书请上传 JPEG、PNG 图片或 PDF 文件")
    return media


def sniff(data: bytes) -> str | None:
    """The type the bytes themselves say, or None."""
    return next((t for t, magics in _MAGIC.items() if any(data.startswith(m) for m in magics)), None)


def check_evidence(file_name: str, content_type: str | None, data: bytes) -> Evidence:
    media = evidence_type(content_type)
    name = clean(file_name, "文件名", limit=200)
    if any(c in name for c in "/\\") or name in (".", ".."):
        raise InvalidInput("文件名不能包含路径")
    if not data:
        raise InvalidInput("文件是空的")
    if len(data) > MAX_EVIDENCE_BYTES:
        raise InvalidInput(f"文件最大 {MAX_EVIDENCE_BYTES // (1024 * 1024)} MiB")
    found = sniff(data)
    if found != media:
        said = EVIDENCE_TYPE_LABELS[media]
        content = f"是{EVIDENCE_TYPE_LABELS[found]}" if found else "无法识别"
        raise InvalidInput(f"文件内容与类型不符: 声明为{said}, 内容{content}")
    return Evidence(name, media, len(data), hashlib.sha256(data).digest())


# Payment --------------------------------------------------------------------------------------


def payment_fingerprint(application_id: uuid.UUID, budget_union_id: uuid.UUID | None) -> bytes:
    """Identifies what was asked, so the same Idempotency-Key with another request is told apart."""
    canonical = json.dumps(
        ["student_aid", str(application_id), str(budget_union_id or "")], separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).digest()


def same_request(stored: bytes, presented: bytes) -> None:
    try:
        require_same_request(stored, presented)
    except Conflict as exc:
        raise Conflict(f"该 Idempotency-Key 已用于另一笔发放 ({exc.reason})") from exc


def require_budget_union(budget_union_id: uuid.UUID, union_path: list[uuid.UUID]) -> None:
    """Paid from the tuition budget of the member's union or of one above it."""
    if budget_union_id not in union_path:
        raise InvalidInput("只能从会员所在工会或其上级工会的助学预算中发放")
