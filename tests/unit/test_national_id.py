import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from services.enrollment.domain.national_id import (
    InvalidNationalId,
    age_on,
    check_char,
    normalize_national_id,
)
from shared.regions import PROVINCE_PREFIXES

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


# ---- 实名制: one person, one spelling of their number (ASCII digits only, nothing converted)

_born = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
valid_ids = st.builds(
    lambda region, county, born, seq: make_id(f"{region}{county}{born:%Y%m%d}{seq}"),
    st.sampled_from(sorted(PROVINCE_PREFIXES)),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    _born,
    st.from_regex(r"[0-9]{3}", fullmatch=True),
)
# Every decimal digit of every script but ASCII: Arabic-Indic, full-width, Devanagari, ...
other_digits = st.characters(categories=["Nd"]).filter(lambda c: not c.isascii())
whitespace = st.text(st.sampled_from(" \t\n\r\u3000\u00a0"), max_size=3)


@given(valid_ids)
def test_every_valid_ascii_id_round_trips(nid: str) -> None:
    assert normalize_national_id(nid, TODAY) == nid


def _ending_in_x(region: str, county: str, born: date, seq: str) -> str:
    """The same person-like number with its last two sequence digits chosen so the check char
    is X (1 in 11 numbers: filtering for it made hypothesis give up now and then)."""
    stem = f"{region}{county}{born:%Y%m%d}{seq[0]}"
    return next(stem + f"{n:02d}X" for n in range(100) if check_char(stem + f"{n:02d}") == "X")


ids_ending_in_x = st.builds(
    _ending_in_x,
    st.sampled_from(sorted(PROVINCE_PREFIXES)),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    _born,
    st.from_regex(r"[0-9]{3}", fullmatch=True),
)


@given(ids_ending_in_x, whitespace, whitespace)
def test_a_lower_case_x_is_read_as_x_and_surrounding_whitespace_trimmed(
    nid: str, before: str, after: str
) -> None:
    assert normalize_national_id(before + nid[:-1] + "x" + after, TODAY) == nid


@given(valid_ids, whitespace, whitespace)
def test_surrounding_whitespace_is_trimmed(nid: str, before: str, after: str) -> None:
    assert normalize_national_id(before + nid + after, TODAY) == nid


@given(st.text(max_size=20), other_digits, st.text(max_size=20))
def test_any_string_with_a_non_ascii_digit_is_refused_as_an_invalid_id(
    before: str, digit: str, after: str
) -> None:
    with pytest.raises(InvalidNationalId):
        normalize_national_id(before + digit + after, TODAY)


@given(valid_ids, st.data())
def test_a_valid_id_with_one_digit_from_another_script_is_refused_with_the_reason(
    nid: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, 17 if nid[-1] != "X" else 16))
    # The same digit in another script: the zero of that script's block, plus the digit's value.
    zero = data.draw(other_digits.map(lambda c: chr(ord(c) - unicodedata.digit(c, 0))))
    digit = chr(ord(zero) + int(nid[at]))
    assume(unicodedata.digit(digit, -1) == int(nid[at]))
    with pytest.raises(InvalidNationalId, match="digits 0-9"):
        normalize_national_id(nid[:at] + digit + nid[at + 1 :], TODAY)


@pytest.mark.parametrize("zero", ["\uff10", "\u0660", "\u06f0", "\u0966", "\u1810"])
def test_full_width_and_other_script_spellings_of_a_valid_id_are_refused_never_converted(zero: str) -> None:
    nid = "11010519491231002X"
    spelled = "".join(chr(ord(zero) + int(c)) if c.isdigit() else c for c in nid)
    assert spelled != nid and int(spelled[:17]) == int(nid[:17])  # the same number to int() ...
    with pytest.raises(InvalidNationalId, match="digits 0-9"):  # ... but not the same spelling
        normalize_national_id(spelled, TODAY)


@pytest.mark.parametrize("odd", ["\u00b2", "\u2460", "\u4e00", "\U0001d7ce"])
def test_digit_like_characters_int_cannot_read_are_refused_not_crashed(odd: str) -> None:
    with pytest.raises(InvalidNationalId):
        normalize_national_id("1101051949123100" + odd + "X", TODAY)


def test_reasons_never_quote_the_number() -> None:
    for raw in ("99010519491231002X", make_id("11010519490231002"), make_id("11010521000101002")):
        with pytest.raises(InvalidNationalId) as refused:
            normalize_national_id(raw, TODAY)
        assert raw[:2] not in refused.value.reason and raw[6:14] not in refused.value.reason


def test_ids_born_today_or_earlier_only() -> None:
    tomorrow = TODAY + timedelta(days=1)
    with pytest.raises(InvalidNationalId, match="impossible birth date"):
        normalize_national_id(make_id(f"110105{tomorrow:%Y%m%d}002"), TODAY)
