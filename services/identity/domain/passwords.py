"""Staff passwords: argon2id hashes (argon2-cffi, RFC 9106's low-memory profile), the length
rule, and a dummy hash so that an unknown username costs the same time as a wrong password."""

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from shared.errors import InvalidInput

MIN_LENGTH = 12
# Hashing is the costly step: a bound keeps a megabyte "password" from costing more.
MAX_LENGTH = 256

_hasher = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4
# Verified against when the username is unknown: the answer takes as long as a real check.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(24))


def check_new_password(password: str, *, username: str) -> None:
    """The rule for a password being set: long enough, and not the username."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"密码至少 {MIN_LENGTH} 个字符 (a password has at least {MIN_LENGTH} characters)")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"密码至多 {MAX_LENGTH} 个字符 (at most {MAX_LENGTH} characters)")
    if password.casefold() == username.casefold():
        raise InvalidInput("密码不能与用户名相同 (the password may not be the username)")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; with no hash (unknown user) the dummy is checked, so the
    time taken does not tell whether the username exists."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash on sign-in)."""
    return _hasher.check_needs_rehash(password_hash)


def random_password() -> str:
    """A password for a first account (printed once): 24 URL-safe characters, 144 bits."""
    return secrets.token_urlsafe(18)
