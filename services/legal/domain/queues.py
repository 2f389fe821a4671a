"""What puts a legal record in a cadre's work queue, and what the item offers: pure rules.

- deadlines: an open dispute whose next statutory deadline (as scheduled with the working-day
  calendar, domain/clocks.py) falls within the next N days, 1 <= N <= 60; overdue ones whose
  missed notice has not fired yet stay in.
- supervisions: opinion letters (意见书) awaiting the employer's reply, with the reply deadline;
  overdue first (the recommendation letter may follow)."""

import uuid
from datetime import date

from shared.contracts.legal import (
    DISPUTE_KIND_LABELS,
    DeadlineName,
    DisputeKind,
    MediationOutcome,
    Outcome,
    Stage,
)
from shared.errors import InvalidInput
from shared.queues import QueueAction, QueueItem, end_of_day

MIN_DAYS, MAX_DAYS = 1, 60

DEADLINE_LABEL = {
    DeadlineName.ARBITRATION_LIMIT: "申请劳动仲裁时效",
    DeadlineName.MEDIATION_WINDOW: "调解期限(15日)",
    DeadlineName.AWARD_DUE: "仲裁裁决期限",
    DeadlineName.SUIT_LIMIT: "起诉期限(裁决后15日)",
    DeadlineName.OPINION_REPLY: "意见书答复期限(15个工作日)",
    DeadlineName.INSPECTION_RESPONSE: "劳动监察立案期限(5日)",
}
STAGE_LABEL = {
    Stage.INTAKE: "待受理",
    Stage.CONSULTATION: "法律咨询",
    Stage.MEDIATION: "调解中",
    Stage.ARBITRATION: "劳动仲裁中",
    Stage.LITIGATION: "诉讼中",
    Stage.CLOSED: "已结案",
}
KIND_LABEL = DISPUTE_KIND_LABELS


def require_days(days: int) -> int:
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise InvalidInput(f"天数须在{MIN_DAYS}到{MAX_DAYS}之间")
    return days


def within(due_on: date, today: date, days: int) -> bool:
    """Due within the next `days` days (today counts as day 0), or already past."""
    return (due_on - today).days <= days


def countdown(due_on: date, today: date) -> str:
    left = (due_on - today).days
    if left < 0:
        return f"已逾期{-left}天"
    return "今日到期" if left == 0 else f"还剩{left}天"


def _deadline_actions(case_id: uuid.UUID, name: DeadlineName) -> list[QueueAction]:
    """The steps that satisfy the deadline (they stop its clock), then closing the case."""
    day = {"on": "date"}
    path = f"/cases/{case_id}"
    steps: dict[DeadlineName, list[QueueAction]] = {
        DeadlineName.MEDIATION_WINDOW: [
            QueueAction(
                action="end_mediation",
                label="登记调解结果",
                path=f"{path}/mediation/outcome",
                body_hint={"outcome": "|".join(o.value for o in MediationOutcome), **day},
            ),
            QueueAction(
                action="to_arbitration",
                label="申请劳动仲裁",
                path=f"{path}/stage",
                body_hint={"stage": Stage.ARBITRATION.value, **day},
            ),
        ],
        DeadlineName.ARBITRATION_LIMIT: [
            QueueAction(
                action="to_arbitration",
                label="申请劳动仲裁",
                path=f"{path}/stage",
                body_hint={"stage": Stage.ARBITRATION.value, **day},
            )
        ],
        DeadlineName.AWARD_DUE: [
            QueueAction(
                action="awarded", label="登记仲裁裁决", path=f"{path}/arbitration/awarded", body_hint=day
            ),
            QueueAction(
                action="extended", label="登记延期审理", path=f"{path}/arbitration/extended", body_hint=day
            ),
        ],
        DeadlineName.SUIT_LIMIT: [
            QueueAction(
                action="to_litigation",
                label="提起诉讼",
                path=f"{path}/stage",
                body_hint={"stage": Stage.LITIGATION.value, **day},
            )
        ],
    }
    close = QueueAction(
        action="close",
        label="结案",
        path=f"{path}/close",
        body_hint={"outcome": "|".join(o.value for o in Outcome), "recovered_fen": "number", "note": "text"},
    )
    return [*steps.get(name, []), close]


def deadline_item(
    *,
    case_id: uuid.UUID,
    case_no: str,
    union_id: uuid.UUID,
    kind: DisputeKind,
    stage: Stage,
    name: DeadlineName,
    due_on: date,
    today: date,
) -> QueueItem:
    label = DEADLINE_LABEL[name]
    return QueueItem(
        id=f"deadline:{case_id}:{name.value}",
        kind="legal.deadline",
        title=f"{case_no}({KIND_LABEL[kind]}争议):{label}{due_on.isoformat()}截止,{countdown(due_on, today)}",
        subject_id=case_id,
        union_id=union_id,
        due_at=end_of_day(due_on),
        state_label=STAGE_LABEL[stage],
        actions=_deadline_actions(case_id, name),
    )


def supervision_item(
    *, supervision_id: uuid.UUID, union_id: uuid.UUID, employer: str, reply_due: date, today: date
) -> QueueItem:
    overdue = today > reply_due
    day = {"on": "date"}
    path = f"/supervisions/{supervision_id}"
    actions = [
        QueueAction(
            action="employer_rectified",
            label="单位已答复并整改",
            path=f"{path}/employer_rectified",
            body_hint=day,
        ),
        QueueAction(
            action="employer_not_rectified",
            label="单位答复但未整改",
            path=f"{path}/employer_not_rectified",
            body_hint=day,
        ),
    ]
    if overdue:
        # No reply once the 15 working days ran out: the recommendation letter to labour inspection.
        actions.append(
            QueueAction(
                action="send_recommendation",
                label="发出建议书(移送劳动监察)",
                path=f"{path}/send_recommendation",
                body_hint=day,
            )
        )
    state = (
        f"逾期未答复({countdown(reply_due, today)})"
        if overdue
        else f"待单位答复({countdown(reply_due, today)})"
    )
    return QueueItem(
        id=f"supervision:{supervision_id}",
        kind="legal.supervision",
        title=f"劳动法律监督意见书({employer}):答复期限{reply_due.isoformat()}",
        subject_id=supervision_id,
        union_id=union_id,
        due_at=end_of_day(reply_due),
        state_label=state,
        actions=actions,
    )
