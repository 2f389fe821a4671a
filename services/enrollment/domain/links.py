"""Person links (实名认证): one identity account linked to one person, one person to one account.

The identity service asks; enrollment, the only holder of national IDs, answers by the facts it
keeps: a person nobody knew is created and linked, a known non-member is linked, a member claims
their membership only with the name and phone of their record. Nothing here tells the caller
more than the outcome: a mismatch, an erased person and a wrong name read the same."""

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

# The `sub` of the identity service's own service token: the only caller of the link routes.
IDENTITY_SERVICE = "identity"
MISMATCH_MESSAGE = "姓名或手机号与会员档案不一致,请联系所在工会"
_MOBILE = re.compile(r"1[3-9][0-9]{9}")


class LinkHow(StrEnum):
    REAL_NAME = "real_name"  # a person not (yet) a member, verified by their ID
    CLAIM = "claim"  # an existing member who proved name and phone of their record


class LinkOutcome(StrEnum):
    LINKED = "linked"
    CLAIMED = "claimed"
    TRANSFERRED = "transferred"


class DetailsMismatch(Conflict):
    """The one neutral refusal: name or phone differ from the member's record, or the person is
    erased. It says nothing of which, nor whether the person is a member."""

    code = "details_mismatch"

    def __init__(self) -> None:
        super().__init__(MISMATCH_MESSAGE)


class ClaimedByAnotherAccount(Conflict):
    code = "claimed_by_another_account"


class AccountAlreadyLinked(Conflict):
    code = "account_already_linked"


@dataclass(frozen=True)
class Link:
    person_id: uuid.UUID
    account_id: uuid.UUID
    linked_at: datetime
    how: LinkHow


@dataclass(frozen=True)
class MemberRecord:
    """What a claim is checked against: the member's name and phone, and where they belong."""

    name: str
    phone: str
    union_path: Sequence[uuid.UUID]  # root .. the member's base union


@dataclass(frozen=True)
class Claimant:
    account_id: uuid.UUID
    name: str
    phone: str  # 11 digits (mobile_number)


@dataclass(frozen=True)
class LinkDecision:
    how: LinkHow
    new: bool  # False: the account holds this link already (a retry), nothing to write

    @property
    def outcome(self) -> LinkOutcome:
        return LinkOutcome.CLAIMED if self.how is LinkHow.CLAIM else LinkOutcome.LINKED


def require_identity_service(principal: Principal) -> None:
    if principal.role is not Role.SERVICE or principal.sub != IDENTITY_SERVICE:
        raise Forbidden("只有统一身份认证服务可以关联人员")


def phone_digits(raw: str) -> str | None:
    """The 11 digits of a mainland number however it was written (+86, spaces, dashes), or None."""
    digits = "".join(c for c in raw if c in "0123456789")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if len(digits) == 11 else None


def mobile_number(raw: str) -> str:
    digits = phone_digits(raw)
    if digits is None or not _MOBILE.fullmatch(digits):
        raise InvalidInput("phone must be an 11-digit mainland mobile number")
    return digits


def clean_name(raw: str) -> str:
    """The name as compared: full-width forms folded (NFKC), surrounding and inner spaces gone."""
    name = "".join(unicodedata.normalize("NFKC", raw).split())
    if not 1 <= len(name) <= 50:
        raise InvalidInput("name must be 1 to 50 characters")
    return name


def clean_name_or_none(raw: str) -> str | None:
    try:
        return clean_name(raw)
    except InvalidInput:
        return None


def matches_record(claimant: Claimant, record: MemberRecord) -> bool:
    return clean_name_or_none(record.name) == claimant.name and phone_digits(record.phone) == claimant.phone


def decide_link(
    claimant: Claimant,
    *,
    person_id: uuid.UUID,
    erased: bool,
    link: Link | None,
    account_link: Link | None,
    member: MemberRecord | None,
) -> LinkDecision:
    """What a link request does for the person its ID found.

    The account's own link is looked at first: it tells nothing about the person asked for. A
    member's name and phone are checked before anything about their link is said, so knowing an
    ID number alone never tells whether its holder has an account."""
    if account_link is not None and account_link.person_id != person_id:
        raise AccountAlreadyLinked("该账号已关联其他人员", person_id=str(account_link.person_id))
    if erased:
        raise DetailsMismatch()
    if link is not None and link.account_id == claimant.account_id:
        return LinkDecision(link.how, new=False)
    if member is not None and not matches_record(claimant, member):
        raise DetailsMismatch()
    if link is not None:
        raise ClaimedByAnotherAccount(
            "该人员已关联其他账号,可提出申诉由工会核实",
            person_id=str(person_id),
            union_path=[str(u) for u in member.union_path] if member is not None else None,
        )
    return LinkDecision(LinkHow.CLAIM if member is not None else LinkHow.REAL_NAME, new=True)


def decide_transfer(
    link: Link | None, from_account: uuid.UUID, to_account: uuid.UUID, to_account_link: Link | None
) -> bool:
    """Whether the link moves (False: it is with `to_account` already, a retry). A cadre settled a
    dispute for `to_account`; the identity service carries the decision out."""
    if from_account == to_account:
        raise InvalidInput("from_account_id and to_account_id must differ")
    if link is not None and link.account_id == to_account:
        return False
    if link is None or link.account_id != from_account:
        raise NotFound("this account holds no link to this person")
    if to_account_link is not None:
        raise AccountAlreadyLinked("目标账号已关联其他人员", person_id=str(to_account_link.person_id))
    return True
