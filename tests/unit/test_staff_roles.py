"""Counsel, partner staff and services are not union staff: a check that once read "not a
member" as "a cadre" names cadres and admins now, and those roles get only what a route grants
them by name (issue 17)."""

import uuid
from types import SimpleNamespace
from typing import Any, cast

import pytest

from services.legal.handlers.common import require_cadre
from services.relief.handlers.common import require_worker
from services.relief.store.cases import CaseRow
from shared.auth import Caller, Principal, Role
from shared.errors import Forbidden

UNION = uuid.uuid4()
OTHERS = (Role.COUNSEL, Role.PARTNER_STAFF, Role.SERVICE)


def principal(role: Role) -> Principal:
    scopes: dict[Role, dict[str, Any]] = {
        Role.MEMBER: {"member_id": uuid.uuid4()},
        Role.CADRE: {"union_id": UNION},
        Role.ADMIN: {},
        # Counsel names the union of its roster, and still covers none of it.
        Role.COUNSEL: {"union_id": UNION, "counsel_id": uuid.uuid4()},
        Role.PARTNER_STAFF: {"partner_id": "meituan-hz"},
        Role.SERVICE: {},
    }
    return Principal(sub=f"acc-{role}", role=role, **scopes[role])


def caller(role: Role) -> Caller:
    return Caller(principal=principal(role), correlation_id="t")


def case_in(union: uuid.UUID) -> CaseRow:
    return cast(CaseRow, SimpleNamespace(union_path=[uuid.uuid4(), union]))


def test_only_cadres_and_admins_are_union_staff() -> None:
    assert [r for r in Role if principal(r).is_cadre_or_admin()] == [Role.CADRE, Role.ADMIN]


@pytest.mark.parametrize("role", OTHERS)
def test_the_new_roles_cover_no_union_even_when_their_token_names_one(role: Role) -> None:
    assert not principal(role).covers_union([UNION])


@pytest.mark.parametrize("role", [Role.MEMBER, *OTHERS])
def test_only_cadres_and_admins_work_a_relief_case(role: Role) -> None:
    with pytest.raises(Forbidden):
        require_worker(caller(role), case_in(UNION))


@pytest.mark.parametrize("role", [Role.CADRE, Role.ADMIN])
def test_the_cadres_of_the_union_and_admins_work_a_relief_case(role: Role) -> None:
    require_worker(caller(role), case_in(UNION))
    if role is Role.CADRE:
        with pytest.raises(Forbidden):
            require_worker(caller(role), case_in(uuid.uuid4()))


@pytest.mark.parametrize("role", [Role.MEMBER, *OTHERS])
def test_legal_cadre_work_is_refused_to_members_counsel_partner_staff_and_services(role: Role) -> None:
    with pytest.raises(Forbidden, match="cadres keep the roster"):
        require_cadre(caller(role), "cadres keep the roster")


@pytest.mark.parametrize("role", [Role.CADRE, Role.ADMIN])
def test_legal_cadre_work_is_for_cadres_and_admins(role: Role) -> None:
    require_cadre(caller(role), "cadres keep the roster")
