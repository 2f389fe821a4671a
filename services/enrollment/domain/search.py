"""Member search (GET /members/search): what the words typed mean.

One box takes a name (its beginning: 张 finds 张三 and 张小明), a card or membership number
(exact), the last four characters of the ID (123X), or the masked ID as the console shows it
(110101********123X). Digits could be any of the numbers, so every reading that fits is tried;
the ID itself is never searched for in clear (only its masked form is stored in a searchable way).
"""

import re
from dataclasses import dataclass

from shared.contracts.enrollment import MembershipStatus
from shared.errors import InvalidInput

QUERY_MAX = 50
NAME_MAX = 50  # a member's name (applications refuse longer ones)
_LAST4 = re.compile(r"[0-9]{3}[0-9X]")
# As the console shows it (first four or six, stars, last four); the stored mask keeps four and four.
_MASKED = re.compile(r"([0-9]{4})[0-9]{0,2}\*{2,14}([0-9]{3}[0-9X])")
_NUMBER = re.compile(r"[0-9A-Z]{5,30}")
_LAST_CODE_POINT = 0x10FFFF

STATUS_LABELS: dict[MembershipStatus, str] = {
    MembershipStatus.ACTIVE: "在会",
    MembershipStatus.LEFT: "已离会",
}


@dataclass(frozen=True)
class MemberQuery:
    name_from: str | None  # names >= this (byte order) ...
    name_below: str | None  # ... and < this one: the names starting with name_from
    number: str | None  # a card or membership number
    id_last4: str | None
    id_first4: str | None  # with a masked ID: its first four characters ...
    id_length: int | None  # ... and its length


def _after_prefix(prefix: str) -> str:
    """Text greater than every name starting with `prefix` (code point order, which UTF-8's byte
    order keeps): the prefix with its last character raised, so an index range can bound both
    ends. A last character that cannot be raised is dropped (a wider range; the prefix test
    still filters)."""
    while prefix:
        last = ord(prefix[-1]) + 1
        if 0xD800 <= last <= 0xDFFF:
            last = 0xE000  # surrogates are no characters
        if last <= _LAST_CODE_POINT:
            return prefix[:-1] + chr(last)
        prefix = prefix[:-1]
    return chr(_LAST_CODE_POINT) * (NAME_MAX + 1)  # past every name a member can have


def member_query(raw: str) -> MemberQuery:
    q = raw.strip()
    if not 1 <= len(q) <= QUERY_MAX:
        raise InvalidInput(f"请输入1至{QUERY_MAX}个字的姓名、卡号、会员号或身份证号后四位")
    if "*" in q:
        masked = _MASKED.fullmatch(q.upper())
        if masked is None:
            raise InvalidInput("脱敏身份证号应与显示的一致,如 110101********123X")
        return MemberQuery(None, None, None, masked.group(2), masked.group(1), len(q))
    upper = q.upper()
    return MemberQuery(
        name_from=q,
        name_below=_after_prefix(q),
        number=upper if _NUMBER.fullmatch(upper) else None,
        id_last4=upper if _LAST4.fullmatch(upper) else None,
        id_first4=None,
        id_length=None,
    )
