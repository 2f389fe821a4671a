"""Membership and card numbers: allocated from sequences, so never reused."""

MEMBERSHIP_PREFIX = "ZJ"
# Issuer prefix of Zhijia member cards; 16 digits in all, the last a Luhn check digit.
CARD_PREFIX = "8860"


def luhn_check_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # every second digit from the right, counting the missing check digit
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def is_valid_luhn(number: str) -> bool:
    return number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def membership_number(sequence: int) -> str:
    if sequence < 1 or sequence >= 10**10:
        raise ValueError("membership sequence out of range")
    return f"{MEMBERSHIP_PREFIX}{sequence:010d}"


def card_number(sequence: int) -> str:
    if sequence < 1 or sequence >= 10**11:
        raise ValueError("card sequence out of range")
    body = f"{CARD_PREFIX}{sequence:011d}"
    return body + luhn_check_digit(body)
