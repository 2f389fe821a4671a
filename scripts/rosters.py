"""Roster files for the import (批量导入): n people with valid IDs, and chosen errors, as CSV or
XLSX bytes. Seeded, so a test or the bench gets the same file twice.

    make_roster(10_000, union_id)                                  # all valid
    make_roster(20, "某物流公司工会", errors={"checksum": 2, "duplicate": 1}, fmt=TableFormat.XLSX)

Error kinds (each replaces a valid row, from the end of the file backwards): checksum (bad ID
check character), phone, employment_type, union (a union nobody has), young (15 years old),
duplicate (the first row's ID again).
"""

import random
import uuid
from collections.abc import Mapping
from datetime import date, timedelta

from scripts.fake_people import national_id, person, with_bad_checksum
from shared.tabular import TableFormat, write_table

HEADER = ("姓名", "身份证号", "手机号", "工作单位", "用工形式", "基层工会")
EMPLOYMENT_LABELS = {"employee": "职工", "temporary": "临时工", "migrant": "外来务工", "flexible": "灵活就业"}
ERROR_KINDS = ("checksum", "phone", "employment_type", "union", "young", "duplicate")


def roster_rows(
    n: int, union: uuid.UUID | str, errors: Mapping[str, int] | None = None, seed: int = 19
) -> list[list[str]]:
    """The rows (without the header); the rows with errors are the last ones, in ERROR_KINDS order."""
    unknown = set(errors or {}) - set(ERROR_KINDS)
    if unknown:
        raise ValueError(f"unknown error kinds: {sorted(unknown)}")
    rng = random.Random(seed)
    rows: list[list[str]] = []
    seen: set[str] = set()
    while len(rows) < n:
        p = person(rng)
        if p.national_id in seen:
            continue
        seen.add(p.national_id)
        employer = p.employer or "个体"
        rows.append(
            [p.name, p.national_id, p.phone, employer, EMPLOYMENT_LABELS[p.employment_type], str(union)]
        )
    at = n
    for kind in ERROR_KINDS:
        for _ in range((errors or {}).get(kind, 0)):
            at -= 1
            if at < (1 if kind == "duplicate" else 0):
                raise ValueError("more errors than rows")
            _spoil(rows, at, kind, rng)
    return rows


def _spoil(rows: list[list[str]], at: int, kind: str, rng: random.Random) -> None:
    row = rows[at]
    if kind == "checksum":
        row[1] = with_bad_checksum(row[1])
    elif kind == "phone":
        row[2] = "1234"
    elif kind == "employment_type":
        row[4] = "合同工"
    elif kind == "union":
        row[5] = str(uuid.uuid4())
    elif kind == "young":
        row[1] = national_id(rng, born=date.today() - timedelta(days=365 * 15))
    elif kind == "duplicate":
        row[1] = rows[0][1]


def make_roster(
    n: int,
    union: uuid.UUID | str,
    errors: Mapping[str, int] | None = None,
    fmt: TableFormat = TableFormat.CSV,
    seed: int = 19,
) -> bytes:
    """The roster as a file's bytes (header in Chinese, as the template)."""
    return write_table(fmt, HEADER, roster_rows(n, union, errors, seed), title="会员名单")
