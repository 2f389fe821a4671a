"""One-time codes (pure rules, no I/O): six digits from `secrets`, kept only as a keyed hash
bound to the code's id, compared in constant time; five minutes; five wrong tries kill one."""

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

CODE_DIGITS = 6
CODE_VALIDITY = timedelta(minutes=5)
MAX_WRONG_TRIES = 5

# A mainland mobile number: 11 digits, 1 then 3..9.
PHONE = re.compile(r"^1[3-9]\d{9}$")
CODE = re.compile(r"^\d{6}$")


class Purpose(StrEnum):
    SIGN_IN = "sign_in"


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(key: bytes, code_id: uuid.UUID, code: str) -> bytes:
    """The code as stored: HMAC-SHA256 under identity's code key, the code's id bound in (a
    hash copied onto another code's row does not match)."""
    return hmac.new(key, code_id.bytes + code.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class StoredCode:
    code_id: uuid.UUID
    code_hash: bytes
    expires_at: datetime
    failures: int


class CodeCheck(StrEnum):
    RIGHT = "right"
    WRONG = "wrong"  # one more failure on the code
    WRONG_AND_DEAD = "wrong_and_dead"  # the fifth: the code is spent
    EXPIRED = "expired"
    NONE = "none"  # no code waiting for this number (never sent, used, dead)


def check_code(key: bytes, stored: StoredCode | None, given: str, now: datetime) -> CodeCheck:
    if stored is None:
        return CodeCheck.NONE
    if now >= stored.expires_at or stored.failures >= MAX_WRONG_TRIES:
        return CodeCheck.EXPIRED
    if hmac.compare_digest(stored.code_hash, code_hash(key, stored.code_id, given)):
        return CodeCheck.RIGHT
    return CodeCheck.WRONG_AND_DEAD if stored.failures + 1 >= MAX_WRONG_TRIES else CodeCheck.WRONG
