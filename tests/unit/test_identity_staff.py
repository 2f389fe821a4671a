"""Staff accounts' rules: argon2id passwords, who may create whom and grant what, the binding a
sign-in takes, the lockout, and the second factor."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from services.identity.domain import limits
from services.identity.domain.passwords import (
    check_new_password,
    hash_password,
    needs_rehash,
    random_password,
    verify_password,
)
from services.identity.domain.staff import (
    PASSWORD_FAILURES_PER_ADDRESS,
    Binding,
    SubtreeCheck,
    accepted_totp_step,
    binding_scope,
    check_username,
    choose_binding,
    claims_of,
    may_grant,
    may_list_accounts,
    may_manage_account,
    may_revoke,
    scope_of_new_account,
    staff_account_id,
    totp_uri,
    username_subject,
)
from shared.auth import Principal
from shared.contracts.identity import AccountRole, ScopeRef
from shared.errors import Forbidden, InvalidInput
from shared.pii import PiiProtector

ROOT, BRANCH, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)

ADMIN = Principal(sub=str(uuid.uuid4()), role=AccountRole.ADMIN, bid=uuid.uuid4())
CADRE = Principal(sub=str(uuid.uuid4()), role=AccountRole.CADRE, union_id=ROOT, bid=uuid.uuid4())
MEMBER = Principal(sub=str(uuid.uuid4()), role=AccountRole.MEMBER, member_id=uuid.uuid4())
PARTNER = Principal(sub=str(uuid.uuid4()), role=AccountRole.PARTNER_STAFF, partner_id="p1", bid=uuid.uuid4())


# Passwords ----------------------------------------------------------------------------------------


def test_a_password_hash_is_argon2id_and_verifies_only_the_same_password() -> None:
    h = hash_password("correct horse battery")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "correct horse battery")
    assert not verify_password(h, "correct horse batterY")
    assert not needs_rehash(h)


def test_an_unknown_user_is_checked_against_a_dummy_hash_taking_as_long() -> None:
    h = hash_password("correct horse battery")
    t0 = time.perf_counter()
    assert not verify_password(h, "wrong password here")
    wrong = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert not verify_password(None, "wrong password here")
    unknown = time.perf_counter() - t0
    assert unknown > wrong / 3  # the same argon2 work, not a shortcut


def test_a_garbled_stored_hash_verifies_nothing() -> None:
    assert not verify_password("not-a-hash", "whatever password")


def test_a_new_password_has_twelve_characters_and_is_not_the_username() -> None:
    check_new_password("twelve chars", username="li.ming")
    with pytest.raises(InvalidInput, match="至少 12"):
        check_new_password("eleven char", username="li.ming")
    with pytest.raises(InvalidInput, match="用户名"):
        check_new_password("Li.Ming.Cadre", username="li.ming.cadre")
    with pytest.raises(InvalidInput, match="至多"):
        check_new_password("x" * 257, username="li.ming")
    assert len(random_password()) >= 12


# Scopes and who may grant what ------------------------------------------------------------------


def test_a_binding_names_exactly_the_scope_of_its_role() -> None:
    assert binding_scope(AccountRole.ADMIN) == ScopeRef()
    assert binding_scope(AccountRole.CADRE, union_id=ROOT) == ScopeRef(union_id=ROOT)
    counsel = uuid.uuid4()
    assert binding_scope(AccountRole.COUNSEL, union_id=ROOT, counsel_id=counsel).counsel_id == counsel
    assert binding_scope(AccountRole.PARTNER_STAFF, partner_id="p1").partner_id == "p1"
    with pytest.raises(InvalidInput, match="union_id"):
        binding_scope(AccountRole.CADRE)
    with pytest.raises(InvalidInput, match="counsel_id"):
        binding_scope(AccountRole.COUNSEL, union_id=ROOT)
    with pytest.raises(InvalidInput, match="partner_id"):
        binding_scope(AccountRole.ADMIN, partner_id="p1")
    with pytest.raises(InvalidInput, match="not a staff role"):
        binding_scope(AccountRole.MEMBER)
    with pytest.raises(InvalidInput, match="not a staff role"):
        binding_scope(AccountRole.SERVICE)


def test_an_admin_creates_unbounded_accounts_a_cadre_accounts_kept_in_their_union() -> None:
    assert scope_of_new_account(ADMIN) is None
    assert scope_of_new_account(CADRE) == ROOT
    for nobody in (MEMBER, PARTNER):
        with pytest.raises(Forbidden):
            scope_of_new_account(nobody)


def test_an_admin_grants_anything_to_an_admin_made_account() -> None:
    assert may_grant(ADMIN, AccountRole.ADMIN, ScopeRef(), None) == []
    assert may_grant(ADMIN, AccountRole.PARTNER_STAFF, ScopeRef(partner_id="p1"), None) == []
    # Only that the union exists (a union is in its own subtree).
    assert may_grant(ADMIN, AccountRole.CADRE, ScopeRef(union_id=OTHER), None) == [SubtreeCheck(OTHER, OTHER)]


def test_a_cadre_grants_cadre_and_counsel_only_inside_their_subtree() -> None:
    scope = ScopeRef(union_id=BRANCH)
    assert may_grant(CADRE, AccountRole.CADRE, scope, None) == [SubtreeCheck(ROOT, BRANCH)]
    counsel = ScopeRef(union_id=BRANCH, counsel_id=uuid.uuid4())
    assert may_grant(CADRE, AccountRole.COUNSEL, counsel, ROOT) == [SubtreeCheck(ROOT, BRANCH)] * 2
    with pytest.raises(Forbidden, match="only an admin grants admin"):
        may_grant(CADRE, AccountRole.ADMIN, ScopeRef(), None)
    with pytest.raises(Forbidden, match="only an admin grants partner_staff"):
        may_grant(CADRE, AccountRole.PARTNER_STAFF, ScopeRef(partner_id="p1"), None)
    for nobody in (MEMBER, PARTNER):
        with pytest.raises(Forbidden):
            may_grant(nobody, AccountRole.CADRE, scope, None)


def test_a_cadre_made_account_gets_only_cadre_or_counsel_bindings_in_its_subtree_even_from_an_admin() -> None:
    checks = may_grant(ADMIN, AccountRole.CADRE, ScopeRef(union_id=OTHER), BRANCH)
    assert checks == [SubtreeCheck(BRANCH, OTHER)]
    with pytest.raises(Forbidden, match="cadre-made account"):
        may_grant(ADMIN, AccountRole.ADMIN, ScopeRef(), BRANCH)
    with pytest.raises(Forbidden, match="cadre-made account"):
        may_grant(ADMIN, AccountRole.PARTNER_STAFF, ScopeRef(partner_id="p1"), BRANCH)


def test_what_may_revoke_a_binding_is_what_may_grant_it() -> None:
    assert may_revoke(ADMIN, AccountRole.ADMIN, None) == []
    assert may_revoke(CADRE, AccountRole.CADRE, BRANCH) == [SubtreeCheck(ROOT, BRANCH)]
    with pytest.raises(Forbidden):
        may_revoke(CADRE, AccountRole.PARTNER_STAFF, None)
    with pytest.raises(Forbidden):
        may_revoke(MEMBER, AccountRole.CADRE, BRANCH)


def test_a_cadre_manages_only_accounts_kept_inside_their_subtree() -> None:
    assert may_manage_account(ADMIN, None) == []
    assert may_manage_account(CADRE, BRANCH) == [SubtreeCheck(ROOT, BRANCH)]
    with pytest.raises(Forbidden):
        may_manage_account(CADRE, None)  # an admin's account
    with pytest.raises(Forbidden):
        may_manage_account(PARTNER, BRANCH)


def test_a_username_is_stored_in_lower_case_and_kept_plain() -> None:
    assert check_username("  Li.Ming@Hangzhou ") == "li.ming@hangzhou"
    for bad in ("li", "x" * 65, "li ming", "-li", "李明", "li/ming"):
        with pytest.raises(InvalidInput):
            check_username(bad)


def test_an_admin_lists_every_account_a_cadre_those_of_their_subtree() -> None:
    assert may_list_accounts(ADMIN) is None
    assert may_list_accounts(CADRE) == ROOT
    for nobody in (MEMBER, PARTNER):
        with pytest.raises(Forbidden):
            may_list_accounts(nobody)


def test_only_a_signed_in_staff_token_speaks_for_a_staff_account() -> None:
    assert staff_account_id(CADRE) == uuid.UUID(CADRE.sub)
    with pytest.raises(Forbidden):
        staff_account_id(MEMBER)
    with pytest.raises(Forbidden):  # a development token: no binding, no account
        staff_account_id(Principal(sub="test-admin", role=AccountRole.ADMIN))


# Sign-in ------------------------------------------------------------------------------------------


def test_a_sign_in_takes_the_only_binding_or_the_one_chosen() -> None:
    one = Binding(uuid.uuid4(), AccountRole.CADRE, union_id=ROOT)
    two = Binding(uuid.uuid4(), AccountRole.COUNSEL, union_id=BRANCH, counsel_id=uuid.uuid4())
    assert choose_binding([one], None) == one
    assert choose_binding([one, two], two.binding_id) == two
    with pytest.raises(InvalidInput) as several:
        choose_binding([one, two], None)
    listed = several.value.context["bindings"]
    assert [b["binding_id"] for b in listed] == [str(one.binding_id), str(two.binding_id)]
    assert listed[1]["role"] == "counsel" and listed[1]["union_id"] == str(BRANCH)
    with pytest.raises(InvalidInput):
        choose_binding([one], uuid.uuid4())
    with pytest.raises(Forbidden):
        choose_binding([], None)


def test_the_claims_of_a_binding_carry_its_scope_and_id() -> None:
    account = uuid.uuid4()
    b = Binding(uuid.uuid4(), AccountRole.PARTNER_STAFF, partner_id="p1")
    claims = claims_of(account, b)
    assert (claims.sub, claims.partner_id, claims.bid) == (str(account), "p1", b.binding_id)
    assert claims.role is AccountRole.PARTNER_STAFF


# Lockout ------------------------------------------------------------------------------------------


def test_five_failed_passwords_lock_a_username_a_minute_and_each_further_one_doubles_it() -> None:
    assert limits.lockout_wait(4, NOW, NOW) is None
    assert limits.lockout_wait(5, NOW, NOW) == 60
    assert limits.lockout_wait(6, NOW, NOW + timedelta(seconds=20)) == 100
    assert limits.lockout_wait(5, NOW, NOW + timedelta(seconds=60)) is None


def test_an_address_failing_on_many_usernames_waits_too() -> None:
    failures = [NOW - timedelta(seconds=i) for i in range(19)]
    assert limits.window_wait(failures, PASSWORD_FAILURES_PER_ADDRESS, NOW) is None
    failures.append(NOW - timedelta(minutes=2))
    assert limits.window_wait(failures, PASSWORD_FAILURES_PER_ADDRESS, NOW) == 8 * 60


def test_a_username_is_counted_under_a_keyed_hash_known_or_not() -> None:
    pii = PiiProtector("k" * 40)
    assert username_subject(pii.lookup_hash, "li.ming") == username_subject(pii.lookup_hash, "li.ming")
    assert username_subject(pii.lookup_hash, "li.ming") != pii.lookup_hash("li.ming")


# Second factor ------------------------------------------------------------------------------------


def test_a_totp_code_is_accepted_once_and_only_near_its_time() -> None:
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    code = totp.at(NOW)
    step = accepted_totp_step(secret, code, NOW, None)
    assert step == int(NOW.timestamp()) // 30
    assert accepted_totp_step(secret, code, NOW, step) is None  # used: never twice
    assert accepted_totp_step(secret, code, NOW + timedelta(seconds=30), None) == step  # drift
    assert accepted_totp_step(secret, code, NOW + timedelta(minutes=5), None) is None
    assert accepted_totp_step(secret, totp.at(NOW + timedelta(seconds=30)), NOW, step) == step + 1
    for bad in ("", "12345", "1234567", "abcdef", "１２３４５６"):
        assert accepted_totp_step(secret, bad, NOW, None) is None


def test_the_provisioning_uri_names_the_user_and_the_issuer() -> None:
    secret = pyotp.random_base32()
    uri = totp_uri(secret, "li.ming")
    assert uri.startswith("otpauth://totp/") and "li.ming" in uri and f"secret={secret}" in uri
