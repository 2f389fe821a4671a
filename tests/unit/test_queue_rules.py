"""The work queues' rules: urgency ordering and paging, the four-eyes flag, the deadline and
disclosure windows, the scope a queue is read in, and what each item offers."""

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from services.competitions.domain import queues as competitions
from services.legal.domain import queues as legal
from services.relief.domain import queues as relief
from shared.auth import Caller, Principal, Role
from shared.contracts.legal import DeadlineName, DisputeKind, Stage
from shared.contracts.relief import ApprovalStep
from shared.errors import Forbidden, InvalidInput
from shared.events import CHINA
from shared.queues import QueueItem, by_urgency, end_of_day, page, queue_root

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=CHINA)
TODAY = NOW.date()
UNION = uuid.uuid4()


def item(name: str, due: datetime | None, *, can_act: bool = True) -> QueueItem:
    return QueueItem(
        id=name,
        kind="k",
        title=name,
        subject_id=uuid.uuid4(),
        union_id=UNION,
        due_at=due,
        state_label="s",
        can_act=can_act,
    )


def caller(role: Role, union_id: uuid.UUID | None = None, sub: str = "wang") -> Caller:
    return Caller(Principal(sub=sub, role=role, union_id=union_id), "c")


# Ordering and paging ----------------------------------------------------------------------------


def test_urgency_puts_actionable_first_then_the_nearest_due_and_undated_last() -> None:
    items = [
        item("undated", None),
        item("blocked-overdue", NOW - timedelta(days=9), can_act=False),
        item("later", NOW + timedelta(days=2)),
        item("overdue", NOW - timedelta(days=1)),
    ]
    assert [i.id for i in by_urgency(items)] == ["overdue", "later", "undated", "blocked-overdue"]


def test_pages_follow_the_cursor_to_the_end() -> None:
    items = by_urgency(item(f"i{n}", NOW + timedelta(hours=n)) for n in range(5))
    first = page(items, 0, 2)
    assert [i.id for i in first.items] == ["i0", "i1"] and first.next == "2"
    second = page(items, int(first.next), 2)
    last = page(items, int(second.next or 0), 2)
    assert [i.id for i in second.items + last.items] == ["i2", "i3", "i4"]
    assert last.next is None


def test_a_deadline_day_is_due_at_its_last_second_in_china() -> None:
    due = end_of_day(date(2026, 12, 8))
    assert due.astimezone(CHINA).date() == date(2026, 12, 8)
    assert due < datetime(2026, 12, 9, tzinfo=CHINA)


# Scope ------------------------------------------------------------------------------------------


def test_a_cadres_queue_defaults_to_their_union_and_an_admin_must_name_one() -> None:
    assert queue_root(caller(Role.CADRE, UNION), None) == UNION
    other = uuid.uuid4()
    assert queue_root(caller(Role.CADRE, UNION), other) == other  # the service then checks scope
    assert queue_root(caller(Role.ADMIN), other) == other
    with pytest.raises(InvalidInput):
        queue_root(caller(Role.ADMIN), None)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.PARTNER_STAFF])
def test_no_queue_for_anyone_but_cadres_and_admins(role: Role) -> None:
    principal = Principal(
        sub="x", role=role, member_id=uuid.uuid4(), partner_id="p1" if role is Role.PARTNER_STAFF else None
    )
    with pytest.raises(Forbidden):
        queue_root(Caller(principal, "c"), UNION)


# Relief -----------------------------------------------------------------------------------------


def approval(requested_by: str, actor: str) -> QueueItem:
    return relief.approval_item(
        case_id=uuid.uuid4(),
        union_id=UNION,
        member_name="张三丰",
        step=ApprovalStep.PLAN,
        requested_at=NOW,
        requested_by=requested_by,
        actor=actor,
    )


def test_the_requester_sees_their_step_but_may_not_decide_it() -> None:
    mine = approval("cadre:wang", "cadre:wang")
    assert mine.can_act is False
    assert mine.blocked_reason == "同一人不能既申请又审批(四眼原则)"
    theirs = approval("cadre:wang", "cadre:li")
    assert theirs.can_act is True and theirs.blocked_reason is None
    assert [a.action for a in theirs.actions] == ["approve", "reject"]
    assert theirs.actions[0].path.endswith("/steps/plan/approve")
    assert theirs.actions[0].body_hint == {"note": "text"}


def test_an_approval_title_masks_the_name() -> None:
    title = approval("cadre:wang", "cadre:li").title
    assert "张*丰" in title and "张三丰" not in title


def test_a_disclosure_is_in_the_queue_within_three_days_of_its_end_or_after_it() -> None:
    assert relief.disclosure_ends_soon(NOW, NOW + timedelta(days=3))
    assert relief.disclosure_ends_soon(NOW, NOW - timedelta(days=1))
    assert not relief.disclosure_ends_soon(NOW, NOW + timedelta(days=3, seconds=1))


def test_an_ended_disclosure_offers_the_plan_only_once_every_objection_is_answered() -> None:
    def actions(ends_at: datetime, unanswered: int) -> list[str]:
        d = relief.disclosure_item(
            case_id=uuid.uuid4(),
            union_id=UNION,
            member_name="李四",
            disclosure_no="GS2026-000001",
            ends_at=ends_at,
            unanswered=unanswered,
            now=NOW,
        )
        return [a.action for a in d.actions]

    assert actions(NOW - timedelta(hours=1), 0) == ["request_plan", "decline"]
    assert actions(NOW - timedelta(hours=1), 1) == ["decline"]
    assert actions(NOW + timedelta(days=1), 0) == ["decline"]


def test_a_review_says_how_late_it_is() -> None:
    def state(due: date) -> str:
        return relief.review_item(
            case_id=uuid.uuid4(), union_id=UNION, member_name="王五", due_on=due, today=TODAY
        ).state_label

    assert state(TODAY - timedelta(days=4)) == "年度复核已逾期4天"
    assert state(TODAY) == "年度复核今日到期"
    assert state(TODAY + timedelta(days=10)) == "年度复核即将到期"


# Legal ------------------------------------------------------------------------------------------


def test_the_deadline_window_counts_days_from_today_and_keeps_the_overdue() -> None:
    in_five = TODAY + timedelta(days=5)
    assert legal.within(in_five, TODAY, 7)
    assert not legal.within(in_five, TODAY, 3)
    assert legal.within(TODAY - timedelta(days=1), TODAY, 1)


@pytest.mark.parametrize("days", [0, 61, -1])
def test_the_window_is_one_to_sixty_days(days: int) -> None:
    with pytest.raises(InvalidInput):
        legal.require_days(days)


def test_a_deadline_item_names_the_deadline_in_chinese_and_its_day() -> None:
    due = TODAY + timedelta(days=5)
    d = legal.deadline_item(
        case_id=uuid.uuid4(),
        case_no="LD2026-000007",
        union_id=UNION,
        kind=DisputeKind.WAGE_ARREARS,
        stage=Stage.MEDIATION,
        name=DeadlineName.MEDIATION_WINDOW,
        due_on=due,
        today=TODAY,
    )
    assert "调解期限" in d.title and due.isoformat() in d.title and "还剩5天" in d.title
    assert d.state_label == "调解中"
    assert [a.action for a in d.actions] == ["end_mediation", "to_arbitration", "close"]


def test_every_deadline_has_a_label_and_ends_in_closing_the_case() -> None:
    for name in DeadlineName:
        assert name in legal.DEADLINE_LABEL
    for name in (DeadlineName.ARBITRATION_LIMIT, DeadlineName.AWARD_DUE, DeadlineName.SUIT_LIMIT):
        d = legal.deadline_item(
            case_id=uuid.uuid4(),
            case_no="x",
            union_id=UNION,
            kind=DisputeKind.OVERTIME,
            stage=Stage.ARBITRATION,
            name=name,
            due_on=TODAY,
            today=TODAY,
        )
        assert len(d.actions) >= 2 and d.actions[-1].action == "close"


def test_the_recommendation_letter_is_offered_only_once_the_reply_is_overdue() -> None:
    def actions(due: date) -> list[str]:
        s = legal.supervision_item(
            supervision_id=uuid.uuid4(), union_id=UNION, employer="某物流公司", reply_due=due, today=TODAY
        )
        return [a.action for a in s.actions]

    assert "send_recommendation" not in actions(TODAY)
    assert actions(TODAY - timedelta(days=1))[-1] == "send_recommendation"


# Competitions -----------------------------------------------------------------------------------


def spread_result(*, flagged: bool, reviewed: bool) -> dict[str, object]:
    return {
        "entry_id": str(uuid.uuid4()),
        "code": "K7QX2M",
        "spread": "31.0000",
        "flagged": flagged,
        "reviewed_by_chief_judge": reviewed,
        "team_name": "焊工一组",
    }


def test_only_a_flagged_entry_not_yet_reviewed_waits() -> None:
    assert competitions.awaits_review(spread_result(flagged=True, reviewed=False))
    assert not competitions.awaits_review(spread_result(flagged=True, reviewed=True))
    assert not competitions.awaits_review(spread_result(flagged=False, reviewed=False))


def test_only_the_chief_judge_acts_on_a_spread_and_the_entrant_is_not_shown() -> None:
    result = spread_result(flagged=True, reviewed=False)

    def spread(chief: bool) -> QueueItem:
        return competitions.spread_item(
            competition_name="焊工技能比武",
            stage_id=uuid.uuid4(),
            stage_name="决赛",
            union_id=UNION,
            result=result,
            spread_gap=Decimal(20),
            is_chief_judge=chief,
        )

    chief, organiser = spread(True), spread(False)
    assert chief.can_act and not organiser.can_act
    assert organiser.blocked_reason == competitions.CHIEF_JUDGE_ONLY
    assert "K7QX2M" in chief.title and "焊工一组" not in chief.title
    assert chief.actions[0].body_hint["entry_id"] == result["entry_id"]
