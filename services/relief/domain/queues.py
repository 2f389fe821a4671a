"""What puts a relief case in a cadre's work queue, and what the item offers: pure rules.

- approvals: a step (verification, plan, exit) requested and awaiting a decision; the cadre who
  requested it sees it too, but may not decide it (four eyes).
- disclosures: a disclosure window ending within DISCLOSURE_SOON_DAYS (or ended, the plan not yet
  requested), and every objection awaiting an answer.
- reverifications: files in the register due for the yearly re-verification within
  REVIEW_AHEAD_DAYS (overdue first).
- programmes: 送温暖 lists submitted for approval (the submitter may not approve), 金秋助学
  applications awaiting review (the cadre who filed one may not review it) and objections to a
  disclosed application awaiting an answer. The four-eyes refusals are the handlers' own rules
  (domain/campaigns.py, domain/student_aid.py), asked here rather than restated."""

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta

from services.relief.domain.campaigns import closes_at, require_four_eyes, yuan
from services.relief.domain.disclosure import public_name
from services.relief.domain.intake import Cause
from services.relief.domain.student_aid import masked, require_other_reviewer
from shared.contracts.relief import AidType, ApprovalStep
from shared.contracts.relief_programmes import SCHOOL_TYPE_LABELS, SchoolType
from shared.errors import Forbidden
from shared.queues import QueueAction, QueueItem, end_of_day

FOUR_EYES = "同一人不能既申请又审批(四眼原则)"
DISCLOSURE_SOON_DAYS = 3
REVIEW_AHEAD_DAYS = 30

STEP_LABEL = {
    ApprovalStep.VERIFICATION: "核实确认",
    ApprovalStep.PLAN: "帮扶方案(建档)",
    ApprovalStep.EXIT: "脱困退出",
}
AID_CHOICES = "|".join(a.value for a in AidType)
CAUSE_CHOICES = "|".join(c.value for c in Cause)


def four_eyes(requested_by: str, actor: str) -> tuple[bool, str | None]:
    """Whether the caller may decide a step, and why not: nobody decides their own request."""
    return (False, FOUR_EYES) if requested_by == actor else (True, None)


def approval_item(
    *,
    case_id: uuid.UUID,
    union_id: uuid.UUID,
    member_name: str,
    step: ApprovalStep,
    requested_at: datetime,
    requested_by: str,
    actor: str,
) -> QueueItem:
    can_act, blocked = four_eyes(requested_by, actor)
    base = f"/cases/{case_id}/steps/{step.value}"
    label = STEP_LABEL[step]
    return QueueItem(
        id=f"approval:{case_id}:{step.value}",
        kind="relief.approval",
        title=f"{public_name(member_name)}的困难帮扶档案:{label}待审批",
        subject_id=case_id,
        union_id=union_id,
        # No statutory clock on a decision: the oldest request waits longest (ordered by it).
        due_at=requested_at,
        due_label="申请于",  # no deadline: the oldest first
        state_label=f"{label}待审批",
        can_act=can_act,
        blocked_reason=blocked,
        actions=[
            QueueAction(action="approve", label="批准", path=f"{base}/approve", body_hint={"note": "text"}),
            QueueAction(
                action="reject",
                label="驳回",
                path=f"{base}/reject",
                body_hint={"note": "text (必填:驳回理由)"},
            ),
        ],
    )


def disclosure_ends_soon(now: datetime, ends_at: datetime, days: int = DISCLOSURE_SOON_DAYS) -> bool:
    """Ending within `days`, or already ended (the plan waits to be requested)."""
    return ends_at <= now + timedelta(days=days)


def disclosure_item(
    *,
    case_id: uuid.UUID,
    union_id: uuid.UUID,
    member_name: str,
    disclosure_no: str,
    ends_at: datetime,
    unanswered: int,
    now: datetime,
) -> QueueItem:
    ended = ends_at <= now
    state = "公示期已满" if ended else "公示即将结束"
    if unanswered:
        state += f",{unanswered}条异议待答复"
    actions = [
        QueueAction(
            action="decline", label="不予认定", path=f"/cases/{case_id}/decline", body_hint={"reason": "text"}
        )
    ]
    if ended and not unanswered:
        actions.insert(
            0,
            QueueAction(
                action="request_plan",
                label="提交帮扶方案审批",
                path=f"/cases/{case_id}/plan",
                body_hint={"aid": [AID_CHOICES], "summary": "text"},
            ),
        )
    return QueueItem(
        id=f"disclosure:{case_id}",
        kind="relief.disclosure",
        title=f"公示{disclosure_no}({public_name(member_name)}):{state}",
        subject_id=case_id,
        union_id=union_id,
        due_at=ends_at,
        state_label=state,
        actions=actions,
    )


def objection_item(
    *,
    case_id: uuid.UUID,
    objection_id: uuid.UUID,
    union_id: uuid.UUID,
    member_name: str,
    disclosure_no: str | None,
    disclosure_ends_at: datetime | None,
    raised_at: datetime,
) -> QueueItem:
    # The plan cannot go to approval before every objection is answered: due with the window.
    return QueueItem(
        id=f"objection:{objection_id}",
        kind="relief.objection",
        title=f"公示{disclosure_no or ''}({public_name(member_name)})收到异议,待答复",
        subject_id=case_id,
        union_id=union_id,
        due_at=disclosure_ends_at or raised_at,
        state_label="异议待答复",
        actions=[
            QueueAction(
                action="answer",
                label="答复异议",
                path=f"/cases/{case_id}/objections/{objection_id}/answer",
                body_hint={"answer": "text"},
            ),
            QueueAction(
                action="decline",
                label="异议成立,不予认定",
                path=f"/cases/{case_id}/decline",
                body_hint={"reason": "text"},
            ),
        ],
    )


def review_item(
    *, case_id: uuid.UUID, union_id: uuid.UUID, member_name: str, due_on: date, today: date
) -> QueueItem:
    overdue = (today - due_on).days
    if overdue > 0:
        state = f"年度复核已逾期{overdue}天"
    else:
        state = "年度复核今日到期" if overdue == 0 else "年度复核即将到期"
    visit = {
        "visited_on": "date",
        "household_size": "number",
        "monthly_income_fen": "number",
        "causes": [CAUSE_CHOICES],
        "findings": "text",
    }
    exit_hint = {
        "visited_on": "date",
        "household_size": "number",
        "monthly_income_fen": "number",
        "guarantees": {
            "medical": "bool",
            "work": "bool",
            "schooling": "bool",
            "housing": "bool",
            "social_insurance": "bool",
        },
        "findings": "text",
    }
    return QueueItem(
        id=f"reverification:{case_id}:{due_on.isoformat()}",
        kind="relief.reverification",
        title=f"{public_name(member_name)}的困难档案:{state}(到期日{due_on.isoformat()})",
        subject_id=case_id,
        union_id=union_id,
        due_at=end_of_day(due_on),
        state_label=state,
        actions=[
            QueueAction(
                action="reverify",
                label="录入复核走访",
                path=f"/cases/{case_id}/reverification",
                body_hint=visit,
            ),
            QueueAction(
                action="exit", label="申请脱困退出", path=f"/cases/{case_id}/exit", body_hint=exit_hint
            ),
        ],
    )


# Programmes: 送温暖 and 金秋助学 ------------------------------------------------------------------


def may_act(rule: Callable[[], None]) -> tuple[bool, str | None]:
    """Whether the command's own four-eyes rule lets the caller act, and its refusal if not: the
    queue says what the command would say, from the same function."""
    try:
        rule()
    except Forbidden as refused:
        return False, refused.reason
    return True, None


def campaign_list_item(
    *,
    list_id: uuid.UUID,
    union_id: uuid.UUID,
    union_name: str,
    campaign_title: str,
    campaign_ends_on: date,
    included_count: int,
    total_fen: int,
    submitted_by: str | None,
    actor: str,
) -> QueueItem:
    can_act, blocked = may_act(lambda: require_four_eyes(submitted_by, actor))
    base = f"/campaign-lists/{list_id}"
    return QueueItem(
        id=f"campaign-list:{list_id}",
        kind="relief.campaign_list",
        title=f"送温暖名单待审批:{campaign_title} · {union_name}",
        subject_id=list_id,
        union_id=union_id,
        # A closed campaign pays nothing: the list must be approved (and paid) before it closes.
        due_at=closes_at(campaign_ends_on),
        state_label=f"待审批 · 纳入发放{included_count}项 · 合计{yuan(total_fen)}元",
        can_act=can_act,
        blocked_reason=blocked,
        actions=[
            QueueAction(action="approve", label="审批通过", path=f"{base}/approve"),
            QueueAction(
                action="return", label="退回修改", path=f"{base}/return", body_hint={"reason": "text (必填)"}
            ),
        ],
    )


def student_aid_item(
    *,
    application_id: uuid.UUID,
    union_id: uuid.UUID,
    union_name: str | None,
    window_title: str,
    member_name: str,
    student_name: str,
    school_type: SchoolType,
    amount_fen: int,
    filed_at: datetime,
    filed_by: str,
    actor: str,
) -> QueueItem:
    can_act, blocked = may_act(lambda: require_other_reviewer(filed_by, actor))
    where = f" · {union_name}" if union_name else ""
    return QueueItem(
        id=f"student-aid:{application_id}",
        kind="relief.student_aid",
        title=(
            f"{window_title}申请待审核:学生{masked(student_name)}({SCHOOL_TYPE_LABELS[school_type]})"
            f" · 会员{masked(member_name)}{where}"
        ),
        subject_id=application_id,
        union_id=union_id,
        # No clock on a review: the oldest application waits longest.
        due_at=filed_at,
        due_label="申请于",  # no deadline: the oldest first
        state_label=f"待审核 · {yuan(amount_fen)}元",
        can_act=can_act,
        blocked_reason=blocked,
        actions=[
            QueueAction(
                action="review",
                label="审核",
                path=f"/student-aid/applications/{application_id}/review",
                body_hint={"approve": "boolean", "reason": "text (不予通过时填写)"},
            )
        ],
    )


def student_aid_objection_item(
    *,
    objection_id: uuid.UUID,
    application_id: uuid.UUID,
    union_id: uuid.UUID,
    window_title: str,
    student_name: str,
    disclosure_ends_at: datetime | None,
    raised_at: datetime,
) -> QueueItem:
    # The objection's text stays out of the title: an objector may name anyone.
    return QueueItem(
        id=f"student-aid-objection:{objection_id}",
        kind="relief.student_aid_objection",
        title=f"{window_title}公示({masked(student_name)})收到异议,待答复",
        subject_id=application_id,
        union_id=union_id,
        # Approval waits for the answer once the disclosure ends: due with it.
        due_at=disclosure_ends_at or raised_at,
        state_label="异议待答复",
        actions=[
            QueueAction(
                action="answer",
                label="答复异议",
                path=f"/student-aid/objections/{objection_id}/answer",
                body_hint={"upheld": "boolean", "answer": "text (必填)"},
            )
        ],
    )
