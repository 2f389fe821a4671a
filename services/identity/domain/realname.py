"""Real-name verification and its disputes (pure rules, no I/O)."""

import re
import uuid
from collections.abc import Sequence
from enum import StrEnum

from shared.auth import Principal

# Eighteen characters, the last a digit or X: the provider and enrollment judge the rest.
NATIONAL_ID = re.compile(r"^\d{17}[\dXx]$")


class RealNameStatus(StrEnum):
    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    DISPUTED = "disputed"


STATUS_LABELS = {
    RealNameStatus.UNVERIFIED: "未实名认证",
    RealNameStatus.VERIFIED: "已实名认证",
    RealNameStatus.DISPUTED: "实名争议处理中",
}


class DisputeStatus(StrEnum):
    OPEN = "open"
    TRANSFERRED = "transferred"
    KEPT = "kept"


class Decision(StrEnum):
    TRANSFER = "transfer"  # the person moves to the asking account; the holder loses it
    KEEP = "keep"  # the holder keeps the person; the dispute closes


DISPUTE_OPENED = "该身份已被其他账号认证，已提交工会干部核实处理。处理完成前，本账号暂不能关联会员身份。"


def may_settle(principal: Principal, union_path: Sequence[uuid.UUID] | None) -> bool:
    """An admin settles any dispute; a cadre one whose person is in their union's subtree. A
    dispute over a person in no union (no path) is an admin's only."""
    return principal.covers_union(union_path or [])
