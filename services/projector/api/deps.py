"""What the card routes stand on, made once at start (services/projector/app.py) and handed to
them through the kit's AppDeps."""

from dataclasses import dataclass
from typing import Annotated

import asyncpg
from aiokafka import AIOKafkaConsumer

from services.projector.store.generations import LiveSchema
from shared.http import AppDeps


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool
    live_schema: LiveSchema  # the live generation's schema, as the card reads name it
    offsets: AIOKafkaConsumer  # group-less: the source partitions' end offsets, for the status
    consumer_name: str  # whose tracked positions the status compares with those end offsets
    source_topics: list[str]


DepsDep = Annotated[Deps, AppDeps]
