"""Wiring of the web service: the member app's pages and the forwarder to the services that own
the data (docs/member-app.md). No database, no Kafka, no business rule of its own."""

from contextlib import AsyncExitStack

from fastapi import FastAPI

from services.web.adapters.upstreams import Upstreams
from services.web.api.card_code import router as card_code_router
from services.web.api.common import Deps
from services.web.api.forward import router as forward_router
from services.web.api.pages import SecurityHeaders, mount_assets
from services.web.api.pages import router as pages_router
from services.web.settings import WebSettings
from shared.runtime import run_service
from shared.service import FrontSpec, build_front

SERVICE = "web"


def create_app(settings: WebSettings) -> FastAPI:
    async def start(stack: AsyncExitStack) -> Deps:
        upstreams = Upstreams(settings.upstreams(), settings.web_upstream_timeout)
        stack.push_async_callback(upstreams.aclose)
        return Deps(upstreams=upstreams)

    app = build_front(
        settings,
        FrontSpec(
            name=SERVICE,
            title="Zhijia web (会员服务)",
            description="The member app's pages and a forwarder of their calls, by an allowlist, "
            "to the services that own the data.",
            # The card code's own route before the forwarder's catch-all.
            routers=[pages_router, card_code_router, forward_router],
            start=start,
        ),
    )
    mount_assets(app)
    app.add_middleware(SecurityHeaders)
    return app


def main() -> None:
    run_service(SERVICE, WebSettings, create_app)
