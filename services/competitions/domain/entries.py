"""Who may enter a competition, and for whom: registration's rules, and what a member's leaving
means for their entries. Pure: no I/O (the handler loads the competition, its stages and the
entrants, then asks here)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from services.competitions.domain.rules import StageStatus
from shared.auth import Principal, Role
from shared.contracts.competitions import CompetitionKind
from shared.contracts.enrollment import MembershipStatus
from shared.errors import Conflict, Forbidden, InvalidInput


@dataclass(frozen=True)
class NewEntry:
    member_ids: tuple[uuid.UUID, ...]
    team_name: str | None
    team_union_id: uuid.UUID | None  # a team: the union group it belongs to
    idea_title: str | None

    @property
    def is_team(self) -> bool:
        return self.team_name is not None


def check_form(e: NewEntry) -> None:
    """What an entry says about itself, before anything is loaded."""
    if not e.member_ids:
        raise InvalidInput("an entry names at least one member (member_ids)")
    if len(set(e.member_ids)) != len(e.member_ids):
        raise InvalidInput("a member is named once in an entry")
    if not e.is_team and len(e.member_ids) != 1:
        raise InvalidInput("an individual entry names one member; a team entry has a team_name")
    if e.is_team and e.team_union_id is None:
        raise InvalidInput("a team entry names its union group (team_union_id)")


@dataclass(frozen=True)
class Entrant:
    """A member named in an entry, as the service's membership view knows them."""

    member_id: uuid.UUID
    status: MembershipStatus
    base_union_id: uuid.UUID
    union_path: Sequence[uuid.UUID]  # root .. the member's base union


@dataclass(frozen=True)
class Organiser:
    """The competition as registration sees it."""

    kind: CompetitionKind
    union_id: uuid.UUID
    union_path: Sequence[uuid.UUID]  # root .. the organising union
    stages: Sequence[StageStatus]


def entry_union(e: NewEntry, entrants: Sequence[Entrant]) -> uuid.UUID:
    """A team's union group, or the individual entrant's base union."""
    if e.is_team and e.team_union_id is not None:
        return e.team_union_id
    return entrants[0].base_union_id


def team_only(kind: CompetitionKind) -> bool:
    """A team-title competition (工人先锋号, 五型班组) takes team entries only."""
    return kind is CompetitionKind.TEAM_TITLE


def check_kind(kind: CompetitionKind, e: NewEntry) -> None:
    if team_only(kind) and not e.is_team:
        raise InvalidInput("a team-title competition takes team entries only")
    if kind is CompetitionKind.GOLDEN_IDEAS and not e.idea_title:
        raise InvalidInput("a golden-ideas entry names its idea (idea_title)")


def registration_open(stages: Sequence[StageStatus]) -> bool:
    """The model has no registration window: entries are taken until a stage publishes results
    (every stage still scoring). The list of open competitions uses the same rule."""
    return all(s is StageStatus.SCORING for s in stages)


def check_open(stages: Sequence[StageStatus]) -> None:
    if not registration_open(stages):
        raise Conflict("registration is closed: results have been published")


def _registers_self(principal: Principal, e: NewEntry) -> bool:
    return principal.role is Role.MEMBER and e.member_ids == (principal.member_id,)


def check_entrant(organiser: Organiser, entrant: Entrant, *, trusted: bool, principal: Principal) -> None:
    """Only active members of the organiser's subtree; registered by themself or the organisers
    (`trusted`), else by a cadre of their own union."""
    member_id = str(entrant.member_id)
    if entrant.status is not MembershipStatus.ACTIVE:
        raise Conflict("only members take part", member_id=member_id, member_status=entrant.status.value)
    if organiser.union_id not in entrant.union_path:
        raise Forbidden("the member's union is outside the organising union", member_id=member_id)
    if not (trusted or principal.covers_union(entrant.union_path)):
        raise Forbidden("this member is outside your scope", member_id=member_id)


def check_registration(
    principal: Principal,
    organiser: Organiser,
    e: NewEntry,
    entrants: Sequence[Entrant],
    entry_union_path: Sequence[uuid.UUID],
) -> None:
    """Every rule an entry meets before it is numbered (the member themself, the organisers, or
    the cadres of every entrant's own union register it). One entry per member is the store's
    unique index."""
    check_kind(organiser.kind, e)
    check_open(organiser.stages)
    trusted = _registers_self(principal, e) or principal.covers_union(organiser.union_path)
    for entrant in entrants:
        check_entrant(organiser, entrant, trusted=trusted, principal=principal)
    if organiser.union_id not in entry_union_path:
        raise Forbidden("the team's union is outside the organising union")
    if not (trusted or principal.covers_union(entry_union_path)):
        raise Forbidden("the team's union is outside your scope")


def leaves(status: MembershipStatus) -> bool:
    """A newer membership snapshot that is not active withdraws the member's entries."""
    return status is not MembershipStatus.ACTIVE


def withdrawn_on_leaving(team_name: str | None) -> bool:
    """A leaver's individual entry is withdrawn; a team entry stays (the leaver gets no result)."""
    return team_name is None
