"""The green channel (绿色通道): which disputes jump the queue, by explicit rules.

Each rule that matches adds its reason; the priority is the highest any rule gives. A case is in
the green channel when it is urgent.
"""

from dataclasses import dataclass
from datetime import date

from shared.contracts.legal import DisputeKind, Priority

COLLECTIVE_URGENT_WORKERS = 10  # 群体性: ten or more workers against one employer
LIMIT_NEAR_DAYS = 30  # the one-year arbitration limit runs out within a month
LARGE_ARREARS_FEN = 5_000_000  # 50,000 yuan of unpaid wages


@dataclass(frozen=True)
class Dispute:
    kind: DisputeKind
    migrant_worker: bool
    workers: int
    amount_claimed_fen: int
    arbitration_limit: date


@dataclass(frozen=True)
class Triage:
    priority: Priority
    reasons: tuple[str, ...]

    @property
    def green_channel(self) -> bool:
        return self.priority is Priority.URGENT


_RANK = {Priority.NORMAL: 0, Priority.HIGH: 1, Priority.URGENT: 2}


def triage(d: Dispute, today: date) -> Triage:
    found: list[tuple[Priority, str]] = []
    if d.kind is DisputeKind.WAGE_ARREARS and d.migrant_worker:
        found.append((Priority.URGENT, "a migrant worker's unpaid wages (农民工欠薪)"))
    elif d.kind is DisputeKind.WAGE_ARREARS:
        found.append((Priority.HIGH, "unpaid wages"))
    if d.kind is DisputeKind.WAGE_ARREARS and d.amount_claimed_fen >= LARGE_ARREARS_FEN:
        found.append((Priority.URGENT, "wage arrears of 50,000 yuan or more"))
    if d.kind is DisputeKind.WORK_INJURY:
        found.append((Priority.URGENT, "a work injury"))
    if d.kind is DisputeKind.OCCUPATIONAL_HEALTH:
        found.append((Priority.HIGH, "occupational health"))
    if d.kind is DisputeKind.DISMISSAL:
        found.append((Priority.HIGH, "unlawful dismissal: the worker has lost their income"))
    if d.workers >= COLLECTIVE_URGENT_WORKERS:
        found.append((Priority.URGENT, f"a collective dispute of {d.workers} workers"))
    days_left = (d.arbitration_limit - today).days
    if days_left <= LIMIT_NEAR_DAYS:
        found.append((Priority.URGENT, f"the arbitration limit runs out in {max(days_left, 0)} days"))
    if not found:
        return Triage(Priority.NORMAL, ())
    top = max((p for p, _ in found), key=_RANK.__getitem__)
    return Triage(top, tuple(reason for _, reason in found))
