"""Wiring of the enrollment service: its settings and what it declares to the service kit."""

from fastapi import FastAPI
from pydantic import Field, SecretStr

from services.enrollment.api import employers as employer_routes
from services.enrollment.api import imports as import_routes
from services.enrollment.api import search as search_routes
from services.enrollment.api.routes import router
from services.enrollment.handlers.common import Deps
from services.enrollment.handlers.erasure import erase_again_after_a_restore
from services.enrollment.handlers.imports import ImportCommits
from services.enrollment.handlers.sealing import PersonKeys, SealingWriter
from services.enrollment.handlers.transfers import expiry_timer
from shared.contracts.topics import ENROLLMENT_EVENTS, PERSON_KEYS
from shared.kafka import ensure_topics
from shared.person_keys import transit_wrapper
from shared.personal_data import Source
from shared.pii import PiiProtector
from shared.runtime import run_service
from shared.service import Runtime, ServiceSpec, Started, build_service
from shared.settings import ServiceSettings
from shared.shredding import KeyWrapper

SERVICE = "enrollment"


class EnrollmentSettings(ServiceSettings):
    http_port: int = 8001
    pii_key: SecretStr = Field(min_length=32)
    # How often the durable timer looks for transfer requests whose window ran out.
    scheduler_interval_seconds: float = Field(default=5.0, gt=0, le=3600)
    # The services whose records on a person go into their export (unset: marked unavailable).
    relief_url: str | None = None
    legal_url: str | None = None
    competitions_url: str | None = None

    def export_sources(self) -> tuple[Source, ...]:
        return (
            Source("relief", "困难帮扶", self.relief_url),
            Source("legal", "法律援助", self.legal_url),
            Source("competitions", "劳动竞赛与荣誉", self.competitions_url),
        )


def create_app(settings: EnrollmentSettings) -> FastAPI:
    async def start(runtime: Runtime) -> Started[Deps]:
        pii = PiiProtector(settings.pii_key.get_secret_value())
        key_topic = settings.topic(PERSON_KEYS)
        await ensure_topics(settings.kafka_bootstrap_servers, {key_topic: settings.topic_partitions})
        keys = PersonKeys(
            at_rest=KeyWrapper(settings.pii_key.get_secret_value()),
            in_transit=transit_wrapper(settings.person_key_secret.get_secret_value()),
            topic=key_topic,
        )
        deps = Deps(
            pool=runtime.pool, pii=pii, events=SealingWriter(runtime.events, keys),
            export_sources=settings.export_sources(),
        )  # fmt: skip
        # The kit has reconciled the outbox with the topic by now (shared/outbox_reconcile.py).
        await erase_again_after_a_restore(runtime.pool, deps.now())
        runtime.background("transfer-expiry", expiry_timer(deps, settings.scheduler_interval_seconds))
        # Roster imports being committed, including any a crash left half done.
        runtime.background("import-commits", ImportCommits(deps))
        return Started(deps)

    return build_service(
        settings,
        ServiceSpec(
            name=SERVICE,
            title="Zhijia enrollment (入会)",
            description="Union registry, online membership applications, review, transfers (requested, then "
            "accepted or declined by the receiving union) and leaving.",
            # Before `router`: /members/search and /members/export are not a /members/{member_id}.
            routers=[search_routes.router, employer_routes.router, import_routes.router, router],
            start=start,
            migrations=["services.enrollment.migrations"],
            publishes=ENROLLMENT_EVENTS,
        ),
    )


def main() -> None:
    run_service(SERVICE, EnrollmentSettings, create_app)
