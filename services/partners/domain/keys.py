"""Partner API keys: `zjp_<partner_id>_<secret>`, shown once, stored only as a SHA-256 digest.

The secret has 256 bits of entropy, so a plain digest (not a slow password hash) is enough to make
a stolen table useless, and a lookup by digest needs no per-partner salt.
"""

import hashlib
import re
import secrets

KEY_RE = re.compile(r"^zjp_(?P<partner>[a-z0-9][a-z0-9-]{1,30}[a-z0-9])_(?P<secret>[A-Za-z0-9_-]{43})$")


def new_key(partner_id: str) -> str:
    return f"zjp_{partner_id}_{secrets.token_urlsafe(32)}"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def partner_of(key: str) -> str | None:
    """The partner a well-formed key names (still to be checked against the stored digest)."""
    match = KEY_RE.fullmatch(key)
    return match["partner"] if match else None
