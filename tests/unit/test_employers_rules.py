"""The employer register's rules: the credit code's check character (GB 32100-2015), the
should-have-union rule, and what the member search box reads in the words typed."""

import random

import pytest

from services.enrollment.domain import employers as rules
from services.enrollment.domain.search import member_query
from shared.errors import InvalidInput

# Public codes of real companies (国家企业信用信息公示系统): 华为技术有限公司, 小米科技有限责任公司.
REAL_CODES = ["91440300708461136T", "91110108551385082Q"]


def test_the_weights_are_powers_of_three_mod_31() -> None:
    assert rules.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code: str) -> None:
    assert rules.credit_code(code) == code
    assert rules.check_character(code[:17]) == code[17]


def test_a_check_of_31_is_written_0() -> None:
    # Find a body whose weighted sum is a multiple of 31: its check character must be 0.
    rng = random.Random(7)
    for _ in range(10_000):
        body = "91330106" + "".join(rng.choice(rules.CODE_CHARS) for _ in range(9))
        total = sum(rules.CODE_CHARS.index(c) * w for c, w in zip(body, rules.WEIGHTS, strict=True))
        if total % 31 == 0:
            assert rules.check_character(body) == "0"
            assert rules.is_valid_credit_code(body + "0")
            return
    pytest.fail("no body with a sum divisible by 31 found")


@pytest.mark.parametrize("code", REAL_CODES)
def test_every_other_check_character_is_refused_in_chinese(code: str) -> None:
    for wrong in rules.CODE_CHARS:
        if wrong == code[17]:
            continue
        with pytest.raises(InvalidInput, match="校验位"):
            rules.credit_code(code[:17] + wrong)


def test_the_brief_sample_does_not_check() -> None:
    # 91110000100000794E was offered as an example; computed, its check character is 7, not E.
    assert rules.check_character("91110000100000794") == "7"
    assert not rules.is_valid_credit_code("91110000100000794E")


def test_lowercase_and_spaces_around_are_read_as_capitals() -> None:
    assert rules.credit_code(" 91110108551385082q ") == "91110108551385082Q"


@pytest.mark.parametrize("code", ["9144030070846113", "91440300708461136T0", "", "9"])
def test_a_wrong_length_is_refused(code: str) -> None:
    with pytest.raises(InvalidInput, match="18位"):
        rules.credit_code(code)


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_forbidden_letters_are_refused_naming_them(letter: str) -> None:
    code = "914403007084611" + letter + "6T"
    with pytest.raises(InvalidInput, match=f"「{letter}」"):
        rules.credit_code(code)


def test_full_width_and_other_scripts_are_refused() -> None:
    with pytest.raises(InvalidInput, match="不允许的字符"):
        rules.credit_code("９1440300708461136T")


def test_the_region_part_must_be_digits() -> None:
    body = "9144A300708461136"
    with pytest.raises(InvalidInput, match="行政区划"):
        rules.credit_code(body + rules.check_character(body))


def test_generated_codes_are_valid_and_one_changed_character_is_caught() -> None:
    rng = random.Random(19)
    for _ in range(500):
        code = rules.random_credit_code(rng)
        assert rules.is_valid_credit_code(code)
        # A single changed character anywhere changes the check (31 is prime, weights nonzero).
        i = rng.randrange(17)
        other = rng.choice([c for c in rules.CODE_CHARS if c != code[i]])
        changed = code[:i] + other + code[i + 1 :]
        if changed[2:8].isdigit():
            assert not rules.is_valid_credit_code(changed)


def test_should_have_union_counts_every_employer_with_workers() -> None:
    assert rules.OWN_UNION_MIN_WORKFORCE == 25
    assert rules.expected_union_form(25) is rules.UnionForm.OWN
    assert rules.expected_union_form(24) is rules.UnionForm.JOINT
    assert rules.expected_union_form(1) is rules.UnionForm.JOINT
    assert rules.expected_union_form(0) is rules.UnionForm.NONE
    assert [rules.should_have_union(n) for n in (0, 1, 24, 25, 10_000)] == [False, True, True, True, True]


def test_workforce_name_and_region_are_checked_in_chinese() -> None:
    assert rules.workforce(0) == 0 and rules.workforce(rules.WORKFORCE_MAX) == rules.WORKFORCE_MAX
    for bad in (-1, rules.WORKFORCE_MAX + 1):
        with pytest.raises(InvalidInput, match="职工人数"):
            rules.workforce(bad)
    assert rules.employer_name("  某某公司 ") == "某某公司"
    for name in ("", "   ", "公" * (rules.NAME_MAX + 1)):
        with pytest.raises(InvalidInput, match="单位名称"):
            rules.employer_name(name)
    assert rules.employer_region("330106") == "330106"
    for region in ("33", "990000", "33010a"):
        with pytest.raises(InvalidInput, match="行政区划代码"):
            rules.employer_region(region)


def test_the_search_box_reads_names_numbers_and_ids() -> None:
    name = member_query(" 张 ")
    assert (name.name_from, name.name_below, name.number, name.id_last4) == (
        "张",
        chr(ord("张") + 1),
        None,
        None,
    )
    card = member_query("8860000000000018")
    assert card.number == "8860000000000018" and card.id_last4 is None
    assert member_query("zj0000000001").number == "ZJ0000000001"
    last4 = member_query("123x")
    assert last4.id_last4 == "123X" and last4.number is None and last4.name_from == "123x"
    # As the console shows it, or as stored (four and four): the first four, the last four, the length.
    for shown in ("110101********123x", "1101**********123X"):
        masked = member_query(shown)
        assert (masked.id_first4, masked.id_last4, masked.id_length) == ("1101", "123X", 18)
        assert masked.name_from is None and masked.number is None
    for bad in ("", "  ", "11*123X", "张*", "1101**12345", "x" * 51):
        with pytest.raises(InvalidInput):
            member_query(bad)


def test_a_name_prefix_always_has_an_upper_bound() -> None:
    # Both ends bound the index range; a last character at the top of Unicode widens it instead.
    assert member_query("a\U0010ffff").name_below == "b"
    assert member_query("a\ud7ff").name_below == "a\ue000"
    top = member_query("\U0010ffff").name_below
    assert top is not None and top > "\U0010ffff" * 50
