"""Aid and budgets: money in integer fen (分), years in China time.

Each union has a yearly budget per aid type; no disbursement may exceed what is left of it (the
database enforces it with a conditional update, this module says why one is refused). Some aid
is paid at most once per member per calendar year. A retried disbursement is recognised by its
Idempotency-Key and the fingerprint of its request.
"""

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.relief.domain.eligibility import yuan
from shared.contracts.relief import AidType
from shared.errors import Conflict, InvalidInput
from shared.events import china_date

ONCE_PER_YEAR = frozenset({AidType.CONSOLATION, AidType.TUITION})
MAX_DISBURSEMENT_FEN = 10_000_000  # 100,000 yuan in one payment
MAX_BUDGET_FEN = 10**15
MIN_YEAR, MAX_YEAR = 2000, 2100
_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")


def aid_year(at: datetime) -> int:
    """The calendar year a payment counts in: China's, not UTC's (a 1 January 02:00 payment in
    Beijing is next year's)."""
    return china_date(at).year


def check_year(year: int) -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(f"year must be between {MIN_YEAR} and {MAX_YEAR}")
    return year


def check_amount(amount_fen: int) -> int:
    if amount_fen <= 0:
        raise InvalidInput("an amount is a positive number of fen")
    if amount_fen > MAX_DISBURSEMENT_FEN:
        raise InvalidInput(f"one disbursement pays at most {yuan(MAX_DISBURSEMENT_FEN)}")
    return amount_fen


def check_budget_total(total_fen: int, spent_fen: int) -> int:
    if not 0 <= total_fen <= MAX_BUDGET_FEN:
        raise InvalidInput("a budget is 0 or more fen")
    if total_fen < spent_fen:
        raise Conflict(
            f"the budget cannot be set below what is already spent ({yuan(spent_fen)})",
            spent_fen=spent_fen,
        )
    return total_fen


@dataclass(frozen=True)
class Budget:
    total_fen: int
    spent_fen: int

    @property
    def remaining_fen(self) -> int:
        return self.total_fen - self.spent_fen

    def can_pay(self, amount_fen: int) -> bool:
        return self.spent_fen + amount_fen <= self.total_fen

    def pay(self, amount_fen: int) -> "Budget":
        """The arithmetic of the SQL guard `spent + amount <= total`, for tests and messages."""
        if not self.can_pay(amount_fen):
            raise Conflict(self.refusal(amount_fen), remaining_fen=self.remaining_fen)
        return Budget(self.total_fen, self.spent_fen + amount_fen)

    def refusal(self, amount_fen: int) -> str:
        return f"over budget: {yuan(self.remaining_fen)} left, {yuan(amount_fen)} requested"


def aid_list(aid: Iterable[AidType], what: str) -> tuple[AidType, ...]:
    """The aid types named, each once, in a stable order; at least one."""
    named = set(aid)
    unique = tuple(a for a in AidType if a in named)
    if not unique:
        raise InvalidInput(f"{what} names at least one aid type")
    return unique


def require_budget_in_path(budget_union_id: uuid.UUID, union_path: Sequence[uuid.UUID]) -> None:
    """Aid is paid from the budget of the union following the case or of one above it."""
    if budget_union_id not in union_path:
        raise InvalidInput("aid is paid from the budget of the case's union or of a union above it")


def require_in_plan(aid_type: AidType, plan: Iterable[AidType]) -> None:
    planned = list(plan)
    if aid_type not in planned:
        raise Conflict(
            f"{aid_type} is not in the case's assistance plan ({', '.join(planned) or 'empty'})",
            plan=[a.value for a in planned],
        )


def check_idempotency_key(key: str | None) -> str:
    """A payment (a disbursement, a campaign list, student aid) names its key, so a retry pays once."""
    if key is None:
        raise InvalidInput("发放请求须带 Idempotency-Key 请求头,以免重试时重复发放")
    if not _KEY.match(key):
        raise InvalidInput("Idempotency-Key 须为8至100个字母、数字或 ._:- 字符")
    return key


def request_fingerprint(
    case_id: uuid.UUID, aid_type: AidType, amount_fen: int, budget_union_id: uuid.UUID, note: str
) -> bytes:
    """Identifies what was asked, so the same key with a different request is told apart."""
    canonical = json.dumps(
        [str(case_id), aid_type.value, amount_fen, str(budget_union_id), note],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).digest()


def require_same_request(stored: bytes, presented: bytes) -> None:
    if stored != presented:
        raise Conflict("this Idempotency-Key was already used for a different disbursement request")
