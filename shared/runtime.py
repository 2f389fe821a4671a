"""Running a service process: uvicorn with a bounded graceful shutdown on SIGTERM/SIGINT."""

import uvicorn
from fastapi import FastAPI

from shared.settings import ServiceSettings


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # structlog owns the output
        access_log=False,  # the correlation middleware logs each request once
        timeout_graceful_shutdown=10,
        lifespan="on",
    )
    uvicorn.Server(config).run()
