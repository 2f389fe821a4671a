"""Give partners (and take back) their own access to Kafka: a SCRAM-SHA-512 login and ACLs.

    python -m scripts.partner_kafka_access grant  <partner_id>... [--prefix P] [--password-file F |
                                                   --passwords-file F] [--partitions N]
    python -m scripts.partner_kafka_access revoke <partner_id>...
    python -m scripts.partner_kafka_access show

All take --bootstrap HOST:PORT (else KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092): the INTERNAL
listener, where this command is a super user (User:ANONYMOUS). Partners themselves connect to the
partner listener (SASL_PLAINTEXT, SCRAM-SHA-512; see deploy/kafka/PARTNERS-KAFKA.md).

`grant` creates or replaces the SCRAM-SHA-512 credential of User:<partner_id>, creates the
partner's two topics when missing ({prefix}partners.<id>.offers.v1 and
{prefix}partners.<id>.rejections.v1, --partitions, else TOPIC_PARTITIONS, else 3) and adds
exactly these ACLs, all ALLOW from any host, nothing cluster-wide:

    TOPIC  LITERAL  {prefix}partners.<id>.offers.v1      WRITE, DESCRIBE
    TOPIC  LITERAL  {prefix}partners.<id>.rejections.v1  READ, DESCRIBE
    GROUP  PREFIXED {prefix}partners.<id>.               READ

No IDEMPOTENT_WRITE on the cluster is needed for an idempotent producer: since KIP-679 (Kafka
3.0) the broker allows InitProducerId without a transactional id to any principal that may WRITE
some topic (tests/integration/test_partner_kafka_acls.py produces idempotently). Transactions
would need ACLs on transactional ids; partners get none.

The password is --password-file's first line, or this partner's line in --passwords-file (lines
`<partner_id>=<password>`, # comments; what docker-compose.yml's partner-kafka-access service
uses), else a new random one, printed once: hand it over, it is stored nowhere else (Kafka
keeps only a salted hash). Passwords are at least 12 characters, without spaces, `,`, `[`, `]`
or `=`, so every Kafka tool can take them. Running `grant` again is harmless (same ACLs) and
sets the password anew.

`revoke` deletes the credential and every ACL of User:<partner_id> (new logins fail at once,
open connections are refused everything); its topics and their data stay. `show` lists the
SCRAM users and the ACLs of every principal.

Why not Kafka's own kafka-configs/kafka-acls: they live in the kafka-tools jar, which
deploy/infra.sh does not fetch (not a dependency of the broker), and aiokafka's admin client has
no call for SCRAM credentials or ACLs. So this speaks the admin protocol itself through aiokafka's
connection (CreateAcls/DeleteAcls/DescribeAcls v1 from aiokafka, AlterUserScramCredentials and
DescribeUserScramCredentials v0 defined below, as in Kafka's JSON message specs); the integration
test checks the outcome against a real broker.
"""

import argparse
import asyncio
import hashlib
import os
import re
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError, for_code
from aiokafka.protocol.admin import CreateAclsRequest, DeleteAclsRequest, DescribeAclsRequest
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

from shared.contracts.topics import partner_offers_topic, partner_rejections_topic
from shared.kafka import ensure_topics

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$")
PASSWORD = re.compile(r"^[^\s,\[\]=]{12,}$")

# Kafka's enums (org.apache.kafka.common.resource / .acl), as numbers on the wire.
RESOURCE_ANY, RESOURCE_TOPIC, RESOURCE_GROUP = 1, 2, 3
PATTERN_ANY, PATTERN_LITERAL, PATTERN_PREFIXED = 1, 3, 4
OP_ANY, OP_READ, OP_WRITE, OP_DESCRIBE = 1, 3, 4, 8
PERMISSION_ANY, PERMISSION_ALLOW = 1, 3
RESOURCE_NAMES = {
    2: "TOPIC",
    3: "GROUP",
    4: "CLUSTER",
    5: "TRANSACTIONAL_ID",
    6: "DELEGATION_TOKEN",
    7: "USER",
}
PATTERN_NAMES = {3: "LITERAL", 4: "PREFIXED"}
OP_NAMES = {
    2: "ALL", 3: "READ", 4: "WRITE", 5: "CREATE", 6: "DELETE", 7: "ALTER", 8: "DESCRIBE",
    9: "CLUSTER_ACTION", 10: "DESCRIBE_CONFIGS", 11: "ALTER_CONFIGS", 12: "IDEMPOTENT_WRITE",
}  # fmt: skip
PERMISSION_NAMES = {2: "DENY", 3: "ALLOW"}

SCRAM_SHA_512 = 2  # ScramMechanism.SCRAM_SHA_512.type()
SCRAM_ITERATIONS = 8192  # Kafka accepts 4096..16384 for SHA-512
RESOURCE_NOT_FOUND = 91  # revoking a partner that has no credential


class PartnerAccessError(Exception):
    """A request the broker refused, or bad input; the message says which."""


# --- AlterUserScramCredentials (API key 51) and DescribeUserScramCredentials (50), version 0 ---
# (flexible versions: compact strings and tagged fields, request header v2, response header v1)


class AlterUserScramCredentialsResponse_v0(Response):  # type: ignore[misc]
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest_v0(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = AlterUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields)),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest(Request[AlterUserScramCredentialsRequest_v0]):  # type: ignore[misc]
    API_KEY = 51

    def __init__(
        self,
        deletions: Sequence[tuple[str, int]],
        upsertions: Sequence[tuple[str, int, int, bytes, bytes]],
    ) -> None:
        self._deletions: list[tuple[Any, ...]] = [(*d, {}) for d in deletions]
        self._upsertions: list[tuple[Any, ...]] = [(*u, {}) for u in upsertions]

    def build(self, request_struct_class: type[AlterUserScramCredentialsRequest_v0]) -> Any:
        return request_struct_class(self._deletions, self._upsertions, {})


class DescribeUserScramCredentialsResponse_v0(Response):  # type: ignore[misc]
    API_KEY = 50
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("error_code", Int16),
        ("error_message", CompactString("utf-8")),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                (
                    "credential_infos",
                    CompactArray(("mechanism", Int8), ("iterations", Int32), ("tags", TaggedFields)),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class DescribeUserScramCredentialsRequest_v0(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 50
    API_VERSION = 0
    RESPONSE_TYPE = DescribeUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        ("users", CompactArray(("name", CompactString("utf-8")), ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


class DescribeUserScramCredentialsRequest(Request[DescribeUserScramCredentialsRequest_v0]):  # type: ignore[misc]
    API_KEY = 50

    def build(self, request_struct_class: type[DescribeUserScramCredentialsRequest_v0]) -> Any:
        return request_struct_class(None, {})  # None: every user


# --- what a partner gets ---


@dataclass(frozen=True)
class Acl:
    resource_type: int
    resource_name: str
    pattern_type: int
    operation: int

    def __str__(self) -> str:
        return (
            f"{RESOURCE_NAMES[self.resource_type]:<6} {PATTERN_NAMES[self.pattern_type]:<8} "
            f"{self.resource_name}  {OP_NAMES[self.operation]}"
        )


def principal(partner_id: str) -> str:
    return f"User:{partner_id}"


def partner_topics(partner_id: str, prefix: str) -> tuple[str, str]:
    """(offers topic, rejections topic) of one partner, with the deployment's topic prefix."""
    return prefix + partner_offers_topic(partner_id), prefix + partner_rejections_topic(partner_id)


def group_prefix(partner_id: str, prefix: str) -> str:
    """Every consumer group id the partner may use starts with this."""
    return f"{prefix}partners.{partner_id}."


def partner_acls(partner_id: str, prefix: str) -> list[Acl]:
    offers, rejections = partner_topics(partner_id, prefix)
    return [
        Acl(RESOURCE_TOPIC, offers, PATTERN_LITERAL, OP_WRITE),
        Acl(RESOURCE_TOPIC, offers, PATTERN_LITERAL, OP_DESCRIBE),
        Acl(RESOURCE_TOPIC, rejections, PATTERN_LITERAL, OP_READ),
        Acl(RESOURCE_TOPIC, rejections, PATTERN_LITERAL, OP_DESCRIBE),
        Acl(RESOURCE_GROUP, group_prefix(partner_id, prefix), PATTERN_PREFIXED, OP_READ),
    ]


def check_partner_id(partner_id: str) -> str:
    if not PARTNER_ID.fullmatch(partner_id):
        raise PartnerAccessError(
            f"bad partner id {partner_id!r}: 3 to 32 of a-z 0-9 -, not starting or ending with -"
        )
    return partner_id


def check_password(password: str, source: str) -> str:
    if not PASSWORD.fullmatch(password):
        raise PartnerAccessError(
            f"password from {source} refused: at least 12 characters, no spaces, ',', '[', ']' or '='"
        )
    return password


def new_password() -> str:
    return secrets.token_urlsafe(24)  # 32 characters, 192 random bits


def read_password_file(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    return check_password(lines[0].strip() if lines else "", str(path))


def read_passwords_file(path: Path) -> dict[str, str]:
    """`<partner_id>=<password>` lines; blank lines and # comments skipped."""
    out: dict[str, str] = {}
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise PartnerAccessError(f"{path}:{n}: expected <partner_id>=<password>")
        out[check_partner_id(key.strip())] = check_password(value.strip(), f"{path}:{n}")
    return out


def scram_upsertion(user: str, password: str) -> tuple[str, int, int, bytes, bytes]:
    """RFC 5802 SaltedPassword = Hi(password, salt, i), i.e. PBKDF2 with HMAC-SHA-512."""
    salt = secrets.token_bytes(32)
    salted = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, SCRAM_ITERATIONS)
    return (user, SCRAM_SHA_512, SCRAM_ITERATIONS, salt, salted)


# --- talking to the broker ---


class Admin:
    """An admin connection over the internal listener."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="partner-kafka-access")

    async def __aenter__(self) -> "Admin":
        await self._admin.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._admin.close()

    async def send(self, request: Any) -> Any:
        client = self._admin._client
        return await client.send(client.get_random_node(), request)

    async def upsert_scram(self, user: str, password: str) -> None:
        resp = await self.send(AlterUserScramCredentialsRequest([], [scram_upsertion(user, password)]))
        for name, code, message, _ in resp.results:
            if code:
                raise PartnerAccessError(f"SCRAM credential of {name}: {for_code(code).__name__}: {message}")

    async def delete_scram(self, user: str) -> bool:
        """False when the user had no SCRAM-SHA-512 credential."""
        resp = await self.send(AlterUserScramCredentialsRequest([(user, SCRAM_SHA_512)], []))
        for name, code, message, _ in resp.results:
            if code == RESOURCE_NOT_FOUND:
                return False
            if code:
                raise PartnerAccessError(f"SCRAM credential of {name}: {for_code(code).__name__}: {message}")
        return True

    async def scram_users(self) -> dict[str, list[str]]:
        resp = await self.send(DescribeUserScramCredentialsRequest())
        if resp.error_code:
            raise PartnerAccessError(f"describe SCRAM users: {for_code(resp.error_code).__name__}")
        mechanisms = {1: "SCRAM-SHA-256", 2: "SCRAM-SHA-512"}
        return {
            user: [f"{mechanisms.get(m, m)} ({i} iterations)" for m, i, _ in infos]
            for user, code, _, infos, _ in resp.results
            if not code
        }

    async def create_acl(self, who: str, acl: Acl) -> None:
        request = CreateAclsRequest(
            acl.resource_type, acl.resource_name, acl.pattern_type, who, "*", acl.operation, PERMISSION_ALLOW
        )
        resp = await self.send(request)
        for code, message in resp.creation_responses:
            if code:
                raise PartnerAccessError(f"ACL {acl} for {who}: {for_code(code).__name__}: {message}")

    async def delete_acls(self, who: str) -> int:
        """Deletes every ACL of the principal; returns how many there were."""
        request = DeleteAclsRequest(RESOURCE_ANY, None, PATTERN_ANY, who, None, OP_ANY, PERMISSION_ANY)
        resp = await self.send(request)
        n = 0
        for code, message, matching in resp.filter_responses:
            if code:
                raise PartnerAccessError(f"delete ACLs of {who}: {for_code(code).__name__}: {message}")
            n += len(matching)
        return n

    async def acls(self) -> list[tuple[str, str, str]]:
        """(principal, permission, ACL text) of every ACL."""
        request = DescribeAclsRequest(RESOURCE_ANY, None, PATTERN_ANY, None, None, OP_ANY, PERMISSION_ANY)
        resp = await self.send(request)
        if resp.error_code:
            raise PartnerAccessError(f"describe ACLs: {for_code(resp.error_code).__name__}")
        out = []
        for rtype, name, ptype, entries in resp.resources:
            for who, host, op, perm in entries:
                text = (
                    f"{RESOURCE_NAMES.get(rtype, rtype):<6} {PATTERN_NAMES.get(ptype, ptype):<8} {name}  "
                    f"{OP_NAMES.get(op, op)} from {host}"
                )
                out.append((who, PERMISSION_NAMES.get(perm, str(perm)), text))
        return sorted(out)


# --- commands ---


async def grant(bootstrap: str, partner_id: str, prefix: str, password: str, partitions: int) -> list[Acl]:
    check_partner_id(partner_id)
    acls = partner_acls(partner_id, prefix)
    await ensure_topics(bootstrap, dict.fromkeys(partner_topics(partner_id, prefix), partitions))
    async with Admin(bootstrap) as admin:
        await admin.upsert_scram(partner_id, password)
        for acl in acls:
            await admin.create_acl(principal(partner_id), acl)
    return acls


async def revoke(bootstrap: str, partner_id: str) -> tuple[bool, int]:
    """(had a credential, ACLs deleted)."""
    check_partner_id(partner_id)
    async with Admin(bootstrap) as admin:
        had = await admin.delete_scram(partner_id)
        n = await admin.delete_acls(principal(partner_id))
    return had, n


async def show(bootstrap: str) -> None:
    async with Admin(bootstrap) as admin:
        users = await admin.scram_users()
        acls = await admin.acls()
    print("SCRAM users:" if users else "SCRAM users: none")
    for user, infos in sorted(users.items()):
        print(f"  User:{user}  {', '.join(infos)}")
    print("ACLs:" if acls else "ACLs: none")
    for who, perm, text in acls:
        print(f"  {who}  {perm}  {text}")


def _bootstrap(arg: str | None, env: Mapping[str, str]) -> str:
    return arg or env.get("KAFKA_BOOTSTRAP_SERVERS") or DEFAULT_BOOTSTRAP


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.partner_kafka_access",
        description="Partners' SCRAM-SHA-512 logins and ACLs on Kafka (see the module docstring).",
    )
    parser.add_argument("--bootstrap", help="internal listener (else KAFKA_BOOTSTRAP_SERVERS)")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grant", help="create/update the login, the topics and the ACLs")
    g.add_argument("partner_ids", nargs="+", metavar="partner_id")
    g.add_argument("--prefix", help="deployment's topic prefix (else TOPIC_PREFIX, else none)")
    pw = g.add_mutually_exclusive_group()
    pw.add_argument("--password-file", type=Path, help="file whose first line is the password")
    pw.add_argument("--passwords-file", type=Path, help="file of <partner_id>=<password> lines")
    g.add_argument("--partitions", type=int, help="for new topics (else TOPIC_PARTITIONS, else 3)")
    r = sub.add_parser("revoke", help="delete the login and every ACL (topics stay)")
    r.add_argument("partner_ids", nargs="+", metavar="partner_id")
    sub.add_parser("show", help="list SCRAM users and ACLs")
    return parser


async def run(argv: Sequence[str], env: Mapping[str, str]) -> int:
    args = _parser().parse_args(argv)
    bootstrap = _bootstrap(args.bootstrap, env)
    if args.command == "show":
        await show(bootstrap)
        return 0
    ids = [check_partner_id(p) for p in args.partner_ids]
    if args.command == "revoke":
        for partner_id in ids:
            had, n = await revoke(bootstrap, partner_id)
            print(
                f"revoked {principal(partner_id)}: "
                f"{'credential deleted' if had else 'had no credential'}, {n} ACLs deleted"
            )
        return 0
    prefix = args.prefix if args.prefix is not None else env.get("TOPIC_PREFIX", "")
    partitions = args.partitions or int(env.get("TOPIC_PARTITIONS") or 3)
    if args.password_file and len(ids) > 1:
        raise PartnerAccessError("--password-file is for one partner; use --passwords-file for several")
    # Every password first: a missing one stops the command before anything is granted.
    passwords: dict[str, str] = {}
    if args.password_file:
        passwords[ids[0]] = read_password_file(args.password_file)
    elif args.passwords_file:
        known = read_passwords_file(args.passwords_file)
        if missing := [p for p in ids if p not in known]:
            raise PartnerAccessError(f"{args.passwords_file} has no line for {', '.join(missing)}")
        passwords = {p: known[p] for p in ids}
    for partner_id in ids:
        generated = partner_id not in passwords
        password = passwords.get(partner_id) or new_password()
        acls = await grant(bootstrap, partner_id, prefix, password, partitions)
        print(f"granted {principal(partner_id)} (SCRAM-SHA-512) on {bootstrap}:")
        for acl in acls:
            print(f"  ALLOW {acl}")
        if generated:
            print(f"password for {partner_id} (shown once, stored nowhere): {password}")
    return 0


def main() -> None:
    try:
        sys.exit(asyncio.run(run(sys.argv[1:], os.environ)))
    except PartnerAccessError as e:
        print(f"partner_kafka_access: error: {e}", file=sys.stderr)
        sys.exit(2)
    except (KafkaError, OSError) as e:
        print(f"partner_kafka_access: error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
