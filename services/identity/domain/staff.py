"""The rules of staff accounts: who may create whom and grant what, the scope a binding must
name, which binding a sign-in takes, the limits on password tries, the second factor (TOTP).

Scopes: an admin grants anything. A cadre creates accounts that stay inside the cadre's union
subtree (every binding they ever get is a cadre or counsel binding of a union in it), and grants
or revokes cadre and counsel bindings of unions in their own subtree. Admin and partner_staff
bindings come from an admin only. "Is union U in the subtree of union R?" is enrollment's to
answer: a rule here names the (R, U) pairs the handler must have confirmed (`SubtreeCheck`).
"""

import hmac
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp

from services.identity.domain.limits import Window
from shared.auth import Principal
from shared.contracts.identity import AccessClaims, AccountRole, ScopeRef
from shared.errors import Forbidden, InvalidInput

STAFF_ROLES = frozenset(
    {AccountRole.ADMIN, AccountRole.CADRE, AccountRole.COUNSEL, AccountRole.PARTNER_STAFF}
)
# The roles a cadre may hand out, inside their own subtree.
CADRE_GRANTS = frozenset({AccountRole.CADRE, AccountRole.COUNSEL})


@dataclass(frozen=True)
class SubtreeCheck:
    """The handler must confirm that `union_id` is `root` or a union below it (enrollment)."""

    root: uuid.UUID
    union_id: uuid.UUID


# Scope --------------------------------------------------------------------------------------------


def binding_scope(
    role: AccountRole,
    *,
    union_id: uuid.UUID | None = None,
    partner_id: str | None = None,
    counsel_id: uuid.UUID | None = None,
) -> ScopeRef:
    """The scope a binding of this role names: exactly what the role needs, nothing more."""
    given = {"union_id": union_id, "partner_id": partner_id, "counsel_id": counsel_id}
    needed: set[str]
    if role is AccountRole.ADMIN:
        needed = set()
    elif role is AccountRole.CADRE:
        needed = {"union_id"}
    elif role is AccountRole.COUNSEL:
        needed = {"union_id", "counsel_id"}
    elif role is AccountRole.PARTNER_STAFF:
        needed = {"partner_id"}
    else:
        raise InvalidInput(f"角色 {role} 不是工作人员角色 (not a staff role)", allowed=sorted(STAFF_ROLES))
    missing = sorted(k for k in needed if not given[k])
    extra = sorted(k for k, v in given.items() if v is not None and k not in needed)
    if missing:
        raise InvalidInput(f"{role} 角色须指定 {', '.join(missing)} (a {role} binding names {missing})")
    if extra:
        raise InvalidInput(f"{role} 角色不带 {', '.join(extra)} (a {role} binding does not name {extra})")
    return ScopeRef(union_id=union_id, partner_id=partner_id, counsel_id=counsel_id)


# Who may do what ------------------------------------------------------------------------------------


def scope_of_new_account(creator: Principal) -> uuid.UUID | None:
    """The union subtree an account created by this caller stays in: none for an admin's,
    the cadre's own union for a cadre's."""
    if creator.role is AccountRole.ADMIN:
        return None
    if creator.role is AccountRole.CADRE and creator.union_id is not None:
        return creator.union_id
    raise Forbidden(
        "只有管理员或工会干部可以创建工作人员账号 (only an admin or a cadre creates staff accounts)"
    )


def may_grant(
    granter: Principal, role: AccountRole, scope: ScopeRef, account_scope: uuid.UUID | None
) -> list[SubtreeCheck]:
    """May `granter` give this binding to an account kept in `account_scope` (None: unbounded)?
    Refuses what no check can allow; else the subtree checks still to confirm."""
    checks: list[SubtreeCheck] = []
    if account_scope is not None:
        if role not in CADRE_GRANTS or scope.union_id is None:
            raise Forbidden(
                "该账号由工会干部创建，只能获得其工会范围内的干部或律师角色 "
                "(a cadre-made account only gets cadre or counsel bindings inside that cadre's unions)"
            )
        checks.append(SubtreeCheck(account_scope, scope.union_id))
    if granter.role is AccountRole.ADMIN:
        if scope.union_id is not None and not checks:
            checks.append(SubtreeCheck(scope.union_id, scope.union_id))  # the union exists
        return checks
    if granter.role is not AccountRole.CADRE or granter.union_id is None:
        raise Forbidden("只有管理员或工会干部可以授予角色 (only an admin or a cadre grants roles)")
    if role not in CADRE_GRANTS or scope.union_id is None:
        raise Forbidden(f"只有管理员可以授予 {role} 角色 (only an admin grants {role} bindings)")
    return [*checks, SubtreeCheck(granter.union_id, scope.union_id)]


def may_revoke(revoker: Principal, role: AccountRole, union_id: uuid.UUID | None) -> list[SubtreeCheck]:
    """What may revoke a binding is what may grant it: an admin anything, a cadre the cadre and
    counsel bindings of their own subtree."""
    if revoker.role is AccountRole.ADMIN:
        return []
    if revoker.role is AccountRole.CADRE and revoker.union_id is not None:
        if role in CADRE_GRANTS and union_id is not None:
            return [SubtreeCheck(revoker.union_id, union_id)]
        raise Forbidden(f"只有管理员可以撤销 {role} 角色 (only an admin revokes {role} bindings)")
    raise Forbidden("只有管理员或工会干部可以撤销角色 (only an admin or a cadre revokes roles)")


def may_manage_account(caller: Principal, account_scope: uuid.UUID | None) -> list[SubtreeCheck]:
    """Who sees and disables an account: an admin any, a cadre those kept inside their subtree."""
    if caller.role is AccountRole.ADMIN:
        return []
    if caller.role is AccountRole.CADRE and caller.union_id is not None and account_scope is not None:
        return [SubtreeCheck(caller.union_id, account_scope)]
    raise Forbidden("该账号不在您的管理范围内 (this account is outside your scope)")


def may_list_accounts(caller: Principal) -> uuid.UUID | None:
    """An admin lists every account; a cadre those kept inside their subtree (its root)."""
    if caller.role is AccountRole.ADMIN:
        return None
    if caller.role is AccountRole.CADRE and caller.union_id is not None:
        return caller.union_id
    raise Forbidden(
        "只有管理员或工会干部可以查看工作人员账号 (only an admin or a cadre lists staff accounts)"
    )


def staff_account_id(principal: Principal) -> uuid.UUID:
    """The account a staff token speaks for (its sub); development tokens name none."""
    if principal.role in STAFF_ROLES and principal.bid is not None:
        try:
            return uuid.UUID(principal.sub)
        except ValueError:
            pass
    raise Forbidden("此操作需要以工作人员账号登录 (sign in with a staff account for this)")


# Sign-in ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    binding_id: uuid.UUID
    role: AccountRole
    union_id: uuid.UUID | None = None
    partner_id: str | None = None
    counsel_id: uuid.UUID | None = None

    def described(self) -> dict[str, str]:
        scope = {"union_id": self.union_id, "partner_id": self.partner_id, "counsel_id": self.counsel_id}
        return {
            "binding_id": str(self.binding_id),
            "role": self.role.value,
            **{k: str(v) for k, v in scope.items() if v is not None},
        }


def choose_binding(bindings: Sequence[Binding], chosen: uuid.UUID | None) -> Binding:
    """The binding a sign-in takes: the one named, or the only one."""
    if not bindings:
        raise Forbidden("该账号没有任何角色 (this account has no role binding)")
    if chosen is not None:
        for b in bindings:
            if b.binding_id == chosen:
                return b
        raise InvalidInput(
            "所选角色不属于该账号或已撤销 (no such binding on this account)",
            bindings=[b.described() for b in bindings],
        )
    if len(bindings) == 1:
        return bindings[0]
    raise InvalidInput(
        "该账号有多个角色，请以 binding_id 选择一个 (several bindings: choose one by binding_id)",
        bindings=[b.described() for b in bindings],
    )


def claims_of(account_id: uuid.UUID, binding: Binding) -> AccessClaims:
    return AccessClaims(
        sub=str(account_id),
        role=binding.role,
        union_id=binding.union_id,
        partner_id=binding.partner_id,
        counsel_id=binding.counsel_id,
        bid=binding.binding_id,
    )


# Lockout ------------------------------------------------------------------------------------------
# A username locks after failed password (or TOTP) checks in a row with the growing backoff of
# domain/limits.py (5 free, then 1 min doubling); its failures are counted under a keyed hash
# of the username, so an unknown username locks exactly like a known one.

# Password failures from one client address (many usernames tried from one place).
PASSWORD_FAILURES_PER_ADDRESS = (Window(20, timedelta(minutes=10)), Window(100, timedelta(days=1)))


def username_subject(pii_hash: Callable[[str], bytes], username: str) -> bytes:
    """What a username's attempts are counted under (a keyed hash, like a phone number's)."""
    return pii_hash(f"staff-username:{username}")


# Second factor ------------------------------------------------------------------------------------

TOTP_ISSUER = "职家 Zhijia"
TOTP_STEP_SECONDS = 30


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def accepted_totp_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step a code belongs to (now, or one step either side for clock drift), if it is
    right and newer than the last step accepted: a code is never accepted twice."""
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // TOTP_STEP_SECONDS
    for step in (current - 1, current, current + 1):
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected, code) and (last_step is None or step > last_step):
            return step
    return None


# Usernames ----------------------------------------------------------------------------------------

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")


def username_key(username: str) -> str:
    """A username as stored and looked up: trimmed, lower case."""
    return username.strip().lower()


def check_username(username: str) -> str:
    """The stored form of a new username: 3..64 of a-z 0-9 . _ @ - (case does not count)."""
    key = username_key(username)
    if not _USERNAME.fullmatch(key):
        raise InvalidInput(
            "用户名为 3 至 64 个字符：字母、数字、. _ @ - (a username is 3..64 of a-z 0-9 . _ @ -)"
        )
    return key
