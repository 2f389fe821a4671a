"""Resident identity card numbers (居民身份证号, GB 11643-1999): 18 characters, checksum last."""

from datetime import date

from shared.errors import InvalidInput
from shared.regions import PROVINCE_PREFIXES

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# First two digits: the province-level division, plus the prefixes of residence permits that
# carry an ID-card number (83: residents of Hong Kong, Macao and Taiwan; 91 kept as accepted before).
_PROVINCE_CODES = PROVINCE_PREFIXES | {"83", "91"}


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
        raise InvalidNationalId(f"national ID has an invalid birth date {digits}") from exc


def normalize_national_id(raw: str, today: date) -> str:
    """Return the ID in canonical form (upper-case X) or raise InvalidNationalId with the reason."""
    value = raw.strip().upper()
    if len(value) != 18:
        raise InvalidNationalId(f"national ID must be 18 characters, got {len(value)}")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidNationalId("national ID must be 17 digits followed by a digit or X")
    if value[:2] not in _PROVINCE_CODES:
        raise InvalidNationalId(f"national ID has an unknown region code {value[:2]}")
    born = birth_date(value)
    if born.year < 1900 or born > today:
        raise InvalidNationalId(f"national ID has an impossible birth date {born.isoformat()}")
    if check_char(value[:17]) != value[17]:
        raise InvalidNationalId("national ID checksum does not match")
    return value


def age_on(national_id: str, day: date) -> int:
    born = birth_date(national_id)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
