"""Filing a dispute: what a valid one looks like, and the case number."""

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import date

from shared.contracts.enrollment import MembershipStatus
from shared.contracts.legal import DisputeKind
from shared.errors import Conflict, InvalidInput

MAX_WORKERS = 500


@dataclass(frozen=True)
class Filing:
    member_id: uuid.UUID  # the filer (or the worker a cadre files for)
    kind: DisputeKind
    employer: str
    amount_claimed_fen: int
    learned_on: date  # when the worker learned of the infringement
    migrant_worker: bool
    description: str
    other_member_ids: tuple[uuid.UUID, ...] = ()  # a collective case

    @property
    def member_ids(self) -> list[uuid.UUID]:
        return [self.member_id, *self.other_member_ids]


def validate_filing(f: Filing, today: date) -> None:
    if not f.employer.strip():
        raise InvalidInput("employer is required")
    if f.amount_claimed_fen < 0:
        raise InvalidInput("amount_claimed_fen cannot be negative")
    if f.learned_on > today:
        raise InvalidInput("learned_on cannot be in the future")
    if len(set(f.member_ids)) != len(f.member_ids):
        raise InvalidInput("a worker appears twice in the case")
    if len(f.member_ids) > MAX_WORKERS:
        raise InvalidInput(f"a collective case covers at most {MAX_WORKERS} workers")


def case_number(year: int, serial: int) -> str:
    """One series for the whole union system: 维权2026-000123."""
    return f"维权{year}-{serial:06d}"


_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")


def check_idempotency_key(key: str | None) -> str | None:
    """Optional on a filing; when given, a retry with it answers with the first case."""
    if key is not None and not _KEY.match(key):
        raise InvalidInput("Idempotency-Key must be 8 to 100 letters, digits or ._:-")
    return key


def filing_fingerprint(f: Filing) -> bytes:
    """Identifies what was filed, so one key reused for a different filing is told apart."""
    canonical = json.dumps(
        [str(f.member_id), f.kind.value, f.employer.strip(), f.amount_claimed_fen, f.learned_on.isoformat(),
         f.migrant_worker, f.description.strip(), [str(m) for m in f.other_member_ids]],
        ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip
    return hashlib.sha256(canonical.encode()).digest()


def require_same_filing(stored: bytes, presented: bytes) -> None:
    if stored != presented:
        raise Conflict("this Idempotency-Key was already used for a different filing")


def require_active_filer(status: MembershipStatus) -> None:
    """Only active members file through the union."""
    if status is not MembershipStatus.ACTIVE:
        raise Conflict(f"only active members file through the union; this member is {status}")
