"""Resident identity card numbers: the rules live in shared/national_id.py (relief checks
students' numbers with them too); enrollment's modules keep importing them from here."""

from shared.national_id import InvalidNationalId, age_on, birth_date, check_char, normalize_national_id

__all__ = ["InvalidNationalId", "age_on", "birth_date", "check_char", "normalize_national_id"]
