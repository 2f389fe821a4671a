from datetime import date

import pytest

from services.enrollment.domain.national_id import (
    InvalidNationalId,
    age_on,
    check_char,
    normalize_national_id,
)

TODAY = date(2026, 11, 23)


def make_id(first17: str) -> str:
    return first17 + check_char(first17)


def test_published_example_checksum_is_x() -> None:
    # The standard's worked example: 11010519491231002X.
    assert check_char("11010519491231002") == "X"
    assert normalize_national_id("11010519491231002x", TODAY) == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1101051949123100", "18 characters"),
        ("11010519491231002A", "17 digits followed by a digit or X"),
        ("11010519491231002Y", "17 digits followed by a digit or X"),
        ("110105194912310021", "checksum"),
        ("99010519491231002X", "region code"),
        (make_id("11010519490231002"), "invalid birth date"),
        (make_id("11010521000101002"), "impossible birth date"),
        (make_id("11010518500101002"), "impossible birth date"),
    ],
)
def test_invalid_ids_are_refused_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidNationalId, match=reason):
        normalize_national_id(raw, TODAY)


def test_every_wrong_check_char_is_refused() -> None:
    first17 = "44030419900307123"
    right = check_char(first17)
    for wrong in "0123456789X":
        if wrong != right:
            with pytest.raises(InvalidNationalId):
                normalize_national_id(first17 + wrong, TODAY)


def test_age_counts_whole_years() -> None:
    nid = make_id("44030420101124123")  # born 2010-11-24
    assert age_on(nid, date(2026, 11, 23)) == 15
    assert age_on(nid, date(2026, 11, 24)) == 16
