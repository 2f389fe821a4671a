"""Person links for the identity service: link an account to the person its ID names (a claim,
for a member), and move a link after a cadre settled a dispute. Each is one transaction with its
audit entry; the person row stays locked, so requests for one person are serialised."""

import uuid
from dataclasses import dataclass

from services.enrollment.domain.links import (
    AccountAlreadyLinked,
    Claimant,
    Link,
    LinkOutcome,
    MemberRecord,
    clean_name,
    decide_link,
    decide_transfer,
    mobile_number,
    require_identity_service,
)
from services.enrollment.domain.national_id import normalize_national_id
from services.enrollment.handlers.common import Deps, existing_union
from services.enrollment.store import links, members, persons
from shared import audit
from shared.auth import Caller
from shared.db import Conn
from shared.errors import NotFound
from shared.events import Trace, china_date
from shared.pii import mask_national_id


@dataclass(frozen=True)
class LinkRequest:
    account_id: uuid.UUID
    name: str
    national_id: str
    phone: str


@dataclass(frozen=True)
class LinkResult:
    person_id: uuid.UUID
    member_id: uuid.UUID | None
    outcome: LinkOutcome
    created: bool  # False: the answer to a retry, nothing changed


async def _member_record(conn: Conn, person_id: uuid.UUID) -> MemberRecord | None:
    member = await members.get_member(conn, person_id)
    if member is None:
        return None
    union = await existing_union(conn, member.membership.base_union_id)
    return MemberRecord(name=member.name, phone=member.phone, union_path=tuple(union.path))


async def link_person(deps: Deps, caller: Caller, request: LinkRequest) -> LinkResult:
    require_identity_service(caller.principal)
    now = deps.now()
    national_id = normalize_national_id(request.national_id, china_date(now))
    claimant = Claimant(request.account_id, clean_name(request.name), mobile_number(request.phone))
    async with deps.pool.acquire() as conn, conn.transaction():
        # A person nobody knew is created here, as an application would: the ID is held once.
        person = await persons.lock_or_create_person(
            conn,
            deps.pii.lookup_hash(national_id),
            deps.pii.encrypt(national_id),
            mask_national_id(national_id),
        )
        person_id = person.person_id
        member = await _member_record(conn, person_id)
        decision = decide_link(
            claimant,
            person_id=person_id,
            erased=await persons.is_erased(conn, person_id),
            link=await links.of_person(conn, person_id),
            account_link=await links.of_account(conn, claimant.account_id),
            member=member,
        )
        if decision.new:
            link = Link(person_id, claimant.account_id, now, decision.how)
            if not await links.insert(conn, link):
                raise AccountAlreadyLinked("该账号已关联其他人员")  # a concurrent link won
            await audit.record(
                conn, Trace.of(caller), "person.linked", str(person_id), record_id=person_id,
                account_id=str(claimant.account_id), how=decision.how.value,
            )  # fmt: skip
        return LinkResult(
            person_id, person_id if member is not None else None, decision.outcome, created=decision.new
        )


async def transfer_link(
    deps: Deps, caller: Caller, person_id: uuid.UUID, from_account: uuid.UUID, to_account: uuid.UUID
) -> LinkResult:
    require_identity_service(caller.principal)
    async with deps.pool.acquire() as conn, conn.transaction():
        if await persons.lock_person(conn, person_id) is None:
            raise NotFound("this account holds no link to this person")
        link = await links.of_person(conn, person_id, for_update=True)
        moves = decide_transfer(link, from_account, to_account, await links.of_account(conn, to_account))
        if moves:
            if await links.move(conn, person_id, to_account, deps.now()) is None:
                raise AccountAlreadyLinked("目标账号已关联其他人员")  # a concurrent link won
            await audit.record(
                conn, Trace.of(caller), "person.link_transferred", str(person_id), record_id=person_id,
                from_account_id=str(from_account), to_account_id=str(to_account),
            )  # fmt: skip
        is_member = await members.get_member(conn, person_id) is not None
        return LinkResult(person_id, person_id if is_member else None, LinkOutcome.TRANSFERRED, created=moves)
