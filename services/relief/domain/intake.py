"""Intake: what a hardship report is, and how a second report for the same household is answered.

One file per household (一户一档): a household is named by its household register number
(户口簿户号). While a file is open for the member or for their household, another report joins
it instead of opening a second file.
"""

import re
import uuid
from dataclasses import dataclass
from enum import StrEnum

from shared.contracts.enrollment import MembershipStatus
from shared.contracts.relief import IntakeChannel
from shared.errors import Conflict, InvalidInput

MAX_HOUSEHOLD_SIZE = 50  # input limit; what is plausible is an eligibility criterion
MAX_MONTHLY_INCOME_FEN = 100_000_000  # 1,000,000 yuan a month: anything above is a typo
MAX_NOTE = 2000
_REGISTER_NO = re.compile(r"^[0-9A-Z]{6,30}$")


class Cause(StrEnum):
    ILLNESS = "illness"  # 因病
    DISASTER = "disaster"  # 因灾
    SCHOOLING = "children_schooling"  # 因学
    DISABILITY = "disability"  # 因残
    SINGLE_PARENT = "single_parent"  # 单亲
    ACCIDENT = "accident"  # 意外
    UNEMPLOYMENT = "unemployment"  # 失业


@dataclass(frozen=True)
class Household:
    """Household figures as reported or as a home visit found them. Money in fen (分)."""

    size: int
    monthly_income_fen: int

    @property
    def per_capita_fen(self) -> int:
        """For display (rounded down); the rules compare exactly, without dividing."""
        return self.monthly_income_fen // self.size


@dataclass(frozen=True)
class HardshipReport:
    member_id: uuid.UUID
    household_register_no: str
    household: Household
    causes: tuple[Cause, ...]
    note: str  # the causes' specifics: sensitive, never in an event


def validate_household(size: int, monthly_income_fen: int) -> Household:
    if not 1 <= size <= MAX_HOUSEHOLD_SIZE:
        raise InvalidInput(f"household size must be 1 to {MAX_HOUSEHOLD_SIZE} people")
    if not 0 <= monthly_income_fen <= MAX_MONTHLY_INCOME_FEN:
        raise InvalidInput("monthly household income must be 0 or more fen (and plausible)")
    return Household(size=size, monthly_income_fen=monthly_income_fen)


def validate_causes(causes: tuple[Cause, ...]) -> tuple[Cause, ...]:
    """Deduplicated, in a stable order; an empty list is allowed (the visit may find the cause)."""
    return tuple(c for c in Cause if c in set(causes))


def clean_text(value: str, what: str, *, required: bool = False, limit: int = MAX_NOTE) -> str:
    cleaned = value.strip()
    if required and not cleaned:
        raise InvalidInput(f"{what} is required")
    if len(cleaned) > limit:
        raise InvalidInput(f"{what} must be at most {limit} characters")
    return cleaned


def normalize_register_no(raw: str) -> str:
    value = raw.strip().upper().replace(" ", "").replace("-", "")
    if not _REGISTER_NO.match(value):
        raise InvalidInput("household register number (户号) must be 6 to 30 letters or digits")
    return value


def household_key(register_no: str) -> str:
    """What the keyed hash is taken of: prefixed, so it can never equal another kind of value's."""
    return f"household-register:{register_no}"


def mask_register_no(value: str) -> str:
    return "*" * (len(value) - 4) + value[-4:]


def validate_report(report: HardshipReport) -> HardshipReport:
    return HardshipReport(
        member_id=report.member_id,
        household_register_no=normalize_register_no(report.household_register_no),
        household=validate_household(report.household.size, report.household.monthly_income_fen),
        causes=validate_causes(report.causes),
        note=clean_text(report.note, "the note"),
    )


def require_active_member(status: MembershipStatus) -> None:
    """Only active members may have a relief case."""
    if status is not MembershipStatus.ACTIVE:
        raise Conflict(f"only active members may have a relief case; this member has {status}")


def intake_channel(*, by_the_member: bool) -> IntakeChannel:
    return IntakeChannel.SELF_APPLICATION if by_the_member else IntakeChannel.GRID_REPORT


class IntakeOutcome(StrEnum):
    OPENED = "opened"  # a new file
    JOINED = "joined"  # the member or their household already has an open file: the report joins it
