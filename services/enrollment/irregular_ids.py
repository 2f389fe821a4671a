"""List the members whose stored ID number breaks the 实名制 rule (`make irregular-ids`):

    python -m services.enrollment.irregular_ids [--union UUID] [--json]

Before the rule took ASCII digits only, a number written with full-width or another script's
digits passed the checksum and got its own keyed hash: the same person could be enrolled twice.
This reads every member's encrypted number (DATABASE_URL of the enrollment database, PII_KEY),
applies today's rule and lists each member whose number breaks it, for a cadre to resolve with
the person: member id, membership and card numbers, the masked number, the union and the reason,
and the member whose number it would be if read as ASCII digits, where one exists. Never the
number in clear. It changes nothing (a read-only transaction) and merges nothing.

--union limits the list to that union and the unions below it. Exit status: 0 when every number
keeps the rule, 1 when some do not, 2 when it could not check (no database, wrong PII_KEY).
"""

import argparse
import asyncio
import json
import sys
import unicodedata
import uuid
from dataclasses import asdict, dataclass
from datetime import date

import asyncpg
from cryptography.fernet import InvalidToken
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.enrollment.domain.national_id import InvalidNationalId, normalize_national_id
from shared.events import china_date, utcnow
from shared.pii import PiiProtector

UNREADABLE = "the stored number cannot be decrypted with this PII_KEY"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str
    pii_key: SecretStr


def rule_broken(stored: str, today: date) -> str | None:
    """Why a stored number breaks today's rule, or None. A number the rule would rewrite (it was
    stored before being put in canonical form) breaks it too: its hash is not the canonical one."""
    try:
        canonical = normalize_national_id(stored, today)
    except InvalidNationalId as exc:
        return exc.reason
    return None if canonical == stored else "the number is not stored in its canonical form"


def ascii_reading(stored: str) -> str | None:
    """The number with every decimal digit read as its ASCII one: the spelling the same person
    would be enrolled under today. None when that is no 18-character number either."""
    read = "".join(
        str(unicodedata.decimal(c)) if unicodedata.decimal(c, None) is not None else c for c in stored
    )
    read = read.strip().upper()
    return read if len(read) == 18 and read != stored else None


@dataclass(frozen=True)
class Irregular:
    member_id: str
    membership_number: str
    card_number: str
    national_id_masked: str
    union: str
    union_id: str
    reason: str
    same_number_as: str | None = None  # the membership number of a member with the ASCII spelling


_MEMBERS = """
    SELECT m.member_id, m.membership_number, m.card_number, m.base_union_id, p.national_id_masked,
           p.national_id_cipher, array_to_string(u.path_names, ' / ') AS union_path
    FROM members m
    JOIN persons p ON p.person_id = m.member_id
    JOIN unions u ON u.union_id = m.base_union_id
    -- An erased person's number is gone on purpose: nothing to check.
    WHERE p.erased_at IS NULL AND ($1::uuid IS NULL OR u.path @> ARRAY[$1::uuid])
    ORDER BY union_path, m.membership_number"""


async def find_irregular(
    conn: asyncpg.Connection, pii: PiiProtector, today: date, union_id: uuid.UUID | None
) -> tuple[int, list[Irregular]]:
    """(members checked, those whose number breaks the rule)."""
    rows = await conn.fetch(_MEMBERS, union_id)
    found: list[Irregular] = []
    for r in rows:
        try:
            stored = pii.decrypt(r["national_id_cipher"])
        except InvalidToken:
            reason: str | None = UNREADABLE
            stored = ""
        else:
            reason = rule_broken(stored, today)
        if reason is None:
            continue
        twin = None
        reading = ascii_reading(stored) if stored else None
        if reading is not None:
            twin = await conn.fetchval(
                """SELECT m.membership_number FROM persons p JOIN members m ON m.member_id = p.person_id
                   WHERE p.national_id_hash = $1""",
                pii.lookup_hash(reading),
            )
        found.append(
            Irregular(
                member_id=str(r["member_id"]), membership_number=r["membership_number"],
                card_number=r["card_number"], national_id_masked=r["national_id_masked"],
                union=r["union_path"], union_id=str(r["base_union_id"]), reason=reason, same_number_as=twin,
            )
        )  # fmt: skip
    return len(rows), found


async def run(settings: Settings, union_id: uuid.UUID | None) -> tuple[int, list[Irregular]]:
    pii = PiiProtector(settings.pii_key.get_secret_value())
    conn = await asyncpg.connect(settings.database_url)
    try:
        async with conn.transaction(readonly=True, isolation="repeatable_read"):  # one snapshot, no writes
            return await find_irregular(conn, pii, china_date(utcnow()), union_id)
    finally:
        await conn.close()


def render(checked: int, found: list[Irregular]) -> str:
    lines = []
    for f in found:
        line = f"{f.member_id}  会员号 {f.membership_number}  卡号 {f.card_number}"
        line += f"  身份证号 {f.national_id_masked}  {f.union}  ({f.reason})"
        if f.same_number_as:
            line += f"  与会员 {f.same_number_as} 号码相同 (same number as member {f.same_number_as})"
        lines.append(line)
    lines.append(
        f"{len(found)} of {checked} members have an ID number that breaks the rule"
        + ("; resolve each with the person (nothing was changed or merged)" if found else "")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--union", type=uuid.UUID, help="only this union and the unions below it")
    parser.add_argument("--json", action="store_true", help="one JSON object: checked, irregular")
    args = parser.parse_args(argv)
    try:
        checked, found = asyncio.run(run(Settings(), args.union))
    except Exception as exc:  # the operator gets the reason and status 2, not a traceback
        print(f"could not check the ID numbers: {exc}", file=sys.stderr)
        sys.exit(2)
    if checked and sum(f.reason == UNREADABLE for f in found) == checked:
        print(f"none of the {checked} stored numbers can be decrypted: is PII_KEY the enrollment service's?",
              file=sys.stderr)  # fmt: skip
        sys.exit(2)
    if args.json:
        print(json.dumps({"checked": checked, "irregular": [asdict(f) for f in found]}, ensure_ascii=False))
    else:
        print(render(checked, found))
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
