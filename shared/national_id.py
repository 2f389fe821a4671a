"""Resident identity card numbers (居民身份证号, GB 11643-1999): 18 characters, checksum last.
Shared: enrollment checks members' numbers, relief those of students applying for 金秋助学."""

import re
from datetime import date

from shared.errors import InvalidInput
from shared.regions import PROVINCE_PREFIXES

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# First two digits: the province-level division, plus the prefixes of residence permits that
# carry an ID-card number (83: residents of Hong Kong, Macao and Taiwan; 91 kept as accepted before).
_PROVINCE_CODES = PROVINCE_PREFIXES | {"83", "91"}
# ASCII only: str.isdigit() and int() also take full-width and other scripts' digits, which would
# give one person a second keyed hash (a second membership) or crash the checksum.
_SHAPE = re.compile("[0-9]{17}[0-9X]")


class InvalidNationalId(InvalidInput):
    pass


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def birth_date(national_id: str) -> date:
    digits = national_id[6:14]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError as exc:
        raise InvalidNationalId("national ID has an invalid birth date") from exc


def normalize_national_id(raw: str, today: date) -> str:
    """Return the ID in canonical form (upper-case X) or raise InvalidNationalId with the reason.
    Only surrounding whitespace and a lower-case x are forgiven; nothing is converted, so one
    person has one spelling. The reasons never quote the number: it is personal data."""
    value = raw.strip()
    value = value[:-1] + "X" if value.endswith("x") else value
    if len(value) != 18:
        raise InvalidNationalId(f"national ID must be 18 characters, got {len(value)}")
    if not _SHAPE.fullmatch(value):
        if any(c.isnumeric() and not c.isascii() for c in value):
            raise InvalidNationalId(
                "national ID must be written with the digits 0-9: full-width or other digits are not accepted"
            )
        raise InvalidNationalId("national ID must be 17 digits followed by a digit or X")
    if value[:2] not in _PROVINCE_CODES:
        raise InvalidNationalId("national ID has an unknown region code")
    born = birth_date(value)
    if born.year < 1900 or born > today:
        raise InvalidNationalId("national ID has an impossible birth date")
    if check_char(value[:17]) != value[17]:
        raise InvalidNationalId("national ID checksum does not match")
    return value


def age_on(national_id: str, day: date) -> int:
    born = birth_date(national_id)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
