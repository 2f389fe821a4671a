"""Sign-in by phone and one-time code: send a code, check it (the first success signs the member
up). Enumeration-safe: a number with or without an account gets the same answers. Limited per
number and per client address; repeated failures lock the number with a growing backoff."""

import uuid

from services.identity.domain import limits
from services.identity.domain.codes import CODE_VALIDITY, CodeCheck, Purpose, check_code, code_hash, new_code
from services.identity.domain.ports import NotifierUnavailable
from services.identity.domain.sessions import TokenPair
from services.identity.handlers.common import Deps, Throttled, Unauthorized, Unavailable
from services.identity.handlers.sessions import open_session
from services.identity.store import accounts, attempts, codes
from shared import audit
from shared.contracts.identity import AccessClaims, AccountRole
from shared.db import Conn
from shared.errors import Forbidden
from shared.events import Trace
from shared.logging import get_logger
from shared.pii import mask_phone

log = get_logger(__name__)


def _address(deps: Deps, address: str) -> bytes:
    # Client addresses are counted by keyed hash too: nothing to leak from the attempts table.
    return deps.pii.lookup_hash(f"address:{address}")


async def send_code(deps: Deps, *, phone: str, purpose: Purpose, address: str, trace: Trace) -> None:
    """A new code to the number (the last one sent no longer counts). Throttled per number and
    per address; if the notifier cannot take it, nothing counts as sent (503). The code is
    committed before the notifier is asked, so no connection waits on the SMS gateway."""
    now = deps.now()
    phone_hash, addr = deps.pii.lookup_hash(phone), _address(deps, address)
    async with deps.pool.acquire() as conn, conn.transaction():
        await attempts.lock_subject(conn, phone_hash)
        waits = [
            limits.window_wait(
                await attempts.times(conn, attempts.CODE_SENT, phone_hash, now), limits.SEND_PER_PHONE, now
            ),
            limits.window_wait(
                await attempts.times(conn, attempts.CODE_SENT, addr, now), limits.SEND_PER_ADDRESS, now
            ),
        ]
        if wait := max((w for w in waits if w), default=None):
            log.info("code_throttled", phone=mask_phone(phone), retry_after=wait)
            raise Throttled(wait, "验证码发送过于频繁")
        code, code_id = new_code(), uuid.uuid4()
        await codes.replace_code(
            conn, code_id, phone_hash, purpose.value, code_hash(deps.code_key, code_id, code), now,
            now + CODE_VALIDITY,
        )  # fmt: skip
        await attempts.record(conn, attempts.CODE_SENT, phone_hash, now, succeeded=True)
        await attempts.record(conn, attempts.CODE_SENT, addr, now, succeeded=True)
    try:
        await deps.notifier.send_code(phone, code, purpose=purpose.value)
    except NotifierUnavailable as exc:
        log.warning("code_not_sent", phone=mask_phone(phone), error=str(exc))
        async with deps.pool.acquire() as conn, conn.transaction():
            await codes.close_code(conn, code_id, "dead")
            await attempts.forget(conn, attempts.CODE_SENT, [phone_hash, addr], now)
            await audit.record(
                conn, trace, "code.not_sent", f"phone:{mask_phone(phone)}", purpose=purpose.value
            )
        raise Unavailable("短信服务暂时不可用，请稍后再试") from exc
    async with deps.pool.acquire() as conn:
        await audit.record(conn, trace, "code.sent", f"phone:{mask_phone(phone)}", purpose=purpose.value)


async def sign_in_with_code(deps: Deps, *, phone: str, code: str, address: str, trace: Trace) -> TokenPair:
    """A token pair for the right code; the first one creates the member account. Anything else
    answers the same 401 and counts as a failure of the number and of the address."""
    now = deps.now()
    phone_hash, addr = deps.pii.lookup_hash(phone), _address(deps, address)
    async with deps.pool.acquire() as conn:
        async with conn.transaction():
            await attempts.lock_subject(conn, phone_hash)
            in_a_row, last = await attempts.failures_in_a_row(conn, attempts.CODE_CHECKED, phone_hash, now)
            failed_here = await attempts.times(conn, attempts.CODE_CHECKED, addr, now, failed_only=True)
            waits = [
                limits.lockout_wait(in_a_row, last, now),
                limits.window_wait(failed_here, limits.CHECK_FAILURES_PER_ADDRESS, now),
            ]
            if wait := max((w for w in waits if w), default=None):
                raise Throttled(wait, "验证码错误次数过多，已暂时锁定")
            stored = await codes.waiting_code(conn, phone_hash, Purpose.SIGN_IN.value)
            verdict = check_code(deps.code_key, stored, code, now)
            right = verdict is CodeCheck.RIGHT
            await attempts.record(conn, attempts.CODE_CHECKED, phone_hash, now, succeeded=right)
            await attempts.record(conn, attempts.CODE_CHECKED, addr, now, succeeded=right)
            if right:
                assert stored is not None
                await codes.close_code(conn, stored.code_id, "used")
                return await _signed_in(deps, conn, phone, phone_hash, trace)
            if stored is not None:
                if verdict is CodeCheck.EXPIRED:
                    await codes.close_code(conn, stored.code_id, "dead")
                else:
                    await codes.count_failure(conn, stored.code_id, dead=verdict is CodeCheck.WRONG_AND_DEAD)
            await audit.record(
                conn, trace, "sign_in.failed", f"phone:{mask_phone(phone)}", reason=verdict.value,
                failures_in_a_row=in_a_row + 1,
            )  # fmt: skip
        # Committed: the failure counts.
        raise Unauthorized()


async def _signed_in(deps: Deps, conn: Conn, phone: str, phone_hash: bytes, trace: Trace) -> TokenPair:
    now = deps.now()
    account = await accounts.account_by_phone(conn, phone_hash)
    if account is None:
        account = await accounts.insert_member_account(
            conn, uuid.uuid4(), phone_hash, deps.pii.encrypt(phone), now
        )
        await audit.record(
            conn, trace, "account.created", f"account:{account.account_id}", record_id=account.account_id,
            kind="member", phone=mask_phone(phone),
        )  # fmt: skip
    if account.status != "active" or account.kind != "member":
        # Only the holder of the right code reads this: no enumeration.
        raise Forbidden("该账号已停用或不能用手机验证码登录")
    await audit.record(
        conn, trace, "sign_in.succeeded", f"account:{account.account_id}", record_id=account.account_id,
        method="phone_code",
    )  # fmt: skip
    claims = AccessClaims(sub=str(account.account_id), role=AccountRole.MEMBER, member_id=account.person_id)
    return await open_session(
        deps, conn, account_id=account.account_id, claims=claims, binding_id=None, trace=trace
    )
