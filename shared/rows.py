"""Models from rows: what a response or an event snapshot copies from a row, pydantic copies."""

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def from_row(model: type[M], row: object, **computed: Any) -> M:
    """`model` filled from the row's attributes of the same names, and from `computed` for what
    the row does not hold (or holds otherwise). Validated like any other input."""
    copied = {
        name: getattr(row, name) for name in model.model_fields if name not in computed and hasattr(row, name)
    }
    return model.model_validate({**copied, **computed})
