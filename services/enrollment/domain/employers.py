"""The employer register (用人单位名录): the credit code's check, and who should have a union.

统一社会信用代码 (GB 32100-2015): 18 characters from 0-9 and the capitals but I, O, Z, S, V. Position
1 is the registering authority, 2 the kind of organisation, 3-8 the region (digits, GB/T 2260),
9-17 the organisation's own code, 18 a check character: with each character's value in that
alphabet (0..30) and the weights 3^i mod 31, check = 31 - (sum mod 31), 31 read as 0. A code
typed in lowercase is read in capitals (people type it so); the register keeps capitals.

Who should have a union (`should_have_union`, the denominator of 建会率). 《工会法》第十一条: an
employer with 25 or more members founds its own base union committee; a smaller one may found its
own, or join with others in a joint union (联合工会), or elect an organiser. The register's rule:
- every employer with at least one worker should be covered by a union (应建尽建): one of
  OWN_UNION_MIN_WORKFORCE or more by its own base union, a smaller one by its own or a 联合工会;
  either way `base_union_id` names the base union that covers it, and then it counts as founded;
- an employer with no workers (a shell, a holding company) has nobody to organise: it is
  registered but left out of 建会率.
`expected_union_form` says which form is expected; the threshold is the law's and lives here once.
"""

import random
from enum import StrEnum

from shared.errors import InvalidInput
from shared.regions import check_region

# The alphabet of the code, in the order of the characters' values (0..30).
CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CODE_CHARS)}
# 3^i mod 31 for positions 1..17.
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
CODE_LENGTH = 18

# 《工会法》第十一条: from this many workers an employer founds a base union of its own.
OWN_UNION_MIN_WORKFORCE = 25
WORKFORCE_MAX = 1_000_000
NAME_MAX = 200


class UnionForm(StrEnum):
    OWN = "own"  # its own base union committee (单独建会)
    JOINT = "joint"  # its own, or a joint union with other small employers (联合建会)
    NONE = "none"  # no workers: nothing to organise


def check_character(first17: str) -> str:
    """The 18th character for the first 17 (which must be in the alphabet)."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CODE_CHARS[(31 - total % 31) % 31]


def credit_code(raw: str) -> str:
    """The code as registered (trimmed, in capitals) when it is well formed and its check
    character is right; InvalidInput with the reason in Chinese otherwise."""
    code = raw.strip().upper()
    if len(code) != CODE_LENGTH:
        raise InvalidInput(f"统一社会信用代码应为{CODE_LENGTH}位,当前为{len(code)}位")
    wrong = [c for c in code if c not in _VALUE]
    if wrong:
        raise InvalidInput(
            f"统一社会信用代码只能由数字和大写字母组成(不使用 I、O、Z、S、V),含有不允许的字符「{wrong[0]}」"
        )
    if not code[2:8].isdigit():
        raise InvalidInput("统一社会信用代码第3至8位应为行政区划代码(数字)")
    if check_character(code[:17]) != code[17]:
        raise InvalidInput("统一社会信用代码校验位不正确,请核对后重新输入")
    return code


def is_valid_credit_code(raw: str) -> bool:
    try:
        credit_code(raw)
    except InvalidInput:
        return False
    return True


def random_credit_code(rng: random.Random, region: str = "330106") -> str:
    """A well-formed code with a right check character (tests, demo data): an enterprise
    registered by market regulation (91) in `region`."""
    body = "91" + region + "".join(rng.choice(CODE_CHARS) for _ in range(9))
    return body + check_character(body)


def employer_name(raw: str) -> str:
    name = raw.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise InvalidInput(f"单位名称应为1至{NAME_MAX}个字")
    return name


def workforce(value: int) -> int:
    if not 0 <= value <= WORKFORCE_MAX:
        raise InvalidInput(f"职工人数应在0至{WORKFORCE_MAX}之间")
    return value


def employer_region(raw: str) -> str:
    try:
        return check_region(raw.strip())
    except ValueError as exc:
        raise InvalidInput("所在地区应为6位行政区划代码(如 330106)") from exc


def expected_union_form(workers: int) -> UnionForm:
    if workers >= OWN_UNION_MIN_WORKFORCE:
        return UnionForm.OWN
    return UnionForm.JOINT if workers > 0 else UnionForm.NONE


def should_have_union(workers: int) -> bool:
    """Whether the employer counts in 建会率's denominator: every employer with workers."""
    return expected_union_form(workers) is not UnionForm.NONE
