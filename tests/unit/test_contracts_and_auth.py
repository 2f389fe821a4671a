import time
import uuid
from datetime import UTC, date, datetime, timedelta

import jwt
import pytest

from shared.auth import Principal, Role, VerifiedTokens, mint_token, verify_token
from shared.contracts import (
    ContractError,
    UnknownEventType,
    UnsupportedSchemaVersion,
    decode_event,
    encode_event,
    new_envelope,
)
from shared.contracts.enrollment import (
    EmploymentType,
    MemberEnrolled,
    MembershipPeriod,
    MembershipStatus,
    MemberSnapshot,
)

SECRET = "s" * 40


def enrolled() -> MemberEnrolled:
    member_id = uuid.uuid4()
    union_id = uuid.uuid4()
    return MemberEnrolled(
        application_id=uuid.uuid4(),
        decided_by="cadre:x",
        member=MemberSnapshot(
            member_id=member_id, name="张三", national_id_masked="1101**********002X",
            membership_number="ZJ0000000001", card_number="8860000000000018", base_union_id=union_id,
            status=MembershipStatus.ACTIVE, member_since=date(2026, 1, 1), employer="e",
            employment_type=EmploymentType.EMPLOYEE,
            periods=[MembershipPeriod(union_id=union_id, started_at=datetime(2026, 1, 1, tzinfo=UTC))],
        ),
    )  # fmt: skip


def test_an_event_round_trips_through_its_envelope() -> None:
    payload = enrolled()
    env = new_envelope(payload, source="enrollment", subject=str(payload.member.member_id),
                       subject_version=2, correlation_id="c-1")  # fmt: skip
    decoded_env, decoded = decode_event(encode_event(env))
    assert decoded_env == env
    assert decoded == payload
    assert env.event_type == "enrollment.MemberEnrolled" and env.schema_version == 2


def _raw(**changes: object) -> bytes:
    env = new_envelope(enrolled(), source="enrollment", subject="s", subject_version=1, correlation_id="c")
    return env.model_copy(update=changes).model_dump_json().encode()


@pytest.mark.parametrize(
    ("raw", "error", "reason"),
    [
        (b"", ContractError, "empty"),
        (b"\xff\xfe garbage", ContractError, "invalid envelope"),
        (b'{"event_id": 1}', ContractError, "invalid envelope"),
        (_raw(event_type="enrollment.Nope"), UnknownEventType, "unknown event type"),
        (_raw(schema_version=9), UnsupportedSchemaVersion, "version 9 is not supported"),
        (
            _raw(payload={"member": {}}),
            ContractError,
            "invalid enrollment.MemberEnrolled v2 payload",
        ),
    ],
)
def test_undecodable_events_raise_a_contract_error_with_the_reason(
    raw: bytes, error: type[Exception], reason: str
) -> None:
    with pytest.raises(error, match=reason):
        decode_event(raw)


def test_a_token_names_its_role_and_scope() -> None:
    union = uuid.uuid4()
    principal = verify_token(SECRET, mint_token(SECRET, sub="li", role=Role.CADRE, union_id=union))
    assert principal.role is Role.CADRE and principal.union_id == union
    assert principal.covers_union([uuid.uuid4(), union, uuid.uuid4()])
    assert not principal.covers_union([uuid.uuid4()])


def test_tokens_signed_with_another_secret_or_expired_are_refused() -> None:
    other = mint_token("o" * 40, sub="x", role=Role.ADMIN)
    with pytest.raises(jwt.InvalidSignatureError):
        verify_token(SECRET, other)
    expired = mint_token(SECRET, sub="x", role=Role.ADMIN, ttl=timedelta(seconds=-1))
    with pytest.raises(jwt.ExpiredSignatureError):
        verify_token(SECRET, expired)


def test_a_verified_token_is_remembered_until_it_expires_and_no_longer() -> None:
    tokens = VerifiedTokens(SECRET, max_entries=2)
    token = mint_token(SECRET, sub="li", role=Role.ADMIN, ttl=timedelta(minutes=5))
    now = time.time()
    first = tokens.verify(token, now=now)
    assert tokens.verify(token, now=now + 60) is first  # the remembered principal, no new check
    with pytest.raises(jwt.ExpiredSignatureError):
        tokens.verify(token, now=now + 301)
    assert tokens.verify(token) is not first  # forgotten: checked afresh (by the real clock)


def test_refused_tokens_are_never_remembered_and_the_cache_is_bounded() -> None:
    tokens = VerifiedTokens(SECRET, max_entries=2)
    forged = mint_token("o" * 40, sub="x", role=Role.ADMIN)
    for _ in range(2):
        with pytest.raises(jwt.InvalidSignatureError):
            tokens.verify(forged)
    a, b, c = (mint_token(SECRET, sub=s, role=Role.ADMIN) for s in "abc")
    pa = tokens.verify(a)
    tokens.verify(b)
    tokens.verify(c)  # a, the oldest, makes room
    assert tokens.verify(a) is not pa and tokens.verify(a) == pa


def test_a_cadre_token_without_a_union_is_invalid() -> None:
    with pytest.raises(ValueError):
        Principal(sub="x", role=Role.CADRE)


def test_a_member_covers_no_union_and_only_themselves() -> None:
    me = uuid.uuid4()
    p = Principal(sub="x", role=Role.MEMBER, member_id=me)
    assert p.is_member(me) and not p.is_member(uuid.uuid4())
    assert not p.covers_union([uuid.uuid4()])
