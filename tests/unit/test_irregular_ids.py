from datetime import date

from services.enrollment.irregular_ids import Irregular, ascii_reading, render, rule_broken

TODAY = date(2026, 11, 23)
VALID = "11010519491231002X"
FULL_WIDTH = "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in VALID)
ARABIC_INDIC = "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in VALID)


def test_a_stored_number_in_other_digits_breaks_the_rule_and_reads_as_its_ascii_spelling() -> None:
    for stored in (FULL_WIDTH, ARABIC_INDIC):
        assert rule_broken(stored, TODAY) is not None and "0-9" in (rule_broken(stored, TODAY) or "")
        assert ascii_reading(stored) == VALID


def test_a_regular_stored_number_keeps_the_rule() -> None:
    assert rule_broken(VALID, TODAY) is None
    assert ascii_reading(VALID) is None  # nothing to read differently


def test_a_stored_number_not_in_canonical_form_breaks_the_rule() -> None:
    assert rule_broken(VALID.lower(), TODAY) == "the number is not stored in its canonical form"


def test_the_listing_never_shows_the_number_in_clear() -> None:
    row = Irregular(
        "m", "ZJ1", "C1", "1101**********002X", "杭州 / 某工会", "u", rule_broken(FULL_WIDTH, TODAY) or ""
    )
    text = render(1, [row])
    assert FULL_WIDTH not in text and VALID not in text and "1101**********002X" in text
    assert text.endswith(
        "1 of 1 members have an ID number that breaks the rule; resolve each with the person "
        "(nothing was changed or merged)"
    )
