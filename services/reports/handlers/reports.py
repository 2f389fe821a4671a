"""PLACEHOLDER (part C2's worktree only): part C1 writes this module — the report's figures
from the read model, within the caller's scope. It stands here with the agreed signature so
the rendering routes type-check; the merge takes C1's file, not this one."""

import uuid

from services.reports.domain.tables import Period, Report
from shared.auth import Caller


async def load_report(
    deps: object, claims: Caller, report: str, union_id: uuid.UUID | None, period: Period
) -> Report:
    """The report `report` for the subtree of `union_id` (default: the caller's first binding)
    over `period`; NotFound for an unknown report, Forbidden outside the caller's scope."""
    raise NotImplementedError("part C1 provides load_report")
