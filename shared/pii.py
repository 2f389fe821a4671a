"""Personal data protection: keyed hashes for uniqueness, encryption at rest, masking for display.

One secret (PII_KEY) yields two independent keys through HKDF: one for HMAC-SHA256 lookups
("is this person already known?") and one for Fernet encryption of the value itself.
"""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


def derive_key(secret: str, purpose: bytes) -> bytes:
    """A 32-byte key of its own for `purpose` from a service secret (HKDF-SHA256)."""
    return _derive(secret.encode(), purpose)


class PiiProtector:
    def __init__(self, secret: str) -> None:
        if len(secret) < 32:
            raise ValueError("PII_KEY must be at least 32 characters")
        raw = secret.encode()
        self._hash_key = _derive(raw, b"zhijia pii lookup hash")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(raw, b"zhijia pii encryption")))

    def lookup_hash(self, value: str) -> bytes:
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).digest()

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes) -> str:
        return self._fernet.decrypt(token).decode()


def mask_national_id(national_id: str) -> str:
    """Keep the first four and last four characters: hides the county, birth date and sequence."""
    return national_id[:4] + "*" * (len(national_id) - 8) + national_id[-4:]


def mask_phone(phone: str) -> str:
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:] if len(phone) >= 7 else "*" * len(phone)


def mask_name(name: str) -> str:
    """张三 -> 张*, 张小三 -> 张*三, 欧阳小明 -> 欧**明 (the public-disclosure style)."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
