"""The union hierarchy (全国总工会 → 省 → 市 → 县 → 乡镇/街道 → 基层工会 → 分工会 → 小组)."""

from shared.contracts.enrollment import UnionKind
from shared.errors import InvalidInput

_ORDER = [
    UnionKind.NATIONAL,
    UnionKind.PROVINCE,
    UnionKind.CITY,
    UnionKind.COUNTY,
    UnionKind.TOWNSHIP,
    UnionKind.BASE,
    UnionKind.BRANCH,
    UnionKind.GROUP,
]


def check_child_kind(parent: UnionKind | None, child: UnionKind) -> None:
    """A child sits below its parent. Levels may be skipped (a city's industry union is a base
    union directly under the city); a base union has only branches and groups below it."""
    if parent is None:
        return
    if _ORDER.index(child) <= _ORDER.index(parent):
        raise InvalidInput(f"a {child} union cannot sit under a {parent} union")
    if _ORDER.index(parent) < _ORDER.index(UnionKind.BASE) < _ORDER.index(child):
        raise InvalidInput(f"a {child} union must sit under a base union")


NAME_MAX = 200


def union_name(raw: str) -> str:
    """The name as registered (trimmed), 1 to NAME_MAX characters."""
    name = raw.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise InvalidInput(f"union name must be 1 to {NAME_MAX} characters")
    return name


def union_region(stated: str | None, parent_region: str | None) -> str:
    """The region stated, else the parent's: a child union inherits it, a top-level one states it."""
    region = (stated or "").strip() or (parent_region or "")
    if not region:
        raise InvalidInput("a top-level union needs a region")
    return region
