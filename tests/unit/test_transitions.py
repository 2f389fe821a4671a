"""The status table of shared/transitions.py: a move it has, a refusal in words for one it has not,
and a table that forgets to say why an action may be refused does not load."""

from enum import StrEnum

import pytest

from shared.errors import Conflict
from shared.transitions import Transitions


class Door(StrEnum):
    OPEN = "open"
    SHUT = "shut"


class Push(StrEnum):
    CLOSE = "close"
    OPEN_IT = "open_it"


DOORS: Transitions[Door, Push] = Transitions(
    {(Door.OPEN, Push.CLOSE): Door.SHUT, (Door.SHUT, Push.OPEN_IT): Door.OPEN},
    {Push.CLOSE: "只有开着的门可以关", Push.OPEN_IT: "只有关着的门可以开"},
    {Door.OPEN: "开着", Door.SHUT: "关着"},
)


def test_a_move_in_the_table_is_made_and_one_outside_it_is_refused_in_words() -> None:
    assert DOORS.next(Door.OPEN, Push.CLOSE) is Door.SHUT
    assert DOORS.allows(Door.SHUT, Push.OPEN_IT) and not DOORS.allows(Door.SHUT, Push.CLOSE)
    with pytest.raises(Conflict, match=r"只有开着的门可以关\(当前状态:关着\)") as refused:
        DOORS.next(Door.SHUT, Push.CLOSE)
    assert refused.value.context == {"current_status": "shut"}


def test_a_table_without_a_refusal_for_an_action_does_not_load() -> None:
    with pytest.raises(ValueError, match="no refusal"):
        Transitions({(Door.OPEN, Push.CLOSE): Door.SHUT}, {}, {})
