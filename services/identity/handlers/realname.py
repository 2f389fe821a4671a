"""Real-name verification: the provider checks name and ID number, enrollment links the person
to the account (or says another account holds it: a dispute for a cadre). Identity never keeps
the national ID, not even hashed: it passes through to the provider and to enrollment."""

import uuid
from dataclasses import dataclass

from services.identity.adapters.enrollment import EnrollmentUnavailable, LinkRefused
from services.identity.domain import limits
from services.identity.domain.ports import ProviderUnavailable, RealNameVerdict
from services.identity.domain.realname import DISPUTE_OPENED, RealNameStatus
from services.identity.handlers.common import Deps, Throttled, Unavailable
from services.identity.store import accounts, attempts, disputes
from shared import audit
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.events import Trace
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Verified:
    status: RealNameStatus
    person_id: uuid.UUID
    member_id: uuid.UUID


class DisputeOpened(Conflict):
    code = "dispute_opened"


class DetailsMismatch(InvalidInput):
    code = "details_mismatch"


async def _attempt(deps: Deps, account_id: uuid.UUID) -> str:
    """Count one more try of the account (limited per day); its phone number for enrollment."""
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        account = await accounts.get_account(conn, account_id, for_update=True)
        if account is None or account.kind != "member" or account.phone_sealed is None:
            raise NotFound("账号不存在")
        if account.status != "active":
            raise Forbidden("该账号已停用")
        if account.realname_status == RealNameStatus.VERIFIED:
            raise Conflict("该账号已完成实名认证")
        tried = await attempts.times(conn, attempts.REALNAME, account_id.bytes, now)
        if wait := limits.window_wait(tried, limits.REALNAME_PER_ACCOUNT, now):
            raise Throttled(wait, "实名认证尝试次数过多")
        await attempts.record(conn, attempts.REALNAME, account_id.bytes, now, succeeded=False)
        return deps.pii.decrypt(account.phone_sealed)


async def _ask_provider(deps: Deps, account_id: uuid.UUID, name: str, national_id: str, trace: Trace) -> None:
    if deps.realname is None:
        raise Unavailable("实名认证服务未配置，请稍后再试")
    try:
        verdict = await deps.realname.verify(name, national_id)
    except ProviderUnavailable as exc:
        raise Unavailable("实名认证服务暂时不可用，请稍后再试") from exc
    if verdict is RealNameVerdict.MISMATCH:
        async with deps.pool.acquire() as conn:
            await audit.record(
                conn, trace, "realname.mismatch", f"account:{account_id}", record_id=account_id
            )
        raise InvalidInput("姓名与身份证号不一致，请核对后重试")


async def verify_real_name(
    deps: Deps, *, account_id: uuid.UUID, name: str, national_id: str, trace: Trace
) -> Verified:
    """The provider's verdict on name and ID, then enrollment's link of the person."""
    phone = await _attempt(deps, account_id)
    await _ask_provider(deps, account_id, name, national_id, trace)
    try:
        linked = await deps.enrollment.link(account_id, name, national_id, phone)
    except EnrollmentUnavailable as exc:
        log.warning("enrollment_unavailable", error=str(exc))
        raise Unavailable("会员系统暂时不可用，请稍后再试") from exc
    except LinkRefused as refused:
        return await _refused(deps, account_id, refused, trace)
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        holder = await accounts.account_of_person(conn, linked.person_id)
        if holder is not None and holder.account_id != account_id:
            # Enrollment and identity disagree on who holds the person: a cadre decides.
            claimed = LinkRefused("claimed_by_another_account", linked.person_id, None)
            return await _refused(deps, account_id, claimed, trace)
        await accounts.set_realname(
            conn, account_id, RealNameStatus.VERIFIED, now, person_id=linked.person_id
        )
        await audit.record(
            conn, trace, "realname.verified", f"account:{account_id}", record_id=account_id,
            person_id=str(linked.person_id), outcome=linked.outcome,
        )  # fmt: skip
    # Enrollment's member id is the person id.
    return Verified(RealNameStatus.VERIFIED, linked.person_id, linked.person_id)


async def _refused(deps: Deps, account_id: uuid.UUID, refused: LinkRefused, trace: Trace) -> Verified:
    now = deps.now()
    if refused.code == "account_already_linked":
        raise Conflict("该账号已关联其他人员，请联系所在工会核实")
    if refused.code != "claimed_by_another_account" or refused.person_id is None:
        async with deps.pool.acquire() as conn:
            await audit.record(
                conn, trace, "realname.details_mismatch", f"account:{account_id}", record_id=account_id,
                reason=refused.code,
            )  # fmt: skip
        raise DetailsMismatch("与工会登记的会员信息不一致，请联系所在工会核实")
    async with deps.pool.acquire() as conn, conn.transaction():
        holder = await accounts.account_of_person(conn, refused.person_id)
        dispute = await disputes.open_dispute(
            conn,
            account_id,
            refused.person_id,
            holder.account_id if holder else None,
            refused.union_path,
            now,
        )
        await accounts.set_realname(conn, account_id, RealNameStatus.DISPUTED, now)
        await audit.record(
            conn, trace, "dispute.opened", f"dispute:{dispute.dispute_id}", record_id=dispute.dispute_id,
            account_id=str(account_id), person_id=str(refused.person_id),
        )  # fmt: skip
    raise DisputeOpened(DISPUTE_OPENED, dispute_id=str(dispute.dispute_id), message=DISPUTE_OPENED)
