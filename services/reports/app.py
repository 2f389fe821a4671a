"""Wiring of the reports service on the service kit (shared/service.py): a consumer group of its
own over every source topic, writing the figures' read model (the live generation:
store/generations.py), and the reports API. It publishes nothing."""

from typing import ClassVar

from fastapi import FastAPI

from services.reports.api import render, routes
from services.reports.api.deps import Deps
from services.reports.handlers.events import apply_event
from services.reports.render.charts import CHARTS
from services.reports.store import generations
from shared.contracts.topics import (
    COMPETITIONS_EVENTS,
    ENROLLMENT_EVENTS,
    ENROLLMENT_STATE,
    LEGAL_EVENTS,
    LEGAL_STATE,
    PARTNERS_EVENTS,
    RELIEF_EVENTS,
    RELIEF_STATE,
)
from shared.runtime import run_service
from shared.service import Consumes, Runtime, ServiceSpec, Started, build_service
from shared.settings import ConsumingSettings

SERVICE = "reports"
MIGRATIONS = "services.reports.migrations"
# The state topics too: members, cases and budgets stay counted after the events' retention
# deleted their history; an event read from both is applied once (its id, and its fact key).
SOURCE_TOPICS = (
    ENROLLMENT_EVENTS, ENROLLMENT_STATE, RELIEF_EVENTS, RELIEF_STATE, LEGAL_EVENTS, LEGAL_STATE,
    COMPETITIONS_EVENTS, PARTNERS_EVENTS,
)  # fmt: skip


class ReportsSettings(ConsumingSettings):
    service: ClassVar[str] = SERVICE
    http_port: int = 8008

    @property
    def source_topics(self) -> list[str]:
        return [self.topic(t) for t in SOURCE_TOPICS]


def create_app(settings: ReportsSettings) -> FastAPI:
    async def start(runtime: Runtime) -> Started[Deps]:
        await generations.ensure_live(runtime.pool)
        # Each batch goes into whichever generation is live when it runs (a rebuild may swap);
        # its writes pipelined (shared/batched_writes.py: a read, the redemption's member, flushes
        # what came before it).
        consumer = runtime.consumer(apply_event, prepare=generations.prepare_live, batch_writes=True)
        # The chart engine starts on the first chart asked for (it costs ~60 MB); its thread
        # stops with the service.
        runtime.stack.callback(CHARTS.close)
        return Started(Deps(runtime.pool), consumer)

    return build_service(
        settings,
        ServiceSpec(
            name=SERVICE,
            title="Zhijia reports (统计报表)",
            description="Figures for the cadres: membership, coverage, relief, legal, competitions, offers.",
            routers=[routes.router, render.router],
            start=start,
            migrations=[MIGRATIONS],
            publishes=None,
            consumes=Consumes(topics=SOURCE_TOPICS),
        ),
    )


def main() -> None:
    run_service(SERVICE, ReportsSettings, create_app)
