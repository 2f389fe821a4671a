"""The rules moved out of the handlers: setting up, registering an entry (who, for whom, in what
kind of competition), a leaver's entries, publication, objections, awards and adoption."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

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
from services.competitions.domain.results import (
    award_rank,
    check_honour,
    require_active_entry,
    require_adoptable,
    require_entrant,
    require_flagged,
    require_named_entry,
    require_public_vote,
    require_resolvable,
    require_reviewed,
)
from services.competitions.domain.rules import AlreadyScored, StageStatus
from services.competitions.domain.setup import CriterionSpec, NewCompetition, StageSpec, validate_setup
from shared.auth import Principal, Role
from shared.contracts.competitions import CompetitionKind, HonourKind
from shared.contracts.enrollment import MembershipStatus
from shared.errors import Conflict, Forbidden, InvalidInput

ROOT, DISTRICT, LOGISTICS, RIDERS, OTHER = (uuid.uuid4() for _ in range(5))
PATHS = {
    DISTRICT: [ROOT, DISTRICT],
    LOGISTICS: [ROOT, DISTRICT, LOGISTICS],
    RIDERS: [ROOT, DISTRICT, RIDERS],
    OTHER: [ROOT, OTHER],
}
SKILLS = Organiser(CompetitionKind.SKILLS, DISTRICT, PATHS[DISTRICT], [StageStatus.SCORING])


def cadre(union_id: uuid.UUID) -> Principal:
    return Principal(sub="cadre", role=Role.CADRE, union_id=union_id)


def member(member_id: uuid.UUID) -> Principal:
    return Principal(sub="member", role=Role.MEMBER, member_id=member_id)


def entrant(union_id: uuid.UUID, status: MembershipStatus = MembershipStatus.ACTIVE) -> Entrant:
    return Entrant(uuid.uuid4(), status, union_id, PATHS[union_id])


def alone(e: Entrant, idea: str | None = None) -> NewEntry:
    return NewEntry((e.member_id,), None, None, idea)


def team(*members: Entrant, union_id: uuid.UUID) -> NewEntry:
    return NewEntry(tuple(m.member_id for m in members), "叉车班", union_id, None)


def register(principal: Principal, e: NewEntry, entrants: list[Entrant], org: Organiser = SKILLS) -> None:
    check_registration(principal, org, e, entrants, PATHS[entry_union(e, entrants)])


def stage(judges: tuple[str, ...] = ("li", "wang"), chief: str = "li", experts: int = 1) -> StageSpec:
    return StageSpec("第一季度", judges, chief, False, experts, 0, Decimal(20), 5)


def competition(criteria: tuple[CriterionSpec, ...], *stages: StageSpec) -> NewCompetition:
    return NewCompetition("比武", CompetitionKind.SKILLS, DISTRICT, criteria, stages)


TECHNIQUE = CriterionSpec("technique", "操作技能", 60, Decimal(100))


def test_a_set_up_has_unique_criteria_and_a_panel_with_its_chief_judge() -> None:
    validate_setup(competition((TECHNIQUE,), stage()))
    for bad in (
        competition((TECHNIQUE, TECHNIQUE), stage()),
        competition((CriterionSpec("t", "t", 0, Decimal(100)),), stage()),
        competition((TECHNIQUE,), stage(("li", "li"))),
        competition((TECHNIQUE,), stage(chief="zhao")),
        competition((TECHNIQUE,), stage(experts=0)),
    ):
        with pytest.raises(InvalidInput):
            validate_setup(bad)


def test_an_entry_names_its_members_once_and_a_team_its_union_group() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    check_form(NewEntry((a,), None, None, None))
    check_form(NewEntry((a, b), "叉车班", LOGISTICS, None))
    for bad in (
        NewEntry((), None, None, None),
        NewEntry((a, a), "叉车班", LOGISTICS, None),
        NewEntry((a, b), None, None, None),
        NewEntry((a, b), "叉车班", None, None),
    ):
        with pytest.raises(InvalidInput):
            check_form(bad)


def test_a_member_registers_themself_and_a_cadre_those_of_their_own_union() -> None:
    m = entrant(LOGISTICS)
    register(member(m.member_id), alone(m), [m])
    register(cadre(LOGISTICS), alone(m), [m])
    register(cadre(DISTRICT), alone(m), [m])  # the organisers
    with pytest.raises(Forbidden):
        register(cadre(RIDERS), alone(m), [m])
    with pytest.raises(Forbidden):
        register(member(uuid.uuid4()), alone(m), [m])


def test_only_active_members_of_the_organiser_s_subtree_take_part() -> None:
    left = entrant(LOGISTICS, MembershipStatus.LEFT)
    with pytest.raises(Conflict) as exc:
        register(cadre(DISTRICT), alone(left), [left])
    assert exc.value.context == {"member_id": str(left.member_id), "member_status": "left"}
    outsider = entrant(OTHER)
    with pytest.raises(Forbidden):
        register(cadre(ROOT), alone(outsider), [outsider])


def test_a_team_belongs_to_a_union_group_inside_the_organiser_and_the_cadre_s_scope() -> None:
    a, b = entrant(LOGISTICS), entrant(LOGISTICS)
    register(cadre(LOGISTICS), team(a, b, union_id=LOGISTICS), [a, b])
    assert entry_union(team(a, b, union_id=LOGISTICS), [a, b]) == LOGISTICS
    assert entry_union(alone(a), [a]) == LOGISTICS
    with pytest.raises(Forbidden):
        register(cadre(ROOT), team(a, b, union_id=OTHER), [a, b])
    with pytest.raises(Forbidden):  # each member is theirs, the team's union group is not
        register(cadre(LOGISTICS), team(a, b, union_id=RIDERS), [a, b])


def test_the_kind_of_competition_decides_what_an_entry_names() -> None:
    m = entrant(LOGISTICS)
    titles = Organiser(CompetitionKind.TEAM_TITLE, DISTRICT, PATHS[DISTRICT], [StageStatus.SCORING])
    with pytest.raises(InvalidInput, match="team"):
        register(cadre(DISTRICT), alone(m), [m], titles)
    ideas = Organiser(CompetitionKind.GOLDEN_IDEAS, DISTRICT, PATHS[DISTRICT], [StageStatus.SCORING])
    with pytest.raises(InvalidInput, match="idea_title"):
        register(cadre(DISTRICT), alone(m), [m], ideas)
    register(cadre(DISTRICT), alone(m, "夜间错峰充电"), [m], ideas)


def test_registration_closes_once_any_stage_is_published() -> None:
    m = entrant(LOGISTICS)
    published = Organiser(
        CompetitionKind.SKILLS, DISTRICT, PATHS[DISTRICT], [StageStatus.FINAL, StageStatus.SCORING]
    )
    with pytest.raises(Conflict, match="closed"):
        register(cadre(DISTRICT), alone(m), [m], published)


def test_a_leaver_loses_their_individual_entries_only() -> None:
    assert leaves(MembershipStatus.LEFT) and not leaves(MembershipStatus.ACTIVE)
    assert withdrawn_on_leaving(None) and not withdrawn_on_leaving("叉车班")


def test_a_sheet_names_its_entry_by_code_on_a_blind_stage() -> None:
    entry = uuid.uuid4()
    require_named_entry(True, None, "ABCDEFGHJK")
    require_named_entry(False, entry, None)
    with pytest.raises(InvalidInput, match="blind"):
        require_named_entry(True, entry, None)
    with pytest.raises(InvalidInput):
        require_named_entry(False, None, None)
    with pytest.raises(Conflict):
        require_active_entry(False)
    assert AlreadyScored("locked").code == "already_scored" and AlreadyScored.status_code == 409


def test_votes_only_where_the_stage_mixes_them_in() -> None:
    require_public_vote(40)
    with pytest.raises(Conflict):
        require_public_vote(0)


def row(entry_no: int, *, flagged: bool = False, reviewed: bool = False, rank: int = 1) -> dict[str, Any]:
    return {"entry_id": str(uuid.uuid4()), "entry_no": entry_no, "rank": rank, "flagged": flagged,
            "reviewed_by_chief_judge": reviewed}  # fmt: skip


def test_publication_waits_for_the_chief_judge_s_reviews() -> None:
    require_reviewed([row(1), row(2, flagged=True, reviewed=True)])
    with pytest.raises(Conflict) as exc:
        require_reviewed([row(1), row(2, flagged=True), row(3, flagged=True)])
    assert exc.value.context == {"entries": [2, 3]}
    flagged = row(1, flagged=True)
    assert require_flagged(flagged) is flagged
    for result in (None, row(1)):
        with pytest.raises(Conflict):
            require_flagged(result)


def test_an_objection_is_the_entrant_s_and_resolved_once() -> None:
    mine = uuid.uuid4()
    require_entrant(member(mine), [mine])
    for who in (member(uuid.uuid4()), cadre(DISTRICT)):
        with pytest.raises(Forbidden):
            require_entrant(who, [mine])
    assert require_resolvable("open", True, 2) == "upheld"
    assert require_resolvable("open", False, 0) == "dismissed"
    with pytest.raises(InvalidInput):
        require_resolvable("open", False, 1)
    with pytest.raises(Conflict) as exc:
        require_resolvable("upheld", True, 0)
    assert exc.value.context == {"objection_status": "upheld"}


def test_awards_come_from_final_results_with_an_honour_of_at_most_five_years() -> None:
    first, second = row(1, rank=1), row(2, rank=2)
    assert award_rank(StageStatus.FINAL, [first, second], uuid.UUID(second["entry_id"])) == 2
    with pytest.raises(Conflict):
        award_rank(StageStatus.PUBLISHED, [first], uuid.UUID(first["entry_id"]))
    with pytest.raises(Conflict):
        award_rank(StageStatus.FINAL, [first], uuid.uuid4())
    today = date(2026, 5, 1)
    check_honour(None, None, today)
    check_honour(HonourKind.MODEL_WORKER, date(2031, 5, 1), today)
    with pytest.raises(InvalidInput):
        check_honour(HonourKind.MODEL_WORKER, None, today)
    with pytest.raises(InvalidInput):
        check_honour(HonourKind.MODEL_WORKER, date(2031, 5, 2), today)


def test_only_a_golden_idea_with_a_final_review_is_adopted() -> None:
    idea = row(1)
    entry_id = uuid.UUID(idea["entry_id"])
    require_adoptable(CompetitionKind.GOLDEN_IDEAS, [(StageStatus.FINAL, [idea])], entry_id)
    with pytest.raises(Conflict, match="only golden ideas"):
        require_adoptable(CompetitionKind.SKILLS, [(StageStatus.FINAL, [idea])], entry_id)
    with pytest.raises(Conflict, match="final"):
        require_adoptable(CompetitionKind.GOLDEN_IDEAS, [(StageStatus.PUBLISHED, [idea])], entry_id)
    with pytest.raises(Conflict, match="final"):
        require_adoptable(CompetitionKind.GOLDEN_IDEAS, [(StageStatus.FINAL, None)], entry_id)
