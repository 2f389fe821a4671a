"""TEMPORARY: the membership view before it was a package (shared.membership)."""

from shared.membership.store import MemberRow, UnionRow, get_member, get_union, upsert_member, upsert_union

__all__ = ["MemberRow", "UnionRow", "get_member", "get_union", "upsert_member", "upsert_union"]
