"""Every source event into the reports' read model (the live generation, or a rebuild's)."""

from collections.abc import Awaitable, Callable

from services.reports.domain import measures as m
from services.reports.domain.coverage import EmployerCounts, differences
from services.reports.domain.rules import month_of
from services.reports.store import readmodel as rm
from shared.contracts.competitions import AwardGranted, EntryRegistered, EntryWithdrawn, IdeaAdopted
from shared.contracts.enrollment import (
    EmployerRegistered,
    EmployerSnapshot,
    EmployerUpdated,
    MemberEnrolled,
    MemberLeft,
    MemberReinstated,
    MemberTransferred,
    UnionRegistered,
)
from shared.contracts.envelope import EventMetadata, EventPayload
from shared.contracts.legal import (
    CaseClosed,
    CaseFiled,
    MediationEnded,
    SupervisionAnswered,
    SupervisionLetterSent,
)
from shared.contracts.legal import CaseSnapshot as DisputeSnapshot
from shared.contracts.partners import OfferRedeemed
from shared.contracts.relief import AidDisbursed, AidType, BudgetSet, CaseOpened, CaseReopened
from shared.contracts.relief import CaseSnapshot as ReliefSnapshot
from shared.contracts.relief_programmes import EmployerConsoled, Programme, ProgrammeAidPaid
from shared.db import Conn
from shared.logging import get_logger

log = get_logger(__name__)


async def apply_event(conn: Conn, envelope: EventMetadata, p: EventPayload) -> None:
    source = envelope.event_type.split(".", 1)[0]
    apply = _BY_SOURCE.get(source)
    if apply is None:
        log.debug("event_not_reported", event_type=envelope.event_type)
        return
    await apply(conn, envelope, p, Fact(envelope))


class Fact:
    """What every fact of one event shares: its month (China time), key and subject version."""

    def __init__(self, envelope: EventMetadata) -> None:
        self.month = month_of(envelope.occurred_at)
        self.version = envelope.subject_version
        self.key = str(envelope.event_id)
        self.at = envelope.occurred_at


async def _enrollment(conn: Conn, envelope: EventMetadata, p: EventPayload, f: Fact) -> None:
    match p:
        case UnionRegistered():
            await rm.upsert_union(conn, p)
        case MemberEnrolled() | MemberReinstated():
            await rm.upsert_member(conn, f.version, p.member)
            await rm.add_fact(conn, f.key, m.JOINED, p.member.base_union_id, f.month)
        case MemberLeft():
            await rm.upsert_member(conn, f.version, p.member)
            await rm.add_fact(conn, f.key, m.LEFT, p.member.base_union_id, f.month)
        case MemberTransferred():
            await rm.upsert_member(conn, f.version, p.member)
            await rm.add_fact(conn, f.key, m.TRANSFERRED_OUT, p.from_union_id, f.month)
            await rm.add_fact(conn, f.key, m.TRANSFERRED_IN, p.to_union_id, f.month)
        case EmployerRegistered() | EmployerUpdated():
            await _employer(conn, p.employer, f)
        case _:
            pass  # applications, transfers requested, erasures: no figure of their own


async def _employer(conn: Conn, e: EmployerSnapshot, f: Fact) -> None:
    """The register's row, and the difference the change makes to the coverage counts in its
    month (an older or repeated version makes none)."""
    before = await rm.employer_before(conn, e.employer_id)
    if before is not None and before[0] >= f.version:
        return
    after = EmployerCounts(e.responsible_union_id, e.base_union_id, e.workforce, e.should_have_union)
    key = f"employer:{e.employer_id}:{f.version}"
    for d in differences(before[1] if before else None, after):
        await rm.add_fact(conn, key, d.measure, d.union_id, f.month, dim=d.side, amount=d.amount)
    await rm.upsert_employer(conn, f.version, e)


async def _relief(conn: Conn, envelope: EventMetadata, p: EventPayload, f: Fact) -> None:
    if isinstance(p, BudgetSet):
        await rm.upsert_budget(conn, f.version, p)
        return
    if isinstance(p, ProgrammeAidPaid | EmployerConsoled):
        await _programme(conn, p)
        return
    case = getattr(p, "case", None)
    if not isinstance(case, ReliefSnapshot):
        return
    await rm.upsert_relief_case(conn, f.version, case)
    if isinstance(p, CaseOpened | CaseReopened):
        await rm.add_fact(conn, str(case.case_id), m.CASES_OPENED, case.union_id, f.month)
    elif isinstance(p, AidDisbursed):
        await rm.add_fact(
            conn, str(p.disbursement_id), m.AID_PAID, case.union_id, month_of(p.paid_at),
            dim=p.aid_type.value, amount=p.amount_fen,
        )  # fmt: skip


async def _programme(conn: Conn, p: ProgrammeAidPaid | EmployerConsoled) -> None:
    """A programme's payment, once by its id (a member's) or by campaign and employer."""
    if isinstance(p, EmployerConsoled):
        await rm.add_fact(
            conn, f"{p.campaign_id}/{p.employer_id}", m.PROGRAMME_PAID, p.union_id, month_of(p.paid_at),
            dim=f"{Programme.CONSOLATION.value}/employer", amount=p.amount_fen,
        )  # fmt: skip
        return
    paid = p.payment
    month = month_of(paid.paid_at)
    await rm.add_fact(
        conn, str(paid.payment_id), m.PROGRAMME_PAID, p.base_union_id, month,
        dim=f"{paid.programme.value}/{p.group.value}", amount=paid.amount_fen,
    )  # fmt: skip
    if paid.programme is Programme.STUDENT_AID:  # drawn from the yearly tuition budget
        await rm.add_fact(
            conn, str(paid.payment_id), m.AID_PAID, p.base_union_id, month, dim=AidType.TUITION.value,
            amount=paid.amount_fen,
        )  # fmt: skip


async def _legal(conn: Conn, envelope: EventMetadata, p: EventPayload, f: Fact) -> None:
    """A collective case's events come once per worker (each keyed by its member): its facts are
    keyed by the case, so it counts once."""
    if isinstance(p, SupervisionLetterSent):
        await rm.add_fact(
            conn, str(p.supervision_id), m.LETTERS_SENT, p.union_id, f.month, dim=p.letter.value
        )
        return
    if isinstance(p, SupervisionAnswered):
        dim = "rectified" if p.rectified else "not_rectified"
        await rm.add_fact(conn, str(p.supervision_id), m.LETTERS_ANSWERED, p.union_id, f.month, dim=dim)
        return
    case = getattr(p, "case", None)
    if not isinstance(case, DisputeSnapshot):
        return
    await rm.upsert_dispute(conn, f.at, case)
    cid, union = str(case.case_id), case.union_id
    if isinstance(p, CaseFiled):
        await rm.add_fact(conn, cid, m.DISPUTES_FILED, union, f.month, dim=case.kind.value)
    elif isinstance(p, CaseClosed):
        await rm.add_fact(conn, cid, m.DISPUTES_CLOSED, union, f.month, dim=p.outcome.value)
        await rm.add_fact(conn, cid, m.RECOVERED, union, f.month, dim=p.outcome.value, amount=p.recovered_fen)
    elif isinstance(p, MediationEnded):
        await rm.add_fact(conn, cid, m.MEDIATIONS, union, f.month, dim=p.outcome.value)


_COMPETITION_MEASURES = {
    EntryRegistered: m.ENTRIES, EntryWithdrawn: m.ENTRIES_WITHDRAWN, AwardGranted: m.AWARDS,
    IdeaAdopted: m.IDEAS_ADOPTED,
}  # fmt: skip


async def _competitions(conn: Conn, envelope: EventMetadata, p: EventPayload, f: Fact) -> None:
    """At the organising union."""
    measure = _COMPETITION_MEASURES.get(type(p))
    if measure is None or not isinstance(p, EntryRegistered | EntryWithdrawn | AwardGranted | IdeaAdopted):
        return
    key = str(p.award_id) if isinstance(p, AwardGranted) else str(p.entry.entry_id)
    c = p.competition
    await rm.add_fact(conn, key, measure, c.union_id, f.month, dim=c.kind.value)


async def _partners(conn: Conn, envelope: EventMetadata, p: EventPayload, f: Fact) -> None:
    """A redemption counts at the member's base union as this read model knows it then."""
    if not isinstance(p, OfferRedeemed):
        return
    union = await rm.member_union(conn, p.member_id)
    if union is None:  # a member this read model has not met: attributable to no union
        log.info("redemption_unattributed", redemption_id=str(p.redemption_id))
        return
    await rm.add_fact(
        conn, str(p.redemption_id), m.REDEMPTIONS, union, month_of(p.redeemed_at), dim=p.partner_id
    )


Apply = Callable[[Conn, EventMetadata, EventPayload, Fact], Awaitable[None]]
_BY_SOURCE: dict[str, Apply] = {
    "enrollment": _enrollment, "relief": _relief, "legal": _legal, "competitions": _competitions,
    "partners": _partners,
}  # fmt: skip
