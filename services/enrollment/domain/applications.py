"""Online applications (网上入会): what a submission is, and how a second one is answered."""

import re
import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

from services.enrollment.domain.national_id import age_on, normalize_national_id
from shared.auth import Role
from shared.contracts.enrollment import ApplicationChannel, EmploymentType, MembershipStatus, UnionKind
from shared.errors import Conflict, Forbidden, InvalidInput

P = TypeVar("P")
MINIMUM_AGE = 16  # the legal working age
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class ApplicationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ApplicationForm:
    name: str
    national_id: str
    phone: str
    employer: str
    employment_type: EmploymentType
    base_union_id: uuid.UUID
    channel: ApplicationChannel | None = None  # None: not stated, see application_channel


def application_channel(stated: ApplicationChannel | None, *, filed_by_cadre: bool) -> ApplicationChannel:
    """The channel the caller stated; else a cadre files on a worker's behalf, anyone else online."""
    if stated is ApplicationChannel.IMPORT:
        raise InvalidInput("the import channel is the roster import's own (POST /imports)")
    if stated is ApplicationChannel.CADRE and not filed_by_cadre:
        raise InvalidInput("only a cadre can file an application on a worker's behalf")
    if stated is not None:
        return stated
    return ApplicationChannel.CADRE if filed_by_cadre else ApplicationChannel.ONLINE


def own_person_of(role: Role, member_id: uuid.UUID | None) -> uuid.UUID | None:
    """A member files for their own person only, the one their account is linked to (the token's
    member_id, put there by the identity service after real-name verification). None: the caller
    files for others (a cadre, an admin)."""
    if role is not Role.MEMBER:
        return None
    if member_id is None:
        raise Forbidden("请先完成实名认证")
    return member_id


def require_own_person(found_by_their_id: P | None) -> P:
    """The member's person, found by the form's national ID; none: the form names somebody else."""
    if found_by_their_id is None:
        raise Forbidden("只能为本人申请入会")
    return found_by_their_id


def validate_form(form: ApplicationForm, today: date) -> ApplicationForm:
    """Return the form in canonical form, or raise InvalidInput naming the first problem."""
    name = form.name.strip()
    if not 1 <= len(name) <= 50:
        raise InvalidInput("name must be 1 to 50 characters")
    national_id = normalize_national_id(form.national_id, today)
    if age_on(national_id, today) < MINIMUM_AGE:
        raise InvalidInput(f"applicants must be at least {MINIMUM_AGE} years old")
    phone = form.phone.strip().replace(" ", "").removeprefix("+86")
    if not _MOBILE.match(phone):
        raise InvalidInput("phone must be an 11-digit mainland mobile number")
    employer = form.employer.strip()
    if not employer and form.employment_type is not EmploymentType.FLEXIBLE:
        raise InvalidInput("employer is required unless the applicant is flexibly employed")
    if len(employer) > 200:
        raise InvalidInput("employer must be at most 200 characters")
    return ApplicationForm(
        name=name,
        national_id=national_id,
        phone=phone,
        employer=employer,
        employment_type=form.employment_type,
        base_union_id=form.base_union_id,
        channel=form.channel,
    )


def require_base_union(kind: UnionKind) -> None:
    if kind is not UnionKind.BASE:
        raise InvalidInput(f"members join a base union (基层工会), not a {kind} union")


class SubmissionOutcome(StrEnum):
    NEW = "new"
    EXISTING_MEMBER = "existing_member"  # one person is one member: answer with the membership
    SAME_PENDING = "same_pending"  # a retry of the pending application: answer with it
    PENDING_ELSEWHERE = "pending_elsewhere"  # one pending application per person: a conflict


def classify_submission(
    member_status: MembershipStatus | None,
    pending_union_id: uuid.UUID | None,
    requested_union_id: uuid.UUID,
) -> SubmissionOutcome:
    if member_status is MembershipStatus.ACTIVE:
        return SubmissionOutcome.EXISTING_MEMBER
    if pending_union_id is not None:
        if pending_union_id == requested_union_id:
            return SubmissionOutcome.SAME_PENDING
        return SubmissionOutcome.PENDING_ELSEWHERE
    return SubmissionOutcome.NEW


RECEIVED_MESSAGE = "申请已受理，工会将审核后联系您"


def may_see_submission(
    outcome: SubmissionOutcome, *, covers_found_union: bool, covers_every_union: bool, own: bool = False
) -> bool:
    """Whether the caller may be told what a submission found, or gets the neutral answer.

    Whatever is told must be readable by the caller anyway: the member or the pending application
    only by someone whose scope covers its union (`covers_found_union`). And a NEW application is
    told only to someone who could read any union (an admin): told to anyone else, "new" would set
    apart the persons they are not told about, the ones known outside their scope. A member
    filing for themself (`own`) is told everything: it is all theirs."""
    if own:
        return True
    if outcome is SubmissionOutcome.NEW:
        return covers_every_union
    return covers_found_union


def require_pending(status: ApplicationStatus) -> None:
    if status is not ApplicationStatus.PENDING:
        raise Conflict(f"the application is already {status}")


def require_reason(reason: str) -> str:
    cleaned = reason.strip()
    if not cleaned:
        raise InvalidInput("a rejection needs a reason")
    if len(cleaned) > 500:
        raise InvalidInput("the reason must be at most 500 characters")
    return cleaned
