"""Sign a development token: `python -m scripts.token --role cadre --union UUID [--minutes 15]`.

For development and tests only: it signs as the development issuer with DEV_TOKEN_PRIVATE_KEY
(or the one in .run/secrets.env), which services trust only outside production mode. It
refuses to run when ZHIJIA_MODE=production: there, tokens come from the identity service.
"""

import argparse
import os
import sys
import uuid

from pydantic import ValidationError

from scripts.stack import dev_secrets
from shared.auth import Role, sign_dev_token
from shared.contracts.identity import MAX_ACCESS_TOKEN_SECONDS, AccessClaims

PRODUCTION_REFUSAL = (
    "make token 只用于开发和测试：ZHIJIA_MODE=production 时拒绝签发（请通过身份服务登录）。\n"
    "make token is for development and tests only: refused with ZHIJIA_MODE=production "
    "(sign in through the identity service)."
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", choices=[r.value for r in Role], required=True)
    parser.add_argument("--sub", default="dev")
    parser.add_argument("--member", type=uuid.UUID, help="member id (role member)")
    parser.add_argument("--union", type=uuid.UUID, help="union id (roles cadre, counsel)")
    parser.add_argument("--partner", help="partner id (role partner_staff)")
    parser.add_argument("--counsel", type=uuid.UUID, help="counsel id (role counsel)")
    parser.add_argument(
        "--minutes", type=float, default=MAX_ACCESS_TOKEN_SECONDS / 60,
        help=f"lifetime, at most {MAX_ACCESS_TOKEN_SECONDS // 60} minutes",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if os.environ.get("ZHIJIA_MODE", "").strip().lower() == "production":
        sys.exit(PRODUCTION_REFUSAL)
    seconds = int(args.minutes * 60)
    if not 0 < seconds <= MAX_ACCESS_TOKEN_SECONDS:
        parser.error(f"--minutes must be in (0, {MAX_ACCESS_TOKEN_SECONDS // 60}]")
    if args.role == "member" and not args.member:
        parser.error("--member is required for a member")
    try:
        claims = AccessClaims(
            sub=args.sub, role=Role(args.role), member_id=args.member, union_id=args.union,
            partner_id=args.partner, counsel_id=args.counsel,
        )  # fmt: skip
    except ValidationError as exc:
        parser.error("; ".join(str(e["msg"]) for e in exc.errors()))
    print(sign_dev_token(dev_secrets()["DEV_TOKEN_PRIVATE_KEY"], claims, ttl_seconds=seconds))


if __name__ == "__main__":
    main()
