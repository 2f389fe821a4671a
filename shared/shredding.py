"""Crypto-shredding: personal fields sealed with a key of their own person, so destroying that one
key makes every copy unreadable (events on topics, replays, backups) without rewriting any.

A person's data key is 32 random bytes. At rest it is wrapped (AES-GCM) by a key derived from the
service's master secret; a field is sealed with AES-GCM under the data key, the person's id as
associated data, so a sealed value cannot be passed off as another person's. Enrollment's events
carry personal fields sealed; shared/person_keys.py brings the keys to the consumers.
"""

import base64
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, ConfigDict, Field

_NONCE = 12  # bytes: AES-GCM's standard nonce, random per seal (2^32 seals per key stay safe)
_KEY = 32


class Unreadable(ValueError):
    """The value cannot be opened: its key is gone (erased) or it was not sealed with that key."""


class Sealed(BaseModel):
    """A personal value as events carry it: whose key sealed it, the nonce and the ciphertext."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: uuid.UUID  # the person's id: one key per person
    nonce: str = Field(min_length=16, max_length=16)  # base64 of 12 bytes
    ciphertext: str = Field(min_length=24, max_length=4096)  # base64, tag included


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=_KEY * 8)


def seal(data_key: bytes, key_id: uuid.UUID, value: str) -> Sealed:
    nonce = os.urandom(_NONCE)
    ct = AESGCM(data_key).encrypt(nonce, value.encode(), key_id.bytes)
    return Sealed(key_id=key_id, nonce=_b64(nonce), ciphertext=_b64(ct))


def unseal(data_key: bytes | None, sealed: Sealed) -> str:
    """The clear value; Unreadable when the key is gone (None) or is not the one that sealed it."""
    if data_key is None:
        raise Unreadable(f"the key of {sealed.key_id} is gone")
    try:
        nonce, ct = base64.b64decode(sealed.nonce), base64.b64decode(sealed.ciphertext)
        return AESGCM(data_key).decrypt(nonce, ct, sealed.key_id.bytes).decode()
    except (InvalidTag, ValueError) as exc:
        raise Unreadable(f"a value sealed for {sealed.key_id} does not open with this key") from exc


class KeyWrapper:
    """Wraps data keys for storage with a key derived from the service's master secret, the
    key's id bound in, so a wrapped key copied onto another person's row does not unwrap."""

    def __init__(self, master_secret: str, purpose: bytes = b"zhijia person keys") -> None:
        if len(master_secret) < 32:
            raise ValueError("the key master secret must be at least 32 characters")
        # One secret may serve several purposes: each derives a key of its own.
        kek = HKDF(algorithm=hashes.SHA256(), length=_KEY, salt=None, info=purpose).derive(
            master_secret.encode()
        )
        self._aead = AESGCM(kek)

    def wrap(self, key_id: uuid.UUID, data_key: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data_key, key_id.bytes)

    def unwrap(self, key_id: uuid.UUID, wrapped: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], key_id.bytes)
        except InvalidTag as exc:
            raise Unreadable(f"the wrapped key of {key_id} does not unwrap here") from exc


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
