"""Running a service process: uvicorn with a bounded graceful shutdown on SIGTERM/SIGINT."""

from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from shared.logging import configure_logging
from shared.settings import HttpSettings

S = TypeVar("S", bound=HttpSettings)


def run_service(service: str, settings_type: type[S], create_app: Callable[[S], FastAPI]) -> None:
    """A service process's entry point: settings from the environment, logging, then serve."""
    settings = settings_type()
    configure_logging(service, settings.log_level, settings.log_format)
    serve(create_app(settings), settings)


def serve(app: FastAPI, settings: HttpSettings) -> None:
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # structlog owns the output
        access_log=False,  # the correlation middleware logs each request once
        timeout_graceful_shutdown=10,
        lifespan="on",
        loop="uvloop",
        http="httptools",
    )
    uvicorn.Server(config).run()
