"""`/api/{service}/{path}`: a page's call, passed to the owning service if the allowlist has it
(domain/forwarding.py). The answer comes back as the service gave it: status, body, type,
cookies, Retry-After, and a file's name. A route allowed a larger body (BODY_LIMITS: a roster
file) gets a route of its own with that limit, before the catch-all; every other call keeps the
kit's 64 KiB."""

from fastapi import APIRouter, Request, Response

from services.web.adapters.upstreams import UpstreamAway
from services.web.api.common import Deps, away
from services.web.domain.forwarding import BODY_LIMITS, Refusal, answer_headers, forward_headers, resolve
from shared.errors import problem
from shared.http import correlation_id_of, deps_of
from shared.inputs import ForwardingRoute

router = APIRouter(route_class=ForwardingRoute)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _raw_path_after(request: Request, service: str) -> str:
    """The path after /api/{service}, percent-encoded as it came (never decoded: %2F stays)."""
    raw: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
    text = raw.decode("latin-1").split("?", 1)[0]
    prefix = f"/api/{service}"
    return text[len(prefix) :] if text.startswith(prefix) else ""


async def _forward(service: str, request: Request) -> Response:
    verdict = resolve(request.method, service, _raw_path_after(request, service))
    if isinstance(verdict, Refusal):
        return problem(request, verdict.status, verdict.detail)
    body = await request.body()  # the route's limit: 413 past it
    if body and "json" in request.headers.get("content-type", ""):
        await request.json()  # the kit's strict reader: 400 with the reason, before any service
    client = request.client.host if request.client else None
    headers = forward_headers(request.headers.items(), client, correlation_id_of(request))
    try:
        answer = await deps_of(request, Deps).upstreams.request(
            verdict.service, request.method, verdict.path,
            query=request.scope.get("query_string", b""), headers=headers, content=body or None,
        )  # fmt: skip
    except UpstreamAway:
        return away(request)
    response = Response(content=answer.content, status_code=answer.status_code)
    for name, value in answer_headers(answer.headers.multi_items()):
        response.headers.append(name, value)
    return response


def _large_body_route(service: str, method: str, pattern: str, limit: int) -> None:
    async def forward_large(request: Request) -> Response:
        return await _forward(service, request)

    if "{" in pattern:  # literal patterns only: a placeholder would need its own converter here
        raise ValueError(f"BODY_LIMITS takes literal patterns only: {pattern}")
    router.add_api_route(
        f"/api/{service}{pattern}", forward_large, methods=[method], include_in_schema=False,
        max_body_size=limit, name=f"forward_large_{service}_{pattern.strip('/').replace('/', '_')}",
    )  # fmt: skip


for (_service, _method, _pattern), _limit in BODY_LIMITS.items():
    _large_body_route(_service, _method, _pattern, _limit)


@router.api_route("/api/{service}/{path:path}", methods=METHODS, include_in_schema=False)
async def forward(service: str, path: str, request: Request) -> Response:
    return await _forward(service, request)
