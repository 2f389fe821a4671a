"""Supervision letters, "one letter, two documents" (一函两书), as one explicit table.

    reminder sent (提示函) ─▶ opinion sent (意见书: reply in 15 working days)
        ─reply, put right─▶ rectified
        ─reply, not put right / no reply─▶ recommendation sent (建议书 to labour inspection)
            ─inspection opens a case─▶ inspection opened
            ─inspection explains why not─▶ inspection declined

The reported figure is the share of employers sent an opinion letter that replied and put
things right (整改回复率).
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from services.legal.domain.clocks import WorkCalendar, inspection_response_due, opinion_reply_due
from shared.contracts.legal import DeadlineName, LetterKind
from shared.errors import Conflict, InvalidInput


class SupervisionStatus(StrEnum):
    REMINDED = "reminded"
    OPINION_SENT = "opinion_sent"
    REPLIED_NOT_RECTIFIED = "replied_not_rectified"
    RECTIFIED = "rectified"
    RECOMMENDED = "recommended"
    INSPECTION_OPENED = "inspection_opened"
    INSPECTION_DECLINED = "inspection_declined"


class LetterAction(StrEnum):
    SEND_OPINION = "send_opinion"
    EMPLOYER_RECTIFIED = "employer_rectified"
    EMPLOYER_NOT_RECTIFIED = "employer_not_rectified"
    SEND_RECOMMENDATION = "send_recommendation"
    INSPECTION_OPENED = "inspection_opened"
    INSPECTION_DECLINED = "inspection_declined"


St, Ac = SupervisionStatus, LetterAction
# fmt: off
LETTER_TRANSITIONS: dict[tuple[SupervisionStatus, LetterAction], SupervisionStatus] = {
    (St.REMINDED, Ac.SEND_OPINION): St.OPINION_SENT,
    (St.OPINION_SENT, Ac.EMPLOYER_RECTIFIED): St.RECTIFIED,
    (St.OPINION_SENT, Ac.EMPLOYER_NOT_RECTIFIED): St.REPLIED_NOT_RECTIFIED,
    (St.OPINION_SENT, Ac.SEND_RECOMMENDATION): St.RECOMMENDED,  # no reply in time
    (St.REPLIED_NOT_RECTIFIED, Ac.SEND_RECOMMENDATION): St.RECOMMENDED,
    (St.RECOMMENDED, Ac.INSPECTION_OPENED): St.INSPECTION_OPENED,
    (St.RECOMMENDED, Ac.INSPECTION_DECLINED): St.INSPECTION_DECLINED,
}
# fmt: on


def allowed_actions(status: SupervisionStatus) -> list[str]:
    return sorted(a.value for (s, a) in LETTER_TRANSITIONS if s is status)


def next_status(status: SupervisionStatus, action: LetterAction) -> SupervisionStatus:
    target = LETTER_TRANSITIONS.get((status, action))
    if target is None:
        raise Conflict(
            f"a supervision in {status.value} does not allow {action.value}",
            supervision_status=status.value,
            allowed=allowed_actions(status),
        )
    return target


def rectification_rate(opinions_sent: int, rectified: int) -> float | None:
    """整改回复率: replied and put right, over employers sent an opinion letter."""
    return None if opinions_sent == 0 else round(rectified / opinions_sent, 4)


def require_recommendation_allowed(status: SupervisionStatus, reply_due: date | None, today: date) -> None:
    """The recommendation letter follows an unsatisfactory reply, or no reply once the 15 working
    days have run out."""
    next_status(status, LetterAction.SEND_RECOMMENDATION)
    if status is SupervisionStatus.OPINION_SENT and reply_due is not None and today <= reply_due:
        raise Conflict(
            f"the employer may still reply to the opinion letter until {reply_due.isoformat()}",
            supervision_status=status.value,
            allowed=allowed_actions(status),
        )


def letter_day(on: date | None, today: date, steps: list[date | None]) -> date:
    """The day of a letter step (default today): not in the future, not before the last step."""
    day = on or today
    if day > today:
        raise InvalidInput("a letter's date cannot be in the future")
    latest = max((d for d in steps if d is not None), default=None)
    if latest is not None and day < latest:
        raise InvalidInput(f"this step cannot precede the supervision's last one ({latest.isoformat()})")
    return day


@dataclass(frozen=True)
class LetterEffect:
    """What a step changes on the supervision, which deadline starts or stops, and what the
    events say: a letter sent (with its reply deadline) or an answer (put right or not)."""

    changes: dict[str, Any]
    schedule: tuple[DeadlineName, date] | None = None
    # The deadline was counted over years whose holidays are not published (weekends alone).
    unpublished_years: tuple[int, ...] = ()
    cancel: tuple[DeadlineName, ...] = ()
    sent: tuple[LetterKind, date] | None = None
    answered: tuple[LetterKind, bool] | None = None


def letter_effect(action: LetterAction, day: date, calendar: WorkCalendar) -> LetterEffect:
    if action is Ac.SEND_OPINION:
        due = opinion_reply_due(day, calendar)
        unpublished = tuple(calendar.unpublished_years(day, due))
        return LetterEffect(
            {
                "opinion_sent_on": day,
                "opinion_reply_due": due,
                "opinion_reply_provisional": bool(unpublished),
            },
            schedule=(DeadlineName.OPINION_REPLY, due),
            unpublished_years=unpublished,
            sent=(LetterKind.OPINION, due),
        )
    if action in (Ac.EMPLOYER_RECTIFIED, Ac.EMPLOYER_NOT_RECTIFIED):
        rectified = action is Ac.EMPLOYER_RECTIFIED
        return LetterEffect(
            {"replied_on": day, "rectified": rectified},
            cancel=(DeadlineName.OPINION_REPLY,),
            answered=(LetterKind.OPINION, rectified),
        )
    if action is Ac.SEND_RECOMMENDATION:
        due = inspection_response_due(day, calendar)
        unpublished = tuple(calendar.unpublished_years(day, due))
        return LetterEffect(
            {"recommended_on": day, "inspection_due": due, "inspection_due_provisional": bool(unpublished)},
            schedule=(DeadlineName.INSPECTION_RESPONSE, due),
            unpublished_years=unpublished,
            cancel=(DeadlineName.OPINION_REPLY,),
            sent=(LetterKind.RECOMMENDATION, due),
        )
    return LetterEffect(
        {"inspection_answered_on": day},
        cancel=(DeadlineName.INSPECTION_RESPONSE,),
        answered=(LetterKind.RECOMMENDATION, action is Ac.INSPECTION_OPENED),
    )
