"""The inbox's rules (services/projector/domain/inbox.py): what each event tells the member, in
Chinese and never as a raw code; near deadlines; the order and the cursor."""

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.projector.domain import cursors, inbox
from services.projector.domain.inbox import Kind, Listed, Position, items_for
from shared.contracts import competitions, enrollment, legal, partners, relief

NOW = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
MEMBER = uuid.uuid4()
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Codes that must never reach a member's eyes.
RAW_CODES = re.compile(
    r"\b(in_disclosure|in_register|verification_requested|plan_requested|exit_requested|reported|"
    r"arbitration|mediation|litigation|intake|wage_arrears|award_won|tuition|consolation|pending|"
    r"accepted|declined|skills|labour|model_worker|suit_limit|award_due)\b"
)


def relief_case(status: relief.CaseStatus, paid: int = 0) -> relief.CaseSnapshot:
    return relief.CaseSnapshot(
        case_id=uuid.uuid4(), member_id=MEMBER, status=status, tier=relief.Tier.RELATIVE,
        union_id=uuid.uuid4(), aid_year=2026, aid_paid_fen=paid,
    )  # fmt: skip


def legal_case(stage: legal.Stage, *others: uuid.UUID, due: date | None = None) -> legal.CaseSnapshot:
    deadline = legal.NextDeadline(name=legal.DeadlineName.AWARD_DUE, due_on=due) if due else None
    return legal.CaseSnapshot(
        case_id=uuid.uuid4(), case_no="维权2026-000042", kind=legal.DisputeKind.WAGE_ARREARS, stage=stage,
        outcome=None, union_id=uuid.uuid4(), member_ids=[MEMBER, *others], next_deadline=deadline,
    )  # fmt: skip


def member() -> enrollment.MemberSnapshot:
    return enrollment.MemberSnapshot(
        member_id=MEMBER, name="张三", national_id_masked="3301**********1234",
        membership_number="ZJ0000001", card_number="6217000012345678", base_union_id=uuid.uuid4(),
        status=enrollment.MembershipStatus.ACTIVE, member_since=date(2026, 1, 1), employer="个体",
        employment_type=enrollment.EmploymentType.FLEXIBLE,
        periods=[enrollment.MembershipPeriod(union_id=uuid.uuid4(), started_at=NOW)],
    )  # fmt: skip


def competition() -> competitions.CompetitionRef:
    return competitions.CompetitionRef(
        competition_id=uuid.uuid4(), name="焊工技能比武", kind=competitions.CompetitionKind.SKILLS,
        union_id=uuid.uuid4(),
    )  # fmt: skip


def entry() -> competitions.EntryRef:
    return competitions.EntryRef(entry_id=uuid.uuid4(), entry_no=7)


def transfer(status: enrollment.TransferStatus, reason: str | None = None) -> enrollment.TransferSnapshot:
    return enrollment.TransferSnapshot(
        transfer_id=uuid.uuid4(), member_id=MEMBER, from_union_id=uuid.uuid4(), to_union_id=uuid.uuid4(),
        status=status, reason="换工作", requested_by="member", requested_at=NOW,
        expires_at=NOW + timedelta(days=30), decision_reason=reason,
    )  # fmt: skip


def one(payload: object) -> inbox.Item:
    found = items_for(payload)  # type: ignore[arg-type]
    assert len(found) == 1, found
    item = found[0]
    assert CHINESE.search(item.title) and not RAW_CODES.search(item.title + item.body), item
    return item


def test_a_rejected_application_says_why_and_what_to_do_next() -> None:
    item = one(
        enrollment.ApplicationRejected(
            application_id=uuid.uuid4(),
            person_id=MEMBER,
            base_union_id=uuid.uuid4(),
            reason="工作单位与所选工会不符",
            decided_by="cadre",
        )
    )
    assert item.member_id == MEMBER and item.kind is Kind.APPLICATION
    assert item.title == "入会申请未通过"
    assert "工作单位与所选工会不符" in item.body and "重新申请" in item.body


def test_an_approved_application_welcomes_the_member_with_their_numbers() -> None:
    item = one(enrollment.MemberEnrolled(application_id=uuid.uuid4(), decided_by="cadre", member=member()))
    assert item.kind is Kind.MEMBERSHIP and item.title == "入会申请已通过"
    assert "ZJ0000001" in item.body and "6217000012345678" in item.body
    assert "张三" not in item.body and "3301" not in item.body.replace("6217000012345678", "")


@pytest.mark.parametrize("status", list(relief.CaseStatus))
def test_every_relief_step_reads_as_its_stage_in_words(status: relief.CaseStatus) -> None:
    payload = relief.CaseResumed(case=relief_case(status), resumed_at=NOW)
    item = one(payload)
    assert item.kind is Kind.RELIEF and status.value not in item.title
    assert item.title.startswith("困难帮扶：")


def test_aid_paid_says_the_amount_in_yuan() -> None:
    paid = relief.AidDisbursed(
        case=relief_case(relief.CaseStatus.IN_REGISTER, paid=150_000), disbursement_id=uuid.uuid4(),
        aid_type=relief.AidType.TUITION, amount_fen=100_050, year=2026, paid_at=NOW,
    )  # fmt: skip
    item = one(paid)
    assert item.kind is Kind.AID
    assert "金秋助学金 1000.50 元已发放" in item.body and "1500.00" in item.body


def test_a_legal_stage_move_reaches_every_worker_of_a_collective_case_once() -> None:
    other = uuid.uuid4()
    case = legal_case(legal.Stage.ARBITRATION, other, MEMBER, due=date(2027, 1, 20))
    found = items_for(legal.StageChanged(case=case, from_stage=legal.Stage.MEDIATION, changed_at=NOW))
    assert [i.member_id for i in found] == [MEMBER, other]
    assert found[0].title == "维权案件进入新阶段：劳动仲裁中"
    assert "维权2026-000042（欠薪）" in found[0].body and "仲裁裁决期限，2027年1月20日" in found[0].body


def test_a_deadline_event_adds_nothing_the_inbox_computes_deadlines_itself() -> None:
    case = legal_case(legal.Stage.ARBITRATION, due=date(2026, 12, 5))
    approaching = legal.DeadlineApproaching(
        deadline_id=uuid.uuid4(), name=legal.DeadlineName.AWARD_DUE, due_on=date(2026, 12, 5), case=case,
        supervision_id=None,
    )  # fmt: skip
    assert items_for(approaching) == []


def test_a_closed_case_says_the_outcome_and_the_money_recovered() -> None:
    case = legal_case(legal.Stage.CLOSED)
    closed = legal.CaseClosed(
        case=case, outcome=legal.Outcome.AWARD_WON, recovered_fen=680_000, closed_at=NOW
    )
    item = one(closed)
    assert item.title == "维权案件已结案：仲裁胜诉" and "追回 6800.00 元" in item.body


def test_results_awards_and_honours_are_told_in_words() -> None:
    result = one(
        competitions.ResultFinalized(
            member_id=MEMBER,
            competition=competition(),
            entry=entry(),
            stage_id=uuid.uuid4(),
            stage_name="决赛",
            rank=2,
            of_entries=31,
            score=Decimal("95.5000"),
            finalized_at=NOW,
        )
    )
    assert result.title == "竞赛成绩已公布" and "决赛：第 2 名（共 31 个参赛），得分 95.5" in result.body
    honour = one(
        competitions.HonourGranted(
            member_id=MEMBER,
            honour_id=uuid.uuid4(),
            kind=competitions.HonourKind.CRAFTSMAN,
            title="杭州工匠",
            granted_on=date(2026, 12, 1),
            valid_until=date(2031, 11, 30),
        )
    )
    assert honour.kind is Kind.HONOUR and "“杭州工匠”" in honour.body and "2031年11月30日" in honour.body
    registered = one(
        competitions.EntryRegistered(
            member_id=MEMBER, competition=competition(), entry=entry(), registered_at=NOW
        )
    )
    assert "技能竞赛“焊工技能比武”报名成功" in registered.body


@pytest.mark.parametrize(
    ("event", "title"),
    [
        (enrollment.TransferRequested, "接转申请已提交"),
        (enrollment.TransferDeclined, "接转申请未通过"),
        (enrollment.TransferWithdrawn, "接转申请已撤回"),
        (enrollment.TransferExpired, "接转申请已过期"),
    ],
)
def test_a_transfer_answered_is_told(event: type[enrollment.TransferRequested], title: str) -> None:
    item = one(event(transfer=transfer(enrollment.TransferStatus.DECLINED, "接收单位无此人")))
    assert item.kind is Kind.TRANSFER and item.title == title
    if title == "接转申请未通过":
        assert "接收单位无此人" in item.body


def test_a_redemption_is_told_and_events_of_no_concern_add_nothing() -> None:
    redeemed = partners.OfferRedeemed(
        redemption_id=uuid.uuid4(), partner_id="p1", merchant_id="m1", offer_id="o1", offer_key="p1/o1",
        member_id=MEMBER, redeemed_at=NOW,
    )  # fmt: skip
    assert one(redeemed).kind is Kind.REDEMPTION
    letter = legal.SupervisionAnswered(
        supervision_id=uuid.uuid4(), union_id=uuid.uuid4(), employer="某公司",
        letter=legal.LetterKind.OPINION, rectified=True, answered_at=NOW,
    )  # fmt: skip
    assert items_for(letter) == []


@pytest.mark.parametrize(("days", "shown"), [(-1, False), (0, True), (3, True), (4, False)])
def test_a_deadline_shows_from_three_days_before_until_its_day(days: int, shown: bool) -> None:
    today = date(2026, 12, 3)
    case_id = uuid.uuid4()
    item = inbox.deadline_item(
        case_id, "维权2026-000042", "wage_arrears", "suit_limit", today + timedelta(days), today
    )
    assert (item is not None) is shown
    if item is not None:
        assert item.kind == Kind.DEADLINE and item.title == "期限临近：起诉期限（裁决后15日内）"
        assert ("今天到期" if days == 0 else f"还有 {days} 天") in item.body
        # The same deadline is the same item on every read (its id and its time are fixed).
        again = inbox.deadline_item(
            case_id,
            "维权2026-000042",
            "wage_arrears",
            "suit_limit",
            today + timedelta(days),
            today + timedelta(days),
        )
        assert again is not None
        assert (again.item_id, again.occurred_at) == (item.item_id, item.occurred_at)


def listed(minutes: int) -> Listed:
    return Listed(uuid.uuid4(), NOW + timedelta(minutes=minutes), Kind.LEGAL, "t", "b")


def test_a_page_is_newest_first_with_the_computed_deadlines_in_place() -> None:
    stored = [listed(30), listed(20), listed(10)]
    deadline = listed(25)
    page = inbox.page(stored, [deadline], None, 3)
    assert page == [stored[0], deadline, stored[1]]
    # The next page starts after the last item shown: the deadline is not shown twice.
    after = inbox.position(page[-1])
    assert inbox.page([stored[2]], [deadline], after, 3) == [stored[2]]


def test_the_cursor_round_trips_and_a_forged_one_is_refused() -> None:
    p = Position(NOW, uuid.uuid4())
    assert inbox.decode_cursor(inbox.encode_cursor(p)) == p
    overflowing = cursors.encode({"t": "0001-01-01T00:00:00+14:00", "i": str(uuid.uuid4())})
    naive = cursors.encode({"t": "2026-12-03T00:00:00", "i": str(uuid.uuid4())})
    for forged in ("", "not-base64!", "e30", "eyJ0IjoiMjAyNi0xMi0wMyIsImkiOiJ4In0", overflowing, naive):
        with pytest.raises(inbox.InvalidCursor):
            inbox.decode_cursor(forged)
