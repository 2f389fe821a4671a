"""A base union's distribution list for a campaign: generated from what relief knows, edited
with reasons, submitted, approved by someone else (four eyes), paid once per recipient per
campaign, never over the union's allocation, however often or concurrently it is asked."""

import uuid
from dataclasses import dataclass
from typing import Any

from services.relief.domain.aid import check_idempotency_key
from services.relief.domain.campaigns import (
    Candidate,
    HeldEntry,
    ListAction,
    ListStatus,
    Payable,
    check_entry_amount,
    check_entry_group,
    check_payable,
    check_submittable,
    clean_reason,
    next_list_status,
    plan_regeneration,
    recipient_key,
    refuse_overdraw,
    require_four_eyes,
    to_pay,
)
from services.relief.handlers.campaigns import campaign_for, candidate, in_campaign, require_covers, union_of
from services.relief.handlers.common import Deps
from services.relief.store import aid
from services.relief.store import campaigns as store
from services.relief.store import employers as employer_store
from services.relief.store.campaigns import EntryRow, ListRow, PaymentRow
from services.relief.store.receipts import insert_receipt, receipts_of
from shared import audit, membership
from shared.auth import Caller
from shared.contracts.relief_programmes import (
    EmployerConsoled,
    Programme,
    ProgrammeAidPaid,
    ProgrammeReceipt,
    RecipientGroup,
    employer_subject,
)
from shared.db import Conn
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events import Trace, china_date


@dataclass(frozen=True)
class ListView:
    head: ListRow
    entries: list[EntryRow]


def _subject(list_id: uuid.UUID) -> str:
    return f"campaign-list:{list_id}"


async def _list_for(conn: Conn, caller: Caller, list_id: uuid.UUID) -> ListRow:
    """The list, if the caller's scope covers its union."""
    found = await store.get_list(conn, list_id)
    if found is None:
        raise NotFound("没有这份发放名单")
    await campaign_for(conn, caller, found.campaign_id)
    if not caller.principal.covers_union(found.union_path):
        raise NotFound("没有这份发放名单")  # not even that it exists, outside the union's scope
    return found


async def _view(conn: Conn, list_id: uuid.UUID) -> ListView:
    found = await store.get_list(conn, list_id)
    assert found is not None
    return ListView(found, await store.entries_of(conn, list_id))


async def view(deps: Deps, caller: Caller, list_id: uuid.UUID) -> ListView:
    async with deps.pool.acquire() as conn:
        await _list_for(conn, caller, list_id)
        return await _view(conn, list_id)


async def summaries(
    deps: Deps, caller: Caller, campaign_id: uuid.UUID, union_id: uuid.UUID | None
) -> list[ListRow]:
    async with deps.pool.acquire() as conn:
        campaign = await campaign_for(conn, caller, campaign_id)
        root = union_id or caller.principal.union_id or campaign.union_id
        union = await union_of(conn, root)
        require_covers(caller, union)
        return await store.lists_in(conn, campaign_id, union.union_id)


async def _locked(
    conn: Conn, caller: Caller, list_id: uuid.UUID, action: ListAction
) -> tuple[ListRow, ListStatus]:
    """The list locked for a step, and the status the step leads to (or a 409)."""
    await _list_for(conn, caller, list_id)
    status = await store.lock_list(conn, list_id)
    assert status is not None
    found = await store.get_list(conn, list_id)
    assert found is not None
    return found, next_list_status(status, action)


# Generating --------------------------------------------------------------------------------------


async def generate(
    deps: Deps, caller: Caller, campaign_id: uuid.UUID, union_id: uuid.UUID
) -> tuple[ListView, bool]:
    """The union's list, made (True) or generated again while a draft (False), keeping edits."""
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        campaign = await campaign_for(conn, caller, campaign_id)
        union = await union_of(conn, union_id)
        require_covers(caller, union)
        in_campaign(campaign, union)
        if union.kind != "base":
            raise InvalidInput(f"发放名单由基层工会编制,“{union.name}”不是基层工会")
        created = await store.insert_list(conn, uuid.uuid4(), campaign_id, union_id, caller.actor, now)
        list_id = await store.list_of_union(conn, campaign_id, union_id)
        assert list_id is not None
        status = await store.lock_list(conn, list_id)
        assert status is not None
        next_list_status(status, ListAction.GENERATE)
        found = [
            c
            for f in await store.found_in(conn, union_id, china_date(now))
            if f.union_id == union_id and (c := candidate(f, campaign.amounts_fen)) is not None
        ]
        held = [
            HeldEntry(e.entry_id, recipient_key(e.member_id, e.employer_id), e.source == "generated",
                      e.edited, e.group, e.amount_fen)
            for e in await store.entries_of(conn, list_id)
        ]  # fmt: skip
        plan = plan_regeneration(held, found)
        await store.delete_entries(conn, plan.delete)
        for entry_id, c in plan.update:
            await store.regroup_entry(conn, entry_id, c.group, c.amount_fen)
        await store.insert_entries(conn, list_id, plan.insert, "generated", "")
        await store.set_list_status(conn, list_id, ListStatus.DRAFT, now, prepared_by=caller.actor)
        await audit.record(
            conn, trace, "campaign_list.generated" if created else "campaign_list.regenerated",
            _subject(list_id), record_id=list_id, campaign_id=campaign_id, union_id=union_id,
            added=len(plan.insert), changed=len(plan.update), removed=len(plan.delete),
        )  # fmt: skip
        return await _view(conn, list_id), created


# Editing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewEntry:
    member_id: uuid.UUID | None
    employer_id: uuid.UUID | None
    group: RecipientGroup
    reason: str
    amount_fen: int | None


async def add_entry(deps: Deps, caller: Caller, list_id: uuid.UUID, new: NewEntry) -> ListView:
    if (new.member_id is None) == (new.employer_id is None):
        raise InvalidInput("请指定一名职工(member_id)或一家企业(employer_id)")
    reason = clean_reason(new.reason)
    async with deps.pool.acquire() as conn, conn.transaction():
        found, _ = await _locked(conn, caller, list_id, ListAction.EDIT)
        campaign = await campaign_for(conn, caller, found.campaign_id)
        amount = check_entry_group(new.group, new.employer_id is not None, campaign.amounts_fen)
        if new.amount_fen is not None:
            check_entry_amount(new.amount_fen)
            amount = new.amount_fen
        await _require_in_union(conn, found, new)
        key = recipient_key(new.member_id, new.employer_id)
        if any(
            recipient_key(e.member_id, e.employer_id) == key for e in await store.entries_of(conn, list_id)
        ):
            raise Conflict("该对象已在名单中")
        [entry_id] = await store.insert_entries(
            conn, list_id, [Candidate(new.member_id, new.employer_id, new.group, amount)], "added", reason
        )
        await audit.record(
            conn, Trace.of(caller), "campaign_list.entry_added", _subject(list_id), record_id=list_id,
            reason=reason, entry_id=entry_id, recipient=key, group=new.group.value, amount_fen=amount,
        )  # fmt: skip
        return await _view(conn, list_id)


async def _require_in_union(conn: Conn, found: ListRow, new: NewEntry) -> None:
    if new.member_id is not None:
        member = await membership.get_member(conn, new.member_id)
        if member is None or member.base_union_id != found.union_id:
            raise Conflict(f"该职工不是“{found.union_name}”的会员")
        if not member.active:
            raise Conflict("该职工的会籍不在有效状态")
    else:
        assert new.employer_id is not None
        employer = await employer_store.get_employer(conn, new.employer_id)
        if employer is None or employer.union_id != found.union_id:
            raise Conflict(f"该企业不属于“{found.union_name}”")


async def change_entry(
    deps: Deps,
    caller: Caller,
    list_id: uuid.UUID,
    entry_id: uuid.UUID,
    reason: str,
    *,
    included: bool | None = None,
    amount_fen: int | None = None,
) -> ListView:
    """Exclude, include, or change an amount: always with a reason, while the list is a draft."""
    why = clean_reason(reason)
    if amount_fen is not None:
        check_entry_amount(amount_fen)
    async with deps.pool.acquire() as conn, conn.transaction():
        await _locked(conn, caller, list_id, ListAction.EDIT)
        entry = await store.get_entry(conn, list_id, entry_id)
        if entry is None:
            raise NotFound("名单中没有这一条")
        await store.edit_entry(conn, entry_id, why, included=included, amount_fen=amount_fen)
        action = "amount_changed" if amount_fen is not None else "included" if included else "excluded"
        await audit.record(
            conn, Trace.of(caller), f"campaign_list.entry_{action}", _subject(list_id), record_id=list_id,
            reason=why, entry_id=entry_id, amount_fen=amount_fen, previous_amount_fen=entry.amount_fen,
        )  # fmt: skip
        return await _view(conn, list_id)


# Signing off -------------------------------------------------------------------------------------


async def submit(deps: Deps, caller: Caller, list_id: uuid.UUID) -> ListView:
    async with deps.pool.acquire() as conn, conn.transaction():
        found, status = await _locked(conn, caller, list_id, ListAction.SUBMIT)
        check_submittable(found.included_count)
        await store.set_list_status(conn, list_id, status, deps.now(), submitted_by=caller.actor)
        await audit.record(
            conn, Trace.of(caller), "campaign_list.submitted", _subject(list_id), record_id=list_id,
            included_count=found.included_count, total_fen=found.total_fen,
        )  # fmt: skip
        return await _view(conn, list_id)


async def approve(deps: Deps, caller: Caller, list_id: uuid.UUID) -> ListView:
    async with deps.pool.acquire() as conn, conn.transaction():
        found, status = await _locked(conn, caller, list_id, ListAction.APPROVE)
        require_four_eyes(found.submitted_by, caller.actor)
        await store.set_list_status(
            conn, list_id, status, deps.now(), submitted_by=found.submitted_by, approved_by=caller.actor
        )
        await audit.record(
            conn, Trace.of(caller), "campaign_list.approved", _subject(list_id), record_id=list_id,
            submitted_by=found.submitted_by, total_fen=found.total_fen,
        )  # fmt: skip
        return await _view(conn, list_id)


async def send_back(deps: Deps, caller: Caller, list_id: uuid.UUID, reason: str) -> ListView:
    why = clean_reason(reason)
    async with deps.pool.acquire() as conn, conn.transaction():
        found, status = await _locked(conn, caller, list_id, ListAction.RETURN)
        await store.set_list_status(conn, list_id, status, deps.now())
        await audit.record(
            conn, Trace.of(caller), "campaign_list.returned", _subject(list_id), record_id=list_id,
            reason=why, from_status=found.status.value,
        )  # fmt: skip
        return await _view(conn, list_id)


# Paying ------------------------------------------------------------------------------------------


async def pay(deps: Deps, caller: Caller, list_id: uuid.UUID, idempotency_key: str | None) -> dict[str, Any]:
    """Every included, unpaid entry in one transaction from the union's allocation: all or nothing."""
    key = check_idempotency_key(idempotency_key)
    async with deps.pool.acquire() as conn, conn.transaction():
        await aid.lock_idempotency_key(conn, key)
        await _list_for(conn, caller, list_id)
        first = await store.pay_request(conn, key)
        if first is not None:
            if first[0] != list_id:
                raise Conflict("这个 Idempotency-Key 已用于另一份名单的发放")
            return {**first[1], "replayed": True}
        result = await _pay(conn, deps, caller, list_id)
        await store.insert_pay_request(conn, key, list_id, result, caller.actor, deps.now())
        return {**result, "replayed": False}


async def _pay(conn: Conn, deps: Deps, caller: Caller, list_id: uuid.UUID) -> dict[str, Any]:
    now = deps.now()
    status = await store.lock_list(conn, list_id)
    assert status is not None
    found = await store.get_list(conn, list_id)
    assert found is not None
    if status is ListStatus.PAID:  # paid before, under another key: nothing more to pay
        return {"list_id": str(list_id), "status": status.value, "paid_count": 0, "paid_fen": 0,
                "already_paid_count": 0}  # fmt: skip
    paid_status = next_list_status(status, ListAction.PAY)
    campaign = await campaign_for(conn, caller, found.campaign_id)
    check_payable(campaign.status, campaign.starts_on, campaign.ends_on, china_date(now))
    if await store.get_allocation(conn, campaign.campaign_id, found.union_id) is None:
        raise Conflict(f"“{found.union_name}”尚未分到本次活动的额度")
    entries = {
        e.entry_id: e for e in await store.entries_of(conn, list_id) if e.included and e.paid_at is None
    }
    payable = [
        Payable(e.entry_id, recipient_key(e.member_id, e.employer_id), e.amount_fen) for e in entries.values()
    ]
    fresh, already = to_pay(
        payable, await store.paid_keys(conn, campaign.campaign_id, [p.key for p in payable])
    )
    paid: list[PaymentRow] = []
    for p in fresh:  # in recipient order: lists sharing recipients never deadlock
        e = entries[p.entry_id]
        row = PaymentRow(
            uuid.uuid4(), campaign.campaign_id, list_id, e.entry_id, found.union_id, p.key, e.group,
            e.amount_fen, caller.actor, now,
        )  # fmt: skip
        if await store.insert_payment(conn, row):
            paid.append(row)
        else:
            already += 1  # another list paid this recipient meanwhile
    total = sum(r.amount_fen for r in paid)
    if total:
        drawn = await store.draw(conn, campaign.campaign_id, found.union_id, total)
        if drawn is None:
            current = await store.get_allocation(conn, campaign.campaign_id, found.union_id)
            assert current is not None
            raise refuse_overdraw(total, current.allocation)
    await store.mark_paid(conn, [r.entry_id for r in paid], now)
    await store.set_list_status(
        conn, list_id, paid_status, now, submitted_by=found.submitted_by, approved_by=found.approved_by
    )
    trace = Trace.of(caller)
    for payment in paid:
        await _announce(conn, deps, trace, campaign.title, entries[payment.entry_id], payment)
    await audit.record(
        conn, trace, "campaign_list.paid", _subject(list_id), record_id=list_id,
        campaign_id=campaign.campaign_id, paid_count=len(paid), paid_fen=total, already_paid_count=already,
    )  # fmt: skip
    return {"list_id": str(list_id), "status": paid_status.value, "paid_count": len(paid), "paid_fen": total,
            "already_paid_count": already}  # fmt: skip


async def _announce(conn: Conn, deps: Deps, trace: Trace, title: str, entry: EntryRow, p: PaymentRow) -> None:
    if entry.employer_id is not None:
        await deps.events.emit(
            conn, trace, employer_subject(entry.employer_id),
            EmployerConsoled(employer_id=entry.employer_id, campaign_id=p.campaign_id, title=title,
                             union_id=p.union_id, amount_fen=p.amount_fen, paid_at=p.paid_at),
        )  # fmt: skip
        return
    assert entry.member_id is not None
    receipt = ProgrammeReceipt(
        payment_id=p.payment_id, programme=Programme.CONSOLATION, source_id=p.campaign_id, title=title,
        amount_fen=p.amount_fen, paid_at=p.paid_at, paying_union_id=p.union_id,
    )  # fmt: skip
    await insert_receipt(conn, entry.member_id, receipt)
    member = await membership.get_member(conn, entry.member_id)
    await deps.events.emit(
        conn, trace, entry.member_id,
        ProgrammeAidPaid(
            member_id=entry.member_id, base_union_id=member.base_union_id if member else p.union_id,
            group=p.group, payment=receipt, receipts=await receipts_of(conn, entry.member_id),
        ),
    )  # fmt: skip
