"""Disputes over a person claimed by two accounts, settled by a cadre of the person's union (or
an admin): transfer the person to the asking account, or keep it with its holder."""

import uuid

from services.identity.adapters.enrollment import EnrollmentUnavailable, LinkRefused
from services.identity.domain.realname import Decision, DisputeStatus, RealNameStatus, may_settle
from services.identity.handlers.common import Deps, Unavailable
from services.identity.handlers.sessions import revoke_sessions
from services.identity.store import accounts, disputes
from services.identity.store.disputes import DisputeRow
from shared import audit
from shared.auth import Caller, Role
from shared.errors import Conflict, Forbidden, NotFound
from shared.events import Trace


def _may_list(caller: Caller) -> None:
    if caller.principal.role not in (Role.ADMIN, Role.CADRE):
        raise Forbidden("只有工会干部和管理员可以查看实名争议")


async def list_disputes(
    deps: Deps, caller: Caller, *, status: DisputeStatus | None, limit: int
) -> list[DisputeRow]:
    _may_list(caller)
    p = caller.principal
    async with deps.pool.acquire() as conn:
        return await disputes.list_disputes(
            conn, union_id=p.union_id, everything=p.role is Role.ADMIN, status=status, limit=limit
        )


async def _dispute_to_settle(deps: Deps, caller: Caller, dispute_id: uuid.UUID) -> DisputeRow:
    _may_list(caller)
    async with deps.pool.acquire() as conn:
        dispute = await disputes.get_dispute(conn, dispute_id)
    if dispute is None or not may_settle(caller.principal, dispute.union_path):
        # Outside the caller's scope it does not exist for them.
        raise NotFound("实名争议不存在或不在您的管辖范围内")
    if dispute.status != "open":
        raise Conflict("该争议已处理", dispute_status=dispute.status)
    return dispute


async def settle_dispute(
    deps: Deps, caller: Caller, dispute_id: uuid.UUID, *, decision: Decision, reason: str
) -> DisputeRow:
    trace = Trace.of(caller)
    dispute = await _dispute_to_settle(deps, caller, dispute_id)
    if decision is Decision.TRANSFER:
        try:
            await deps.enrollment.transfer(dispute.person_id, dispute.holder_id, dispute.account_id)
        except EnrollmentUnavailable as exc:
            raise Unavailable("会员系统暂时不可用，请稍后再试") from exc
        except LinkRefused as refused:
            raise Conflict("会员系统拒绝转移该身份", enrollment_code=refused.code) from refused
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        locked = await disputes.get_dispute(conn, dispute_id, for_update=True)
        if locked is None or locked.status != "open":
            raise Conflict("该争议已处理")
        if decision is Decision.TRANSFER:
            holder = await accounts.account_of_person(conn, dispute.person_id)
            if holder is not None and holder.account_id != dispute.account_id:
                await accounts.set_realname(conn, holder.account_id, RealNameStatus.UNVERIFIED, now)
                await revoke_sessions(
                    deps, conn, trace=trace, account_id=holder.account_id, reason="person_transferred"
                )
            await accounts.set_realname(
                conn, dispute.account_id, RealNameStatus.VERIFIED, now, person_id=dispute.person_id
            )
            status = "transferred"
        else:
            await accounts.set_realname(conn, dispute.account_id, RealNameStatus.UNVERIFIED, now)
            status = "kept"
        await disputes.settle(conn, dispute_id, status, now, caller.actor, reason)
        await audit.record(
            conn, trace, f"dispute.{status}", f"dispute:{dispute_id}", record_id=dispute_id, reason=reason,
            person_id=str(dispute.person_id), account_id=str(dispute.account_id),
            holder_id=str(dispute.holder_id) if dispute.holder_id else None,
        )  # fmt: skip
        settled = await disputes.get_dispute(conn, dispute_id)
    assert settled is not None
    return settled
