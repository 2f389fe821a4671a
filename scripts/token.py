"""Mint a development token: `python -m scripts.token --role cadre --union UUID`.

The signing secret is AUTH_SECRET, or the development secret in .run/secrets.env.
"""

import argparse
import uuid
from datetime import timedelta

from scripts.stack import dev_secrets
from shared.auth import Role, mint_token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", choices=[r.value for r in Role], required=True)
    parser.add_argument("--sub", default="dev")
    parser.add_argument("--member", type=uuid.UUID, help="member id (role member)")
    parser.add_argument("--union", type=uuid.UUID, help="union id (role cadre)")
    parser.add_argument("--hours", type=float, default=12)
    args = parser.parse_args()
    if args.role == "cadre" and not args.union:
        parser.error("--union is required for a cadre")
    if args.role == "member" and not args.member:
        parser.error("--member is required for a member")
    print(
        mint_token(
            dev_secrets()["AUTH_SECRET"],
            sub=args.sub,
            role=Role(args.role),
            member_id=args.member,
            union_id=args.union,
            ttl=timedelta(hours=args.hours),
        )
    )


if __name__ == "__main__":
    main()
