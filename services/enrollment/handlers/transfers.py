"""Transfer commands (接转): request, accept, decline, withdraw, and expiry by the durable timer.
Each runs in one transaction: the request row, the member (on acceptance), the expiry timer, the
audit entry and the events (through the outbox) commit together.

Lock order, the same everywhere: the request's expiry timer, then the member, then the request.
The timer fires in a transaction that holds its row first and then needs the member: a command
that took the member first and cancelled the timer second could deadlock with it.
"""

import uuid
from dataclasses import replace

from services.enrollment.domain import transfers as rules
from services.enrollment.domain.membership import transfer
from services.enrollment.handlers.common import Deps, existing_member, existing_union
from services.enrollment.store import members, transfers
from shared import audit
from shared.auth import Caller
from shared.contracts.enrollment import (
    MemberTransferred,
    TransferAccepted,
    TransferDeclined,
    TransferExpired,
    TransferRequested,
    TransferStatus,
    TransferWithdrawn,
)
from shared.contracts.envelope import EventPayload
from shared.db import Conn
from shared.errors import NotFound
from shared.events import Trace
from shared.timers import DurableTimer, FireTimer, Timer


def _subject(t: rules.Transfer) -> str:
    return f"transfer:{t.transfer_id}"


_ACTIONS = {
    TransferStatus.PENDING: "transfer.requested",
    TransferStatus.ACCEPTED: "transfer.accepted",
    TransferStatus.DECLINED: "transfer.declined",
    TransferStatus.WITHDRAWN: "transfer.withdrawn",
    TransferStatus.EXPIRED: "transfer.expired",
}


async def _record(deps: Deps, conn: Conn, trace: Trace, t: rules.Transfer, payload: EventPayload) -> None:
    """The step's trail entry and event, the member's next version."""
    version = await audit.record_and_next_version(
        conn, trace, t.member_id, _ACTIONS[t.status], _subject(t), reason=t.decision_reason or t.reason,
        transfer_id=t.transfer_id, from_union_id=t.from_union_id, to_union_id=t.to_union_id,
        status=t.status.value,
    )  # fmt: skip
    await deps.events.emit(conn, trace, t.member_id, payload, version=version)


async def _move(
    deps: Deps, conn: Conn, trace: Trace, member: members.MemberRow, t: rules.Transfer, *, automatic: bool
) -> None:
    """Acceptance: the member's period in the sending union closes and one in the receiving union
    opens. MemberTransferred follows TransferAccepted, so whoever follows membership moves too."""
    assert t.decided_at is not None
    moved = replace(member, membership=transfer(member.membership, t.to_union_id, t.decided_at, t.reason))
    await members.save_member(conn, moved)
    accepted = TransferAccepted(transfer=transfers.snapshot(t), automatic=automatic)
    await _record(deps, conn, trace, t, accepted)
    move = MemberTransferred(
        from_union_id=t.from_union_id, to_union_id=t.to_union_id, reason=t.reason,
        member=members.snapshot(moved),
    )  # fmt: skip
    await deps.events.emit(conn, trace, t.member_id, move)


async def request_transfer(
    deps: Deps, caller: Caller, member_id: uuid.UUID, to_union_id: uuid.UUID, reason: str
) -> rules.Transfer:
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        member = await existing_member(conn, member_id, lock=True)
        sender = await existing_union(conn, member.membership.base_union_id)
        rules.require_may_ask(caller.principal, member_id, sender)
        receiver = await existing_union(conn, to_union_id)
        t = rules.request(
            uuid.uuid4(), member_id=member_id, status=member.membership.status, sender=sender,
            receiver=receiver, pending=await transfers.pending_of(conn, member_id), reason=reason,
            requested_by=caller.actor, at=now,
        )  # fmt: skip
        await transfers.insert(conn, t)
        if t.is_pending:
            await transfers.schedule_expiry(conn, t)
            await _record(deps, conn, trace, t, TransferRequested(transfer=transfers.snapshot(t)))
        else:  # accepted at once: one step, one TransferAccepted (automatic) and the move
            await _move(deps, conn, trace, member, t, automatic=True)
        return t


async def _locked(conn: Conn, transfer_id: uuid.UUID) -> tuple[rules.Transfer, members.MemberRow]:
    """The request and its member, in the lock order (timer, member, request)."""
    seen = await transfers.get(conn, transfer_id)
    if seen is None:
        raise NotFound(f"transfer {transfer_id} does not exist")
    await transfers.cancel_expiry(conn, seen)  # rolled back with the rest if the command is refused
    member = await existing_member(conn, seen.member_id, lock=True)
    t = await transfers.get(conn, transfer_id, for_update=True)
    assert t is not None  # requests are never deleted
    return t, member


async def accept_transfer(deps: Deps, caller: Caller, transfer_id: uuid.UUID) -> rules.Transfer:
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        t, member = await _locked(conn, transfer_id)
        rules.require_may_decide(caller.principal, await existing_union(conn, t.to_union_id))
        accepted = rules.accept(t, caller.actor, now)
        rules.require_still_movable(t, member.membership.status, member.membership.base_union_id)
        await transfers.save_decision(conn, accepted)
        await _move(deps, conn, trace, member, accepted, automatic=False)
        return accepted


async def decline_transfer(deps: Deps, caller: Caller, transfer_id: uuid.UUID, reason: str) -> rules.Transfer:
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        t, _ = await _locked(conn, transfer_id)
        rules.require_may_decide(caller.principal, await existing_union(conn, t.to_union_id))
        declined = rules.decline(t, caller.actor, now, reason)
        await transfers.save_decision(conn, declined)
        await _record(deps, conn, trace, declined, TransferDeclined(transfer=transfers.snapshot(declined)))
        return declined


async def withdraw_transfer(
    deps: Deps, caller: Caller, transfer_id: uuid.UUID, reason: str | None
) -> rules.Transfer:
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        t, _ = await _locked(conn, transfer_id)
        rules.require_may_withdraw(caller.principal, t, await existing_union(conn, t.from_union_id))
        withdrawn = rules.withdraw(t, caller.actor, now, reason)
        await transfers.save_decision(conn, withdrawn)
        await _record(deps, conn, trace, withdrawn, TransferWithdrawn(transfer=transfers.snapshot(withdrawn)))
        return withdrawn


async def withdraw_on_leaving(deps: Deps, conn: Conn, trace: Trace, member_id: uuid.UUID) -> None:
    """A member who leaves takes back the transfer they were waiting for (in leave's transaction,
    which holds the member locked)."""
    t = await transfers.pending_of(conn, member_id)
    if t is None:
        return
    # The timer's row is not taken here (the member is locked already): if it fires meanwhile, it
    # finds the request answered and does nothing.
    withdrawn = rules.withdraw(t, trace.actor, deps.now(), rules.WITHDRAWN_ON_LEAVING)
    await transfers.save_decision(conn, withdrawn)
    await _record(deps, conn, trace, withdrawn, TransferWithdrawn(transfer=transfers.snapshot(withdrawn)))


def fire_expiry(deps: Deps) -> FireTimer:
    async def fire(conn: Conn, timer: Timer) -> None:
        transfer_id = transfers.transfer_of(timer)
        seen = await transfers.get(conn, transfer_id)
        if seen is None or not seen.is_pending:
            return  # answered while the timer was due
        await existing_member(conn, seen.member_id, lock=True)
        t = await transfers.get(conn, transfer_id, for_update=True)
        if t is None or not t.is_pending:
            return
        expired = rules.expire(t, deps.now())
        await transfers.save_decision(conn, expired)
        trace = Trace(actor=rules.EXPIRED_BY, correlation_id=_subject(t))
        await _record(deps, conn, trace, expired, TransferExpired(transfer=transfers.snapshot(expired)))

    return fire


def expiry_timer(deps: Deps, interval_seconds: float, *, batch: int = 100) -> DurableTimer:
    """The loop that expires unanswered transfer requests (run by the service, or driven by hand)."""
    return DurableTimer(
        deps.pool,
        {transfers.EXPIRY_KIND: fire_expiry(deps)},
        interval_seconds=interval_seconds,
        now=deps.now,
        batch=batch,
    )
