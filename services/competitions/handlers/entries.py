"""Entries: registration, and the withdrawal of a leaver's entries. Each runs in one
transaction: the entry, its trail and its events (through the outbox) together or not at all."""

import uuid

import asyncpg

from services.competitions.domain.entries import (
    Entrant,
    NewEntry,
    Organiser,
    check_form,
    check_registration,
    entry_union,
    leaves,
    withdrawn_on_leaving,
)
from services.competitions.handlers.common import Deps, competition_or_404, union_path
from services.competitions.store import competitions, entries
from services.competitions.store.entries import EntryRow
from shared import audit, membership
from shared.auth import Caller
from shared.contracts.competitions import EntryRegistered, EntryWithdrawn, WithdrawalReason
from shared.contracts.enrollment import MemberSnapshot
from shared.db import Conn
from shared.errors import Conflict, NotFound
from shared.events import Trace


async def _entrant(conn: Conn, member_id: uuid.UUID) -> Entrant:
    member = await membership.get_member(conn, member_id)
    if member is None:
        raise NotFound(f"member {member_id} is not known to the competitions service")
    return Entrant(
        member_id, member.status, member.base_union_id, await union_path(conn, member.base_union_id)
    )


async def register_entry(deps: Deps, caller: Caller, competition_id: uuid.UUID, e: NewEntry) -> EntryRow:
    check_form(e)
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        competition = await competition_or_404(conn, competition_id)
        stages = await competitions.stages_of(conn, competition_id)
        organiser = Organiser(
            competition.kind, competition.union_id, competition.union_path, [s.status for s in stages]
        )
        entrants = [await _entrant(conn, m) for m in e.member_ids]
        union_id = entry_union(e, entrants)
        check_registration(caller.principal, organiser, e, entrants, await union_path(conn, union_id))
        row = EntryRow(
            uuid.uuid4(), competition_id, 0, e.team_name, union_id, e.idea_title, "active", now,
            list(e.member_ids), [x.base_union_id for x in entrants],
        )  # fmt: skip
        try:
            async with conn.transaction():
                entry = await entries.insert_entry(conn, row, caller.actor)
        except asyncpg.UniqueViolationError as exc:
            raise Conflict("a member enters a competition once") from exc
        await audit.record(
            conn, trace, "entry_registered", f"entry:{entry.entry_id}", record_id=competition_id,
            entry_no=entry.entry_no, members=[str(m) for m in e.member_ids], team=e.team_name,
        )  # fmt: skip
        for member_id in e.member_ids:
            await deps.events.emit(
                conn, trace, member_id,
                EntryRegistered(
                    member_id=member_id, competition=competition.ref, entry=entry.ref, registered_at=now
                ),
            )  # fmt: skip
    return entry


async def withdraw_leaver(conn: Conn, deps: Deps, trace: Trace, member: MemberSnapshot) -> None:
    """A member who left: their individual entries in unfinished competitions are withdrawn (a
    team entry stays; the leaver gets no result from it). In the transaction applying the event."""
    if not leaves(member.status):
        return
    now = deps.now()
    for entry in await entries.active_entries_of_member(conn, member.member_id):
        if not withdrawn_on_leaving(entry.team_name):
            continue
        competition = await competition_or_404(conn, entry.competition_id)
        await entries.withdraw_entry(conn, entry.entry_id, now)
        await audit.record(
            conn, trace, "entry_withdrawn", f"entry:{entry.entry_id}", record_id=entry.competition_id,
            reason=WithdrawalReason.MEMBER_LEFT.value, member_id=str(member.member_id),
        )  # fmt: skip
        await deps.events.emit(
            conn, trace, member.member_id,
            EntryWithdrawn(
                member_id=member.member_id, competition=competition.ref, entry=entry.ref,
                reason=WithdrawalReason.MEMBER_LEFT, withdrawn_at=now,
            ),
        )  # fmt: skip
