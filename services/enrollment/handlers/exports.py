"""A person's copy of their data (PIPL art. 45): the member asks, a cadre in scope (or an admin)
approves, then the member reads it. Every step is audited. An export holds what enrollment
keeps on the person (the ID masked, as every answer: it is held encrypted and the person knows
it), and each other service's section, asked with the member's own credentials."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.enrollment.domain.links import Link
from services.enrollment.domain.transfers import Transfer
from services.enrollment.handlers.common import Deps, existing_member, member_in_scope
from services.enrollment.store import applications, exports, links, members, transfers
from shared import audit, personal_data
from shared.auth import Caller
from shared.contracts.personal_data import SectionInExport
from shared.db import Conn
from shared.errors import Conflict, Forbidden, NotFound
from shared.events import Trace


@dataclass(frozen=True)
class MemberExport:
    request: exports.ExportRequest
    generated_at: datetime
    member: members.MemberRow
    applications: list[applications.ApplicationRow]
    transfers: list[Transfer]
    link: Link | None
    trail: list[audit.TrailEntry]
    sections: list[SectionInExport]


async def request_export(deps: Deps, caller: Caller, member_id: uuid.UUID) -> exports.ExportRequest:
    if not caller.principal.is_member(member_id):
        raise Forbidden("only the member may ask for a copy of their data")
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        await existing_member(conn, member_id, lock=True)
        request = exports.ExportRequest(
            request_id=uuid.uuid4(), member_id=member_id, status="pending", requested_at=deps.now(),
            approved_by=None, approved_at=None,
        )  # fmt: skip
        await exports.insert(conn, request)
        await audit.record(conn, trace, "export.requested", str(request.request_id), record_id=member_id)
        return request


async def _existing_request(conn: Conn, request_id: uuid.UUID, *, lock: bool) -> exports.ExportRequest:
    request = await exports.get(conn, request_id, for_update=lock)
    if request is None:
        raise NotFound(f"export request {request_id} does not exist")
    return request


async def approve_export(deps: Deps, caller: Caller, request_id: uuid.UUID) -> exports.ExportRequest:
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        request = await _existing_request(conn, request_id, lock=True)
        await member_in_scope(conn, caller, request.member_id, self_allowed=False, lock=False)
        if request.status != "pending":
            raise Conflict("the export request is approved already")
        approved = await exports.approve(conn, request_id, caller.actor, deps.now())
        await audit.record(conn, trace, "export.approved", str(request_id), record_id=request.member_id)
        return approved


async def read_export(deps: Deps, caller: Caller, request_id: uuid.UUID) -> MemberExport:
    """The export, for the member who asked, once approved (its reading is audited too)."""
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        request = await _existing_request(conn, request_id, lock=False)
        if not caller.principal.is_member(request.member_id):
            raise Forbidden("only the member who asked reads their export")
        member = await existing_member(conn, request.member_id, lock=False)
        if request.status != "approved":
            raise Conflict("the export request awaits a cadre's approval")
        await audit.record(conn, trace, "export.delivered", str(request_id), record_id=member.member_id)
        held = (
            await applications.of_person(conn, member.member_id),
            await transfers.of_member(conn, member.member_id),
            await links.of_person(conn, member.member_id),
            await audit.trail_of_record(conn, member.member_id),
        )
    # The other services are asked outside the transaction: no connection waits on their answers.
    sections = await personal_data.gather(deps.export_sources, member.member_id, caller)
    return MemberExport(
        request=request, generated_at=deps.now(), member=member, applications=held[0],
        transfers=held[1], link=held[2], trail=held[3], sections=sections,
    )  # fmt: skip
