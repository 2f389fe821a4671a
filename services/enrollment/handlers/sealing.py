"""Crypto-shredding of enrollment's events: the person's name, masked ID and employer leave
sealed with the person's own data key (docs/erasure.md). The key is made the first time
something of the person is sealed and published on the key topic in that same transaction,
before the event (shared/person_keys.py); erasure deletes it and publishes the erasure."""

import uuid
from dataclasses import dataclass
from typing import TypeVar

from services.enrollment.store import person_keys
from shared.contracts.enrollment import (
    ApplicationSubmitted,
    MemberEnrolled,
    MemberLeft,
    MemberReinstated,
    MemberSnapshot,
    MemberTransferred,
)
from shared.contracts.envelope import EventPayload
from shared.db import Conn
from shared.events import EventWriter, Trace
from shared.person_keys import publish_erased, publish_key
from shared.shredding import KeyWrapper, Sealed, new_data_key, seal

PERSONAL_FIELDS = ("name", "national_id_masked", "employer")
M = TypeVar("M", MemberSnapshot, ApplicationSubmitted)


@dataclass(frozen=True)
class PersonKeys:
    at_rest: KeyWrapper  # from PII_KEY: the keys in enrollment's database
    in_transit: KeyWrapper  # from PERSON_KEY_SECRET: the keys on the key topic
    topic: str  # the key topic, prefixed

    async def data_key(self, conn: Conn, person_id: uuid.UUID) -> bytes:
        """The person's key, made (and published) the first time it is needed."""
        wrapped = await person_keys.wrapped_key(conn, person_id)
        if wrapped is None:
            key = new_data_key()
            if await person_keys.insert_key(conn, person_id, self.at_rest.wrap(person_id, key)):
                await publish_key(conn, self.topic, person_id, key, self.in_transit)
                return key
            wrapped = await person_keys.wrapped_key(conn, person_id)
            assert wrapped is not None
        return self.at_rest.unwrap(person_id, wrapped)

    async def erase(self, conn: Conn, person_id: uuid.UUID) -> None:
        await person_keys.delete_key(conn, person_id)
        await publish_erased(conn, self.topic, person_id)

    async def sealed(self, conn: Conn, payload: EventPayload) -> EventPayload:
        """The payload with the person's fields sealed; other payloads as they are."""
        match payload:
            case MemberEnrolled() | MemberTransferred() | MemberLeft() | MemberReinstated():
                member = await self._sealed_fields(conn, payload.member.member_id, payload.member)
                return payload.model_copy(update={"member": member})
            case ApplicationSubmitted():
                return await self._sealed_fields(conn, payload.person_id, payload)
            case _:
                return payload

    async def _sealed_fields(self, conn: Conn, person_id: uuid.UUID, model: M) -> M:
        key = await self.data_key(conn, person_id)
        update: dict[str, Sealed] = {}
        for name in PERSONAL_FIELDS:
            value = getattr(model, name)
            if isinstance(value, str):
                update[name] = seal(key, person_id, value)
        return model.model_copy(update=update)


@dataclass(frozen=True)
class SealingWriter:
    """The service's EventWriter, sealing personal fields on the way out."""

    events: EventWriter
    keys: PersonKeys

    async def emit(
        self,
        conn: Conn,
        trace: Trace,
        subject: str | uuid.UUID,
        payload: EventPayload,
        *,
        version: int | None = None,
    ) -> int:
        sealed = await self.keys.sealed(conn, payload)
        return await self.events.emit(conn, trace, subject, sealed, version=version)
