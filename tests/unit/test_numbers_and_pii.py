import pytest

from services.enrollment.domain.numbers import (
    card_number,
    is_valid_luhn,
    luhn_check_digit,
    membership_number,
)
from shared.pii import PiiProtector, mask_name, mask_national_id, mask_phone


def test_luhn_matches_a_known_number() -> None:
    assert luhn_check_digit("7992739871") == "3"
    assert is_valid_luhn("79927398713")
    assert not is_valid_luhn("79927398710")


def test_card_numbers_are_16_digits_with_a_valid_check_digit() -> None:
    for seq in (1, 2, 99, 123456789, 10**11 - 1):
        number = card_number(seq)
        assert len(number) == 16 and number.startswith("8860") and is_valid_luhn(number)
    assert len({card_number(s) for s in range(1, 2000)}) == 1999


def test_membership_numbers_are_unique_per_sequence() -> None:
    assert membership_number(42) == "ZJ0000000042"
    with pytest.raises(ValueError):
        membership_number(0)


def test_masking_hides_birth_date_and_middle_digits() -> None:
    assert mask_national_id("11010519491231002X") == "1101**********002X"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_name("张三") == "张*"
    assert mask_name("张小三") == "张*三"
    assert mask_name("欧阳小明") == "欧**明"


def test_lookup_hash_is_stable_keyed_and_encryption_round_trips() -> None:
    a = PiiProtector("a" * 40)
    b = PiiProtector("b" * 40)
    assert a.lookup_hash("11010519491231002X") == a.lookup_hash("11010519491231002X")
    assert a.lookup_hash("11010519491231002X") != b.lookup_hash("11010519491231002X")
    token = a.encrypt("11010519491231002X")
    assert b"11010519491231002X" not in token
    assert a.decrypt(token) == "11010519491231002X"


def test_a_short_pii_key_is_refused() -> None:
    with pytest.raises(ValueError):
        PiiProtector("short")
