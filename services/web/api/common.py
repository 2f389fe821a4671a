"""What the web service's routes share: its dependencies and the answer when a service is away."""

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse

from services.web.adapters.upstreams import Upstreams
from shared.errors import problem

# The seconds a page waits before trying again when a service is away.
RETRY_AFTER = "2"
AWAY_MESSAGE = "服务暂时不可用，请稍后再试"


@dataclass(frozen=True)
class Deps:
    upstreams: Upstreams


def away(request: Request) -> JSONResponse:
    """503 with Retry-After: the service did not answer, the page may try again."""
    return problem(request, 503, AWAY_MESSAGE, headers={"Retry-After": RETRY_AFTER})
