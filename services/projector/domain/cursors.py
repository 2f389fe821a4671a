"""Opaque cursors the card's lists hand out (offers, the merchant directory, the inbox): a small
JSON object in URL-safe base64. A cursor coming back is hostile input like any other."""

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from shared.inputs import InputRefused, strict_json


class InvalidCursor(ValueError):
    """A cursor that this service did not hand out (or that was altered)."""


def encode(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        # A crafted cursor could carry a NUL or a huge number on its way to SQL.
        data = strict_json(raw, "cursor")
    except (binascii.Error, ValueError, InputRefused) as exc:
        raise InvalidCursor("cursor is not one this service handed out") from exc
    if not isinstance(data, dict):
        raise InvalidCursor("cursor is not one this service handed out")
    return data


def aware_time(value: object) -> datetime:
    """A time a cursor carries, in UTC: refused when it is no ISO time, has no offset, or would
    overflow (year 1 at +14:00) on its way to the database."""
    try:
        if not isinstance(value, str):
            raise TypeError
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("a naive time")
        return parsed.astimezone(UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidCursor("cursor is not one this service handed out") from exc
