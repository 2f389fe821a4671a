"""The partner's statistics (统计, issue 18): who may read a partner's, and the days a question covers."""

import uuid
from datetime import date, timedelta

import pytest

from services.projector.domain.statistics import DEFAULT_DAYS, MAX_DAYS, InvalidRange, day_range, may_read
from shared.auth import Principal, Role

TODAY = date(2026, 12, 3)


def principal(role: Role, **claims: object) -> Principal:
    return Principal.model_validate({"sub": "t", "role": role, "iss": "zhijia-dev", "aud": "zhijia",
                                     "iat": 0, "exp": 1, "jti": "j", **claims})  # fmt: skip


def test_only_the_partners_own_staff_and_admins_read_its_statistics() -> None:
    assert may_read(principal(Role.ADMIN), "meituan-hz")
    assert may_read(principal(Role.PARTNER_STAFF, partner_id="meituan-hz"), "meituan-hz")
    assert not may_read(principal(Role.PARTNER_STAFF, partner_id="eleme-hz"), "meituan-hz")
    assert not may_read(principal(Role.CADRE, union_id=uuid.uuid4()), "meituan-hz")
    assert not may_read(principal(Role.MEMBER, member_id=uuid.uuid4()), "meituan-hz")


def test_without_from_and_to_the_last_30_china_days_today_included() -> None:
    days = day_range(None, None, TODAY)
    assert (days.first, days.last) == (TODAY - timedelta(days=DEFAULT_DAYS - 1), TODAY)
    assert day_range(None, date(2026, 1, 31), TODAY).first == date(2026, 1, 2)
    assert day_range(date(2026, 12, 1), None, TODAY).last == TODAY


def test_a_range_backwards_or_too_long_is_refused_with_its_reason() -> None:
    with pytest.raises(InvalidRange, match="after"):
        day_range(date(2026, 12, 5), date(2026, 12, 1), TODAY)
    longest = day_range(TODAY - timedelta(days=MAX_DAYS - 1), TODAY, TODAY)
    assert (longest.last - longest.first).days + 1 == MAX_DAYS
    with pytest.raises(InvalidRange, match="at most"):
        day_range(TODAY - timedelta(days=MAX_DAYS), TODAY, TODAY)
    with pytest.raises(InvalidRange, match="give from"):
        day_range(None, date(1, 1, 5), TODAY)
