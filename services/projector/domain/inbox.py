"""The member's inbox (消息): what an event tells the member, in plain Chinese, as pure rules.

- `items_for(payload)`: the items one event puts in its members' inboxes (most events: one item
  for one member; a collective legal case: one per worker; events the member need not hear
  about: none). Words come from labels.py, so a raw code never reaches a member.
- `deadline_item(...)`: a legal case's next statutory deadline within NEAR_DAYS days, computed
  when the inbox is read (no timer): the card's legal cases already hold the next deadline.
- the order (newest first) and the opaque cursor that pages through it: (occurred_at, item_id),
  both the event's own (its time and id), so a cursor keeps its meaning across a rebuild.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from services.projector.domain import cursors, labels
from services.projector.domain.cursors import InvalidCursor as InvalidCursor  # the route catches it here
from shared.contracts.competitions import (
    COMPETITION_KIND_LABELS,
    AwardGranted,
    EntryRegistered,
    EntryWithdrawn,
    HonourGranted,
    HonourRenewed,
    HonourRevoked,
    ResultFinalized,
)
from shared.contracts.enrollment import (
    ApplicationRejected,
    ApplicationSubmitted,
    MemberEnrolled,
    MemberLeft,
    MemberReinstated,
    MemberTransferred,
    TransferAccepted,
    TransferDeclined,
    TransferExpired,
    TransferRequested,
    TransferSnapshot,
    TransferWithdrawn,
)
from shared.contracts.envelope import EventPayload
from shared.contracts.legal import (
    ArbitrationProgressed,
    ArbitrationStep,
    CaseClosed,
    CaseFiled,
    CounselAssigned,
    Disposition,
    IntakeDecided,
    MediationEnded,
    MediationOutcome,
    StageChanged,
)
from shared.contracts.legal import CaseSnapshot as LegalCase
from shared.contracts.partners import OfferRedeemed
from shared.contracts.relief import AidDisbursed, CaseTransferred
from shared.contracts.relief import CaseSnapshot as ReliefCase
from shared.contracts.relief_programmes import Programme, ProgrammeAidPaid
from shared.events import CHINA

NEAR_DAYS = 3  # a deadline this many days away (or fewer) shows in the inbox
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Kind(StrEnum):
    """What an item is about; the app may pick an icon by it. Titles and bodies are the words."""

    APPLICATION = "application"  # 入会申请
    MEMBERSHIP = "membership"  # 会籍
    TRANSFER = "transfer"  # 接转
    RELIEF = "relief"  # 困难帮扶
    AID = "aid"  # 帮扶资金
    LEGAL = "legal"  # 法律援助
    DEADLINE = "deadline"  # 期限临近
    COMPETITION = "competition"  # 竞赛报名, 成绩, 奖励
    HONOUR = "honour"  # 荣誉
    REDEMPTION = "redemption"  # 优惠使用


@dataclass(frozen=True)
class Item:
    member_id: uuid.UUID
    kind: Kind
    title: str
    body: str


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _sentences(*parts: str | None) -> str:
    """Non-empty parts, each ending with a full stop (。) unless it already ends a sentence."""
    out = []
    for part in parts:
        if part:
            out.append(part if part[-1] in "。！？" else part + "。")
    return "".join(out)


# --- enrollment -------------------------------------------------------------------------------


def _membership(p: EventPayload) -> list[Item]:
    applied = labels.APPLICATION
    match p:
        case ApplicationSubmitted():
            body = _sentences(applied["pending"].next_step)
            return [Item(p.person_id, Kind.APPLICATION, "入会申请已提交", body)]
        case ApplicationRejected():
            body = _sentences(f"未通过原因：{p.reason}", applied["rejected"].next_step)
            return [Item(p.person_id, Kind.APPLICATION, "入会申请未通过", body)]
        case MemberEnrolled():
            m = p.member
            body = _sentences(f"欢迎加入工会！会员号 {m.membership_number}，会员卡号 {m.card_number}")
            return [Item(m.member_id, Kind.MEMBERSHIP, "入会申请已通过", body)]
        case MemberReinstated():
            body = _sentences("欢迎回来，会员号与卡号保持不变")
            return [Item(p.member.member_id, Kind.MEMBERSHIP, "会籍已恢复", body)]
        case MemberTransferred():
            body = _sentences("你的会籍已转入新的基层工会，所属工会可在会员卡上查看")
            return [Item(p.member.member_id, Kind.MEMBERSHIP, "会籍已转接", body)]
        case MemberLeft():
            left = labels.MEMBERSHIP["left"]
            body = _sentences(f"原因：{p.reason}" if p.reason.strip() else None, left.next_step)
            return [Item(p.member.member_id, Kind.MEMBERSHIP, "已离会", body)]
    return []


def _transfer(p: EventPayload) -> list[Item]:
    transfer = getattr(p, "transfer", None)
    if not isinstance(transfer, TransferSnapshot):
        return []
    member = transfer.member_id
    match p:
        case TransferRequested():
            expires = day(transfer.expires_at.astimezone(CHINA).date())
            return [
                Item(
                    member, Kind.TRANSFER, "接转申请已提交", _sentences(f"等待接收工会确认，{expires}前有效")
                )
            ]
        case TransferAccepted():
            return [Item(member, Kind.TRANSFER, "接转申请已通过", "接收工会已同意，会籍随即转入。")]
        case TransferDeclined():
            why = f"原因：{transfer.decision_reason}" if transfer.decision_reason else None
            body = _sentences(why, "如有疑问请联系接收工会，也可重新提交接转申请")
            return [Item(member, Kind.TRANSFER, "接转申请未通过", body)]
        case TransferWithdrawn():
            return [Item(member, Kind.TRANSFER, "接转申请已撤回", "会籍仍在原工会。")]
        case TransferExpired():
            body = _sentences("接收工会未在期限内确认，会籍仍在原工会", "如仍需转会，请重新提交接转申请")
            return [Item(member, Kind.TRANSFER, "接转申请已过期", body)]
    return []


# --- relief -----------------------------------------------------------------------------------


def _relief(p: EventPayload, case: ReliefCase) -> list[Item]:
    if isinstance(p, AidDisbursed):
        aid = labels.word(labels.AID_TYPE, p.aid_type) or "帮扶资金"
        body = _sentences(
            f"{aid} {yuan(p.amount_fen)} 元已发放", f"{p.year}年累计 {yuan(case.aid_paid_fen)} 元"
        )
        return [Item(case.member_id, Kind.AID, "帮扶资金已发放", body)]
    status = labels.said(labels.RELIEF, case.status)
    if isinstance(p, CaseTransferred):
        body = _sentences("你的困难帮扶档案已转至新的工会跟进", status.next_step)
        return [Item(case.member_id, Kind.RELIEF, "困难帮扶档案已转接", body)]
    return [Item(case.member_id, Kind.RELIEF, f"困难帮扶：{status.label}", _sentences(status.next_step))]


# What a programme's payment is called in words (a programme not known yet: 帮扶资金).
PROGRAMME_MONEY: dict[str, str] = {Programme.CONSOLATION: "送温暖慰问金", Programme.STUDENT_AID: "金秋助学金"}


def _programme_aid(p: ProgrammeAidPaid) -> Item:
    """A payment by 送温暖 or 金秋助学: the programme's title and the amount; the card lists them all."""
    money = PROGRAMME_MONEY.get(p.payment.programme, "帮扶资金")
    body = _sentences(
        f"“{p.payment.title}” {yuan(p.payment.amount_fen)} 元已发放", "详情见会员卡上的“我的慰问与助学”"
    )
    return Item(p.member_id, Kind.AID, f"{money}已发放", body)


# --- legal ------------------------------------------------------------------------------------

MEDIATION_ENDED = {
    MediationOutcome.AGREEMENT: "调解达成协议",
    MediationOutcome.FAILED: "调解不成",
    MediationOutcome.WINDOW_PASSED: "调解期满未解决",
}
ARBITRATION = {
    ArbitrationStep.ACCEPTED: "仲裁委已受理",
    ArbitrationStep.EXTENDED: "仲裁审理期限已延长",
    ArbitrationStep.AWARDED: "仲裁裁决已作出",
}


def _legal_title(p: EventPayload, case: LegalCase) -> str | None:
    """The headline of a legal event for the worker, or None when it tells them nothing new."""
    match p:
        case CaseFiled():
            return "法律援助申请已登记"
        case IntakeDecided():
            return {
                Disposition.ACCEPT: "法律援助申请已受理",
                Disposition.ACCEPT_AND_CLOSE: "已提供法律咨询，案件办结",
                Disposition.REJECT: "法律援助申请未受理",
            }.get(p.disposition)
        case StageChanged():
            return f"维权案件进入新阶段：{labels.said(labels.STAGE, case.stage).label}"
        case MediationEnded():
            return MEDIATION_ENDED[p.outcome]
        case ArbitrationProgressed():
            return ARBITRATION[p.step]
        case CaseClosed():
            return f"维权案件已结案：{labels.word(labels.OUTCOME, p.outcome)}"
        case CounselAssigned():
            return "已为你更换法律援助人员" if p.previous_counsel_id else "已为你指派法律援助人员"
    return None  # deadlines are computed when the inbox is read; letters concern employers


def _legal(p: EventPayload, case: LegalCase) -> list[Item]:
    title = _legal_title(p, case)
    if title is None:
        return []
    stage = labels.said(labels.STAGE, case.stage)
    kind = labels.word(labels.DISPUTE_KIND, case.kind)
    recovered = (
        f"为你追回 {yuan(p.recovered_fen)} 元" if isinstance(p, CaseClosed) and p.recovered_fen else None
    )
    deadline = case.next_deadline
    next_due = (
        f"下一期限：{labels.word(labels.DEADLINE, deadline.name)}，{day(deadline.due_on)}"
        if deadline is not None and case.stage != "closed"
        else None
    )
    body = _sentences(f"案件 {case.case_no}（{kind}）", recovered, stage.next_step, next_due)
    return [Item(member_id, Kind.LEGAL, title, body) for member_id in dict.fromkeys(case.member_ids)]


# --- competitions and partners ----------------------------------------------------------------


def _score(score: Decimal) -> str:
    return format(score.normalize(), "f")  # 95.5000 -> 95.5, 90.0000 -> 90


def _competitions(p: EventPayload) -> list[Item]:
    match p:
        case EntryRegistered():
            c = p.competition
            body = _sentences(
                f"{COMPETITION_KIND_LABELS[c.kind]}“{c.name}”报名成功，参赛号 {p.entry.entry_no}"
            )
            return [Item(p.member_id, Kind.COMPETITION, "竞赛报名成功", body)]
        case EntryWithdrawn():
            body = _sentences(f"“{p.competition.name}”的报名已撤销（已离会）")
            return [Item(p.member_id, Kind.COMPETITION, "竞赛报名已撤销", body)]
        case ResultFinalized():
            team = f"（{p.entry.team_name}）" if p.entry.team_name else ""
            body = _sentences(
                f"“{p.competition.name}”{p.stage_name}{team}：第 {p.rank} 名（共 {p.of_entries} 个参赛），"
                f"得分 {_score(p.score)}"
            )
            return [Item(p.member_id, Kind.COMPETITION, "竞赛成绩已公布", body)]
        case AwardGranted():
            rank = f"（第 {p.rank} 名）" if p.rank else ""
            body = _sentences(f"你在“{p.competition.name}”中获得“{p.title}”{rank}")
            return [Item(p.member_id, Kind.COMPETITION, "获得竞赛奖励", body)]
        case HonourGranted():
            body = _sentences(f"你获得“{p.title}”荣誉称号，有效期至{day(p.valid_until)}")
            return [Item(p.member_id, Kind.HONOUR, "荣誉称号已授予", body)]
        case HonourRenewed():
            body = _sentences(f"“{p.title}”荣誉称号已续期至{day(p.valid_until)}")
            return [Item(p.member_id, Kind.HONOUR, "荣誉称号已续期", body)]
        case HonourRevoked():
            body = _sentences(f"“{p.title}”荣誉称号自{day(p.revoked_on)}起撤销", "如有异议请联系所在工会")
            return [Item(p.member_id, Kind.HONOUR, "荣誉称号已撤销", body)]
    return []


def items_for(payload: EventPayload) -> list[Item]:
    """The inbox items one event makes, each for the member it is about."""
    case = getattr(payload, "case", None)
    if isinstance(case, ReliefCase):
        return _relief(payload, case)
    if isinstance(case, LegalCase):
        return _legal(payload, case)
    if isinstance(payload, ProgrammeAidPaid):
        return [_programme_aid(payload)]
    if isinstance(payload, OfferRedeemed):
        body = "你在合作商户使用了一项会员优惠，详情见会员卡上的使用记录。"
        return [Item(payload.member_id, Kind.REDEMPTION, "会员优惠已使用", body)]
    return _membership(payload) or _transfer(payload) or _competitions(payload)


# --- deadlines, computed when the inbox is read ----------------------------------------------


@dataclass(frozen=True)
class Listed:
    """An item as the inbox lists it: its place in the order and its words."""

    item_id: uuid.UUID
    occurred_at: datetime
    kind: str
    title: str
    body: str


DEADLINE_ITEMS = uuid.UUID("6f1e2c1a-2b7d-4c55-9a55-0b8a2f1d7e10")  # namespace of their ids


def deadline_item(
    case_id: uuid.UUID,
    case_no: str,
    dispute_kind: str,
    deadline: str,
    due_on: date,
    today: date,
) -> Listed | None:
    """A legal case's next deadline as an item once it is NEAR_DAYS days away or fewer (and not
    past). It "occurred" at the start of the first day it was near (China time), so it sorts
    among the other items and keeps its place from one read to the next."""
    left = (due_on - today).days
    if not 0 <= left <= NEAR_DAYS:
        return None
    name = labels.word(labels.DEADLINE, deadline)
    kind = labels.word(labels.DISPUTE_KIND, dispute_kind)
    when = "今天到期" if left == 0 else f"还有 {left} 天"
    body = _sentences(
        f"案件 {case_no}（{kind}）：{name}为{day(due_on)}，{when}", "请留意，需要帮助请联系工会"
    )
    near_since = datetime.combine(due_on - timedelta(days=NEAR_DAYS), time(0), CHINA)
    item_id = uuid.uuid5(DEADLINE_ITEMS, f"{case_id}/{deadline}/{due_on.isoformat()}")
    return Listed(item_id, near_since, Kind.DEADLINE, f"期限临近：{name}", body)


def today_in_china(now: datetime) -> date:
    return now.astimezone(CHINA).date()


# --- order and paging -------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Position:
    """Where an item sorts: newest first means descending (occurred_at, item_id)."""

    occurred_at: datetime
    item_id: uuid.UUID


def position(item: Listed) -> Position:
    return Position(item.occurred_at, item.item_id)


def encode_cursor(p: Position) -> str:
    return cursors.encode({"t": p.occurred_at.isoformat(), "i": str(p.item_id)})


def decode_cursor(cursor: str) -> Position:
    data = cursors.decode(cursor)
    try:
        at, item = data["t"], data["i"]
        if not (isinstance(at, str) and isinstance(item, str)):
            raise TypeError
        item_id = uuid.UUID(item)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidCursor("cursor is not one this service handed out") from exc
    return Position(cursors.aware_time(at), item_id)


def page(stored: list[Listed], computed: list[Listed], after: Position | None, limit: int) -> list[Listed]:
    """One page, newest first: `stored` is already the first `limit` stored items after the
    cursor in that order; the computed deadline items join them where they sort."""
    merged = [*stored, *(c for c in computed if after is None or position(c) < after)]
    merged.sort(key=position, reverse=True)
    return merged[:limit]
