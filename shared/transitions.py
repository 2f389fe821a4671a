"""A status table: which action moves which status where, and the refusal (a 409 in Chinese, with
the current status in words) for every move the table does not have. Programmes and lists in the
services declare theirs as data; the table is the rule."""

from collections.abc import Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from shared.errors import Conflict

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)


class Transitions(Generic[S, A]):
    def __init__(
        self, moves: Mapping[tuple[S, A], S], refusals: Mapping[A, str], labels: Mapping[str, str]
    ) -> None:
        missing = {action for _, action in moves} - set(refusals)
        if missing:  # every action says why it was refused
            raise ValueError(f"no refusal for {sorted(missing)}")
        self._moves = dict(moves)
        self._refusals = dict(refusals)
        self._labels = dict(labels)

    def next(self, status: S, action: A) -> S:
        """Where `action` takes `status`, or a Conflict that says why not and where it stands."""
        moved = self._moves.get((status, action))
        if moved is None:
            label = self._labels.get(status, status.value)
            raise Conflict(f"{self._refusals[action]}(当前状态:{label})", current_status=status.value)
        return moved

    def allows(self, status: S, action: A) -> bool:
        return (status, action) in self._moves
