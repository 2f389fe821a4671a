"""`/api/{service}/{path}`: a page's call, passed to the owning service if the allowlist has it
(domain/forwarding.py). The answer comes back as the service gave it: status, body, type,
cookies and Retry-After."""

from fastapi import APIRouter, Request, Response

from services.web.adapters.upstreams import UpstreamAway
from services.web.api.common import Deps, away
from services.web.domain.forwarding import Refusal, answer_headers, forward_headers, resolve
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


@router.api_route("/api/{service}/{path:path}", methods=METHODS, include_in_schema=False)
async def forward(service: str, path: str, request: Request) -> Response:
    verdict = resolve(request.method, service, _raw_path_after(request, service))
    if isinstance(verdict, Refusal):
        return problem(request, verdict.status, verdict.detail)
    body = await request.body()  # the kit's limit: 413 past 64 KiB
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
