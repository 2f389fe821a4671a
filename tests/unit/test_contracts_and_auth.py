import asyncio
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared.auth import (
    Principal,
    Role,
    TokenRefused,
    TokenVerifier,
    dev_key_pair,
    load_public_key,
    sign_dev_token,
)
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
from shared.contracts.identity import AccessClaims
from shared.token_keys import DevIssuerKey


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


DEV_PRIVATE, DEV_PUBLIC = dev_key_pair()
OTHER_PRIVATE, _ = dev_key_pair()


def _dev_token(key: str = DEV_PRIVATE, ttl_seconds: int = 900, **claims: Any) -> str:
    return sign_dev_token(key, AccessClaims(**claims), ttl_seconds=ttl_seconds)


def _verify(tokens: TokenVerifier, token: str, now: float | None = None) -> Principal:
    return asyncio.run(tokens.verify(token, now))


def _verifier(max_entries: int = 20_000) -> TokenVerifier:
    return TokenVerifier(DevIssuerKey(load_public_key(DEV_PUBLIC)), max_entries=max_entries)


def test_a_token_names_its_role_and_scope() -> None:
    union = uuid.uuid4()
    principal = _verify(_verifier(), _dev_token(sub="li", role=Role.CADRE, union_id=union))
    assert principal.role is Role.CADRE and principal.union_id == union
    assert principal.covers_union([uuid.uuid4(), union, uuid.uuid4()])
    assert not principal.covers_union([uuid.uuid4()])


def test_tokens_signed_with_another_key_or_expired_are_refused() -> None:
    with pytest.raises(TokenRefused, match="invalid token"):
        _verify(_verifier(), _dev_token(OTHER_PRIVATE, sub="x", role=Role.ADMIN))
    token = _dev_token(sub="x", role=Role.ADMIN, ttl_seconds=1)
    with pytest.raises(TokenRefused, match="token expired"):
        _verify(_verifier(), token, now=time.time() + 2)


def test_a_verified_token_is_remembered_until_it_expires_and_no_longer() -> None:
    tokens = _verifier(max_entries=2)
    token = _dev_token(sub="li", role=Role.ADMIN, ttl_seconds=300)
    now = time.time()
    first = _verify(tokens, token, now=now)
    assert _verify(tokens, token, now=now + 60) is first  # the remembered principal, no new check
    with pytest.raises(TokenRefused, match="token expired"):
        _verify(tokens, token, now=now + 301)
    assert _verify(tokens, token) is not first  # forgotten: checked afresh (by the real clock)


def test_refused_tokens_are_never_remembered_and_the_cache_is_bounded() -> None:
    tokens = _verifier(max_entries=2)
    forged = _dev_token(OTHER_PRIVATE, sub="x", role=Role.ADMIN)
    for _ in range(2):
        with pytest.raises(TokenRefused):
            _verify(tokens, forged)
    a, b, c = (_dev_token(sub=s, role=Role.ADMIN) for s in "abc")
    pa = _verify(tokens, a)
    _verify(tokens, b)
    _verify(tokens, c)  # a, the oldest, makes room
    assert _verify(tokens, a) is not pa and _verify(tokens, a) == pa


def test_a_cadre_token_without_a_union_is_invalid() -> None:
    with pytest.raises(ValueError):
        Principal(sub="x", role=Role.CADRE)


def test_a_member_covers_no_union_and_only_themselves() -> None:
    me = uuid.uuid4()
    p = Principal(sub="x", role=Role.MEMBER, member_id=me)
    assert p.is_member(me) and not p.is_member(uuid.uuid4())
    assert not p.covers_union([uuid.uuid4()])
