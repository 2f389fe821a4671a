"""Partners on the real broker's SASL/SCRAM listener: each may use its own topics and nothing else.

Partners A and B are granted with `python -m scripts.partner_kafka_access` (a real subprocess,
over the internal listener) on this run's own topic prefix; A then connects like a partner would,
with aiokafka over SASL_PLAINTEXT / SCRAM-SHA-512 on KAFKA_PARTNER_BOOTSTRAP_SERVERS.
"""

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.conn import create_conn
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)

from scripts.leftovers import delete_topics, new_run_id, prefix_matcher
from scripts.partner_kafka_access import group_prefix, partner_topics
from tests.integration.conftest import partner_listener

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RUN = new_run_id()
PREFIX = f"t{RUN}."
A = f"pa-{RUN}"
B = f"pb-{RUN}"


@dataclass
class Partners:
    internal: str
    external: str
    passwords: dict[str, str]

    def sasl(self, partner_id: str, password: str | None = None) -> dict[str, Any]:
        return {
            "bootstrap_servers": self.external,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": partner_id,
            "sasl_plain_password": password if password is not None else self.passwords[partner_id],
        }


def _access(internal: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.partner_kafka_access", "--bootstrap", internal, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def partners(infra: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Partners]:
    external = partner_listener(infra)
    if not external:
        pytest.skip(
            "no KAFKA_PARTNER_BOOTSTRAP_SERVERS: the broker was not started by deploy/infra.sh "
            "(testcontainers' broker has no SASL/SCRAM partner listener)"
        )
    internal = infra["KAFKA_BOOTSTRAP_SERVERS"]
    # A's password from a file (what ops would do), B's generated and printed once.
    password_file = tmp_path_factory.mktemp("partner") / "a.password"
    password_a = f"pw-{uuid.uuid4().hex}"
    password_file.write_text(password_a + "\n")
    granted = _access(internal, "grant", A, "--prefix", PREFIX, "--password-file", str(password_file))
    assert granted.returncode == 0, granted.stderr
    assert password_a not in granted.stdout  # a given password is never echoed
    granted_b = _access(internal, "grant", B, "--prefix", PREFIX, "--partitions", "1")
    assert granted_b.returncode == 0, granted_b.stderr
    line = next(x for x in granted_b.stdout.splitlines() if x.startswith(f"password for {B}"))
    password_b = line.rsplit(" ", 1)[1]
    try:
        yield Partners(internal, external, {A: password_a, B: password_b})
    finally:
        for p in (A, B):
            _access(internal, "revoke", p)
        asyncio.run(delete_topics(internal, prefix_matcher(PREFIX)))


@pytest.fixture
async def producer_a(partners: Partners) -> AsyncIterator[AIOKafkaProducer]:
    # Idempotent (acks=all): works with topic WRITE alone, no IDEMPOTENT_WRITE on the cluster.
    producer = AIOKafkaProducer(enable_idempotence=True, request_timeout_ms=10000, **partners.sasl(A))
    await producer.start()
    yield producer
    await producer.stop()


def test_grant_prints_exactly_the_partner_acls(partners: Partners) -> None:
    shown = _access(partners.internal, "show")
    assert shown.returncode == 0, shown.stderr
    mine = sorted(line.split(None, 2)[2] for line in shown.stdout.splitlines() if f"User:{A}  ALLOW " in line)
    offers, rejections = partner_topics(A, PREFIX)
    assert mine == sorted(
        [
            f"GROUP  PREFIXED {group_prefix(A, PREFIX)}  READ from *",
            f"TOPIC  LITERAL  {offers}  DESCRIBE from *",
            f"TOPIC  LITERAL  {offers}  WRITE from *",
            f"TOPIC  LITERAL  {rejections}  DESCRIBE from *",
            f"TOPIC  LITERAL  {rejections}  READ from *",
        ]
    )
    assert f"User:{A}  SCRAM-SHA-512" in shown.stdout


async def test_partner_produces_to_its_own_offers_topic(producer_a: AIOKafkaProducer) -> None:
    offers, _ = partner_topics(A, PREFIX)
    meta = await producer_a.send_and_wait(offers, b'{"offer": 1}', key=b"merchant-1")
    assert meta.topic == offers
    assert meta.offset >= 0


async def test_partner_reads_its_own_rejections_with_a_group_under_its_prefix(partners: Partners) -> None:
    _, rejections = partner_topics(A, PREFIX)
    internal = AIOKafkaProducer(bootstrap_servers=partners.internal)
    await internal.start()
    try:
        await internal.send_and_wait(rejections, b'{"reason": "unknown merchant"}', key=b"merchant-9")
    finally:
        await internal.stop()
    consumer = AIOKafkaConsumer(
        rejections,
        group_id=f"{group_prefix(A, PREFIX)}reader",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **partners.sasl(A),
    )
    await consumer.start()
    try:
        got: list[bytes] = []
        async with asyncio.timeout(30):
            while not got:
                batches = await consumer.getmany(timeout_ms=1000)
                got = [r.value for records in batches.values() for r in records]
        assert got == [b'{"reason": "unknown merchant"}']
        await consumer.commit()  # READ on the group: offsets may be committed
    finally:
        await consumer.stop()


async def test_partner_cannot_produce_to_another_partners_offers(producer_a: AIOKafkaProducer) -> None:
    offers_b, _ = partner_topics(B, PREFIX)
    with pytest.raises(TopicAuthorizationFailedError):
        await producer_a.send_and_wait(offers_b, b'{"offer": "not mine"}')


async def test_partner_cannot_read_another_partners_rejections(partners: Partners) -> None:
    _, rejections_b = partner_topics(B, PREFIX)
    consumer = AIOKafkaConsumer(
        rejections_b,
        group_id=f"{group_prefix(A, PREFIX)}snoop",
        auto_offset_reset="earliest",
        **partners.sasl(A),
    )
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await consumer.start()
    finally:
        await consumer.stop()


async def test_partner_cannot_use_a_group_outside_its_prefix(partners: Partners) -> None:
    _, rejections = partner_topics(A, PREFIX)
    consumer = AIOKafkaConsumer(
        rejections,
        group_id=f"{group_prefix(B, PREFIX)}reader",
        auto_offset_reset="earliest",
        **partners.sasl(A),
    )
    try:
        with pytest.raises(GroupAuthorizationFailedError):
            await consumer.start()
            await consumer.getmany(timeout_ms=5000)
    finally:
        await consumer.stop()


async def test_wrong_password_fails_authentication(partners: Partners) -> None:
    host, port = partners.external.split(",")[0].rsplit(":", 1)
    with pytest.raises(SaslAuthenticationFailed, match="invalid credentials"):
        conn = await create_conn(
            host,
            int(port),
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_plain_username=A,
            sasl_plain_password=partners.passwords[A] + "x",
        )
        conn.close()
    # What a client sees: it cannot bootstrap at all.
    producer = AIOKafkaProducer(request_timeout_ms=5000, **partners.sasl(A, password="not-the-password"))
    try:
        with pytest.raises(KafkaConnectionError):
            await producer.start()
    finally:
        await producer.stop()


async def test_after_revoke_the_partner_can_no_longer_produce(
    partners: Partners, producer_a: AIOKafkaProducer
) -> None:
    # Runs last in this module: A's access is gone afterwards.
    offers, _ = partner_topics(A, PREFIX)
    await producer_a.send_and_wait(offers, b'{"offer": "before"}')
    revoked = _access(partners.internal, "revoke", A)
    assert revoked.returncode == 0, revoked.stderr
    assert "credential deleted, 5 ACLs deleted" in revoked.stdout
    # An open connection is refused: the ACLs are gone ...
    with pytest.raises(TopicAuthorizationFailedError):
        await producer_a.send_and_wait(offers, b'{"offer": "after"}')
    # ... and a new login fails: the credential is gone.
    fresh = AIOKafkaProducer(request_timeout_ms=5000, **partners.sasl(A))
    try:
        with pytest.raises(KafkaConnectionError):
            await fresh.start()
    finally:
        await fresh.stop()
    # B is untouched.
    producer_b = AIOKafkaProducer(enable_idempotence=True, **partners.sasl(B))
    await producer_b.start()
    try:
        offers_b, _ = partner_topics(B, PREFIX)
        assert (await producer_b.send_and_wait(offers_b, b'{"offer": 2}')).topic == offers_b
    finally:
        await producer_b.stop()
