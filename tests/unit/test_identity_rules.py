"""The identity service's rules: one-time codes, abuse limits and backoff, refresh rotation and
reuse, the signing keys' schedule, CSRF binding."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.identity.adapters.dev_notifier import DevFileNotifier, last_code
from services.identity.domain import limits
from services.identity.domain.codes import (
    CODE_VALIDITY,
    MAX_WRONG_TRIES,
    PHONE,
    CodeCheck,
    StoredCode,
    check_code,
    code_hash,
    new_code,
)
from services.identity.domain.keys import (
    PUBLISHED_AFTER_RETIREMENT,
    KeyTimes,
    next_activation,
    published_keys,
    signing_key,
)
from services.identity.domain.ports import NotifierUnavailable
from services.identity.domain.realname import NATIONAL_ID, may_settle
from services.identity.domain.sessions import (
    RefreshState,
    RefreshVerdict,
    csrf_matches,
    csrf_token,
    judge_refresh,
    new_refresh_token,
    refresh_token_hash,
)
from services.identity.settings import IdentitySettings
from shared.auth import Principal, Role
from shared.contracts.identity import MAX_ACCESS_TOKEN_SECONDS

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
KEY = b"k" * 32


def _stored(code: str, *, failures: int = 0, at: datetime = T0) -> StoredCode:
    code_id = uuid.uuid4()
    return StoredCode(code_id, code_hash(KEY, code_id, code), at + CODE_VALIDITY, failures)


# --- codes ----------------------------------------------------------------------------------------


def test_a_code_is_six_digits_and_they_vary() -> None:
    codes = {new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 150


def test_the_right_code_within_five_minutes_passes() -> None:
    assert check_code(KEY, _stored("123456"), "123456", T0 + timedelta(minutes=4)) is CodeCheck.RIGHT


def test_a_code_is_refused_after_five_minutes_even_if_right() -> None:
    assert check_code(KEY, _stored("123456"), "123456", T0 + CODE_VALIDITY) is CodeCheck.EXPIRED


def test_the_fifth_wrong_try_kills_the_code_and_then_even_the_right_one_fails() -> None:
    stored = _stored("123456", failures=MAX_WRONG_TRIES - 1)
    assert check_code(KEY, stored, "000000", T0) is CodeCheck.WRONG_AND_DEAD
    dead = _stored("123456", failures=MAX_WRONG_TRIES)
    assert check_code(KEY, dead, "123456", T0) is CodeCheck.EXPIRED


def test_a_wrong_code_before_the_fifth_is_one_more_failure() -> None:
    assert check_code(KEY, _stored("123456", failures=1), "123457", T0) is CodeCheck.WRONG


def test_no_code_sent_is_refused_like_a_wrong_one() -> None:
    assert check_code(KEY, None, "123456", T0) is CodeCheck.NONE


def test_a_code_hash_is_keyed_and_bound_to_its_code() -> None:
    one, other = uuid.uuid4(), uuid.uuid4()
    assert code_hash(KEY, one, "123456") != code_hash(KEY, other, "123456")
    assert code_hash(KEY, one, "123456") != code_hash(b"x" * 32, one, "123456")


@pytest.mark.parametrize("phone", ["13800138000", "19912345678"])
def test_mainland_mobile_numbers_are_accepted(phone: str) -> None:
    assert PHONE.match(phone)


@pytest.mark.parametrize(
    "phone", ["12800138000", "1380013800", "138001380000", "+8613800138000", "1380013800a"]
)
def test_other_numbers_are_refused(phone: str) -> None:
    assert not PHONE.match(phone)


def test_a_national_id_is_eighteen_characters_the_last_may_be_x() -> None:
    assert NATIONAL_ID.match("11010519491231002X")
    assert not NATIONAL_ID.match("11010519491231002")


# --- limits ---------------------------------------------------------------------------------------


def test_one_code_a_minute_per_phone() -> None:
    waited = limits.window_wait([T0], limits.SEND_PER_PHONE, T0 + timedelta(seconds=20))
    assert waited == 40
    assert limits.window_wait([T0], limits.SEND_PER_PHONE, T0 + timedelta(seconds=61)) is None


def test_five_codes_an_hour_per_phone() -> None:
    sent = [T0 + timedelta(minutes=2 * i) for i in range(5)]
    now = T0 + timedelta(minutes=20)
    assert limits.window_wait(sent, limits.SEND_PER_PHONE, now) == 40 * 60
    assert limits.window_wait(sent, limits.SEND_PER_PHONE, T0 + timedelta(hours=1, seconds=1)) is None


def test_ten_codes_a_day_per_phone() -> None:
    sent = [T0 + timedelta(hours=i) for i in range(10)]
    now = T0 + timedelta(hours=12)
    wait = limits.window_wait(sent, limits.SEND_PER_PHONE, now)
    assert wait == 12 * 3600


def test_no_lockout_for_the_first_failures() -> None:
    assert limits.lockout_wait(limits.FREE_FAILURES - 1, T0, T0) is None


def test_the_lockout_grows_with_each_failure_and_stops_at_a_day() -> None:
    waits = [limits.backoff(n) for n in range(limits.FREE_FAILURES, limits.FREE_FAILURES + 4)]
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert limits.backoff(100) == limits.MAX_BACKOFF
    assert limits.lockout_wait(limits.FREE_FAILURES + 1, T0, T0 + timedelta(seconds=30)) == 90
    assert limits.lockout_wait(limits.FREE_FAILURES + 1, T0, T0 + timedelta(minutes=2)) is None


# --- refresh tokens -------------------------------------------------------------------------------


def _state(**kw: object) -> RefreshState:
    base: dict[str, object] = {
        "used_at": None,
        "token_expires_at": T0 + timedelta(days=30),
        "session_revoked_at": None,
        "session_expires_at": T0 + timedelta(days=30),
    }
    return RefreshState(**{**base, **kw})  # type: ignore[arg-type]


def test_a_fresh_refresh_token_rotates() -> None:
    assert judge_refresh(_state(), T0) is RefreshVerdict.FRESH


def test_a_used_refresh_token_is_a_reuse_even_after_its_family_ended() -> None:
    assert judge_refresh(_state(used_at=T0), T0) is RefreshVerdict.REUSED
    assert judge_refresh(_state(used_at=T0, session_revoked_at=T0), T0) is RefreshVerdict.REUSED


def test_a_revoked_or_ended_family_refreshes_no_more() -> None:
    assert judge_refresh(_state(session_revoked_at=T0), T0) is RefreshVerdict.ENDED
    assert judge_refresh(_state(session_expires_at=T0), T0) is RefreshVerdict.ENDED


def test_refresh_tokens_are_random_and_kept_as_hashes_only() -> None:
    one, two = new_refresh_token(), new_refresh_token()
    assert one != two and len(one) >= 40
    assert refresh_token_hash(one) != refresh_token_hash(two)
    assert one.encode() not in refresh_token_hash(one)


def test_a_csrf_token_passes_only_for_its_own_session_and_as_both_header_and_cookie() -> None:
    session, other = uuid.uuid4(), uuid.uuid4()
    token = csrf_token(KEY, session)
    assert csrf_matches(KEY, session, token, token)
    assert not csrf_matches(KEY, other, token, token)
    assert not csrf_matches(KEY, session, token, "x" * len(token))
    forged = csrf_token(KEY, other)
    assert not csrf_matches(KEY, session, forged, forged)


# --- signing keys ---------------------------------------------------------------------------------


def _key(created: datetime, activates: datetime) -> KeyTimes:
    return KeyTimes(uuid.uuid4(), created, activates)


def test_a_new_key_is_published_before_it_signs() -> None:
    old = _key(T0, T0)
    new = _key(T0 + timedelta(hours=1), T0 + timedelta(hours=1, minutes=1))
    at = T0 + timedelta(hours=1, seconds=30)
    assert signing_key([old, new], at) == old
    assert {k.key_id for k in published_keys([old, new], at)} == {old.key_id, new.key_id}


def test_the_old_key_stays_published_until_its_last_token_expired() -> None:
    old = _key(T0, T0)
    switch = T0 + timedelta(hours=1)
    new = _key(switch - timedelta(minutes=1), switch)
    assert signing_key([old, new], switch) == new
    assert timedelta(seconds=MAX_ACCESS_TOKEN_SECONDS) < PUBLISHED_AFTER_RETIREMENT
    still = switch + PUBLISHED_AFTER_RETIREMENT - timedelta(seconds=1)
    assert old in published_keys([old, new], still)
    assert published_keys([old, new], switch + PUBLISHED_AFTER_RETIREMENT) == [new]


def test_two_rotations_in_a_row_keep_their_order() -> None:
    first = _key(T0, T0 + timedelta(minutes=1))
    at = next_activation([first], T0 + timedelta(seconds=10), timedelta(seconds=5))
    assert at == first.activates_at


# --- disputes -------------------------------------------------------------------------------------


def test_a_cadre_settles_only_in_their_subtree_and_a_dispute_without_union_is_an_admins() -> None:
    root, branch = uuid.uuid4(), uuid.uuid4()
    cadre = Principal(sub="c", role=Role.CADRE, union_id=root)
    other = Principal(sub="o", role=Role.CADRE, union_id=uuid.uuid4())
    admin = Principal(sub="a", role=Role.ADMIN)
    assert may_settle(cadre, [root, branch])
    assert not may_settle(other, [root, branch])
    assert not may_settle(cadre, None)
    assert may_settle(admin, None)


def test_a_key_passed_over_by_a_second_rotation_is_retired_with_the_rest() -> None:
    old = _key(T0, T0)
    at = T0 + timedelta(hours=1)
    waiting = _key(at, at + timedelta(minutes=1))
    second = _key(at + timedelta(seconds=10), next_activation([old, waiting], at, timedelta(seconds=30)))
    switch = waiting.activates_at
    assert signing_key([old, waiting, second], switch) == second
    gone = switch + PUBLISHED_AFTER_RETIREMENT
    assert published_keys([old, waiting, second], gone) == [second]


# --- the development notifier ---------------------------------------------------------------------


async def test_the_dev_notifier_writes_a_line_per_code_that_make_codes_shows(tmp_path: Path) -> None:
    codes = tmp_path / "run" / "codes.log"
    notifier = DevFileNotifier(codes, now=lambda: T0)
    await notifier.send_code("13800138000", "123456", purpose="sign_in")
    await notifier.send_code("13800138000", "654321", purpose="sign_in")
    assert codes.read_text().splitlines()[0] == "2026-12-03T16:00:00+08:00 13800138000 123456 sign_in"
    assert last_code(codes, "13800138000") == "654321"
    assert last_code(codes, "13900139000") is None


async def test_a_dev_notifier_that_cannot_write_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "codes.log").mkdir()
    with pytest.raises(NotifierUnavailable):
        await DevFileNotifier(tmp_path / "codes.log").send_code("13800138000", "123456", purpose="sign_in")


def test_production_mode_refuses_the_development_notifier_and_a_missing_provider() -> None:
    base = {
        "database_url": "postgresql://nowhere/none", "person_key_secret": "s" * 32, "pii_key": "k" * 32,
        "identity_key_secret": "i" * 32, "zhijia_mode": "production",
    }  # fmt: skip
    with pytest.raises(ValidationError, match="IDENTITY_NOTIFIER=sms"):
        IdentitySettings.model_validate(base)
    with pytest.raises(ValidationError, match="REALNAME_PROVIDER_URL"):
        IdentitySettings.model_validate({**base, "identity_notifier": "sms"})
    provider = {"identity_notifier": "sms", "realname_provider_url": "https://verify.example/v1"}
    assert IdentitySettings.model_validate({**base, **provider}).identity_notifier == "sms"
    assert IdentitySettings.model_validate({**base, "zhijia_mode": "development"}).identity_notifier == "dev"
