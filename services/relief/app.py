"""Wiring of the relief service on the service kit: its settings, what it starts (handler
dependencies and the consumer of enrollment's events, relief's own view of unions and
membership) and its routes."""

from fastapi import FastAPI
from pydantic import Field, SecretStr

from services.relief.api import campaigns, queues, student_aid
from services.relief.api.routes import router
from services.relief.domain.tiers import ReliefPolicy, standard_bands
from services.relief.handlers.campaigns import campaign_timers
from services.relief.handlers.common import Deps
from services.relief.handlers.employer_events import relief_events
from services.relief.handlers.student_aid_decisions import student_aid_timers
from shared import membership
from shared.contracts.topics import COMPETITIONS_EVENTS, RELIEF_EVENTS
from shared.membership.refresh import MembershipRefresh
from shared.pii import PiiProtector
from shared.runtime import run_service
from shared.service import Consumes, Runtime, ServiceSpec, Started, build_service
from shared.settings import ConsumingSettings
from shared.timers import DurableTimer

SERVICE = "relief"
MIGRATIONS = "services.relief.migrations"


class ReliefSettings(ConsumingSettings):
    service = SERVICE
    http_port: int = 8003
    pii_key: SecretStr = Field(min_length=32)  # keyed hash of household register numbers
    # The minimum-living line (低保线) in fen per head and month: a default, and per region code
    # (JSON, longest prefix wins: {"33": 95000, "3301": 110000}).
    minimum_living_line_fen: int = Field(default=100_000, gt=0)
    regional_lines_fen: dict[str, int] = Field(default_factory=dict)
    # Tier ceilings as multiples of the line, per mille: relative (1.5×) and by accident (3×).
    relative_band_per_mille: int = Field(default=1500, ge=1000, le=10_000)
    accident_band_per_mille: int = Field(default=3000, ge=1000, le=10_000)
    exit_factor_per_mille: int = Field(default=1500, ge=1000, le=10_000)
    disclosure_days: int = Field(default=5, ge=1, le=60)
    review_interval_days: int = Field(default=365, ge=30, le=730)
    # How often the durable timer looks for programme timers due (campaigns and student-aid
    # windows closing, student-aid disclosures ending).
    timer_interval_seconds: float = Field(default=5, gt=0, le=3600)

    def policy(self) -> ReliefPolicy:
        return ReliefPolicy(
            default_line_fen=self.minimum_living_line_fen,
            regional_lines_fen=dict(self.regional_lines_fen),
            bands=standard_bands(self.relative_band_per_mille, self.accident_band_per_mille),
            exit_factor_per_mille=self.exit_factor_per_mille,
            disclosure_days=self.disclosure_days,
            review_interval_days=self.review_interval_days,
        )


def create_app(settings: ReliefSettings) -> FastAPI:
    policy = settings.policy()
    pii = PiiProtector(settings.pii_key.get_secret_value())

    async def start(runtime: Runtime) -> Started[Deps]:
        deps = Deps(pool=runtime.pool, events=runtime.events, policy=policy, pii=pii)
        consumer = runtime.consumer(relief_events(deps))
        # Campaigns find front-line members by employment type: members held from before the view
        # kept it get it from enrollment's state topic (once; nothing to do on later starts).
        runtime.background("membership-refresh", MembershipRefresh(settings, deps.pool))
        runtime.background(
            "programme-timer",
            DurableTimer(
                deps.pool,
                {**campaign_timers(deps), **student_aid_timers(deps)},
                interval_seconds=settings.timer_interval_seconds,
                now=deps.now,
            ),
        )
        return Started(deps, consumer)

    return build_service(
        settings,
        ServiceSpec(
            name=SERVICE,
            title="Zhijia relief (困难职工帮扶)",
            description="Cases of members in hardship: intake, home visit, verification, public disclosure, "
            "the register and its aid, yearly re-verification, exit and follow-up.",
            routers=[router, queues.router, campaigns.router, student_aid.router],
            start=start,
            migrations=[MIGRATIONS, membership.MIGRATIONS],
            publishes=RELIEF_EVENTS,
            consumes=Consumes(topics=(*membership.SOURCE_TOPICS, COMPETITIONS_EVENTS)),
        ),
    )


def main() -> None:
    run_service(SERVICE, ReliefSettings, create_app)
