"""What the web service forwards, and how: pure rules, no I/O.

The pages call `/api/{service}/{path}`; only the (method, path pattern) pairs below go through,
each to the owning service, which still decides who may do what with the caller's own token.
Anything else is refused here, before any service is asked. The path is taken as it came on the
wire (percent-encoded): a segment must be plain, so `..`, `.`, `%2F` (an encoded slash) and
`%2E` never reach a pattern.
"""

import re
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from shared.contracts.partners import CODE_PATTERN as OFFER_ID_PATTERN

# A placeholder in a pattern and what a segment must look like to fill it.
_PLACEHOLDERS = {
    "{uuid}": re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
    "{code}": re.compile(OFFER_ID_PATTERN),  # an offer id
    "{name}": re.compile(r"^[a-z][a-z0-9_-]{0,39}$"),  # a step, an action, a report's name
    "{name}.svg": re.compile(r"^[a-z][a-z0-9_-]{0,39}\.svg$"),  # a report's chart
}
# Any segment at all: plain characters only, and not only dots.
_SEGMENT = re.compile(r"^[A-Za-z0-9_~:-][A-Za-z0-9._~:-]{0,99}$")

# (method, pattern) per service, by the name the pages use. Checked against each service's
# api/ (tests/unit/test_web_forwarding.py); the role each needs is the service's to check.
ALLOWED: dict[str, tuple[tuple[str, str], ...]] = {
    "identity": (
        ("POST", "/codes"),
        ("POST", "/web/sessions"),
        ("POST", "/web/token"),
        ("POST", "/web/sign-out"),
        ("POST", "/web/staff-sessions"),  # till staff (being added on identity's staff side)
        ("GET", "/me"),
        ("POST", "/me/real-name"),
    ),
    "enrollment": (
        ("GET", "/directory/unions"),
        ("POST", "/applications"),  # a member files for their own linked person only
        ("GET", "/members/{uuid}"),
        ("POST", "/members/{uuid}/transfers"),
        # The cadre console (issue 19): work queues, the employer register, search, import, export.
        ("GET", "/applications"),
        ("POST", "/applications/{uuid}/approve"),
        ("POST", "/applications/{uuid}/reject"),
        ("GET", "/transfers"),
        ("POST", "/transfers/{uuid}/accept"),
        ("POST", "/transfers/{uuid}/decline"),
        ("GET", "/employers"),
        ("POST", "/employers"),
        ("PUT", "/employers/{uuid}"),
        ("GET", "/members/search"),
        ("GET", "/members/export"),
        ("POST", "/imports"),  # a roster file: see BODY_LIMITS
        ("GET", "/imports/template"),  # public: the roster's header and an example line
        ("GET", "/imports/{uuid}"),
        ("GET", "/imports/{uuid}/lines"),
        ("POST", "/imports/{uuid}/commit"),
    ),
    "projector": (
        ("GET", "/cards/{uuid}"),
        ("GET", "/cards/{uuid}/offers"),
        ("GET", "/cards/{uuid}/inbox"),
        ("GET", "/merchants"),
    ),
    "partners": (
        ("POST", "/members/{uuid}/card-codes"),
        ("POST", "/members/{uuid}/vouchers"),
        ("POST", "/partner-api/v1/verify"),
        ("GET", "/partner-api/v1/redemptions"),
        ("POST", "/partner-api/v1/redemptions"),
        ("GET", "/partner-api/v1/offers"),  # the till's pick-list: the partner's live offers
        ("GET", "/partner-api/v1/offers/{code}"),
        ("GET", "/partner-api/v1/merchants"),
    ),
    "relief": (
        ("POST", "/cases"),
        ("GET", "/members/{uuid}/cases"),
        # 金秋助学, the member app's side (issue 20, part C): open windows, the admission evidence
        # (uploaded as the raw file: see BODY_LIMITS; read back by its uploader), the member's own
        # applications. Relief decides who may (a member files for themself only).
        ("GET", "/student-aid/windows"),
        ("POST", "/student-aid/evidence"),
        ("GET", "/student-aid/evidence/{uuid}"),
        ("POST", "/student-aid/applications"),
        ("GET", "/student-aid/applications/mine"),
        ("GET", "/student-aid/applications/{uuid}"),
        # The public list (公示) of the member's union, and an objection to one of its lines.
        ("GET", "/student-aid/disclosure"),
        ("POST", "/student-aid/applications/{uuid}/objections"),
        # The console's queues and the actions their items offer.
        ("GET", "/queues/approvals"),
        ("GET", "/queues/disclosures"),
        ("GET", "/queues/reverifications"),
        ("GET", "/queues/programmes"),
        ("GET", "/cases/{uuid}"),
        ("POST", "/cases/{uuid}/steps/{name}/approve"),
        ("POST", "/cases/{uuid}/steps/{name}/reject"),
        ("POST", "/cases/{uuid}/objections/{uuid}/answer"),
        ("POST", "/cases/{uuid}/reverification"),
        # The console's programmes (issue 20, part D): 送温暖 campaigns, their allocations down the
        # tree, the base unions' lists (four eyes, paid with an Idempotency-Key), the report, and
        # 困难企业认定 in relief's view of the employer register.
        ("GET", "/campaigns"),
        ("POST", "/campaigns"),
        ("GET", "/campaigns/{uuid}"),
        ("GET", "/campaigns/{uuid}/allocations"),
        ("PUT", "/campaigns/{uuid}/allocations/{uuid}"),
        ("GET", "/campaigns/{uuid}/lists"),
        ("POST", "/campaigns/{uuid}/lists"),
        ("GET", "/campaigns/{uuid}/report"),
        ("GET", "/campaigns/{uuid}/report/export"),
        ("GET", "/campaign-lists/{uuid}"),
        ("POST", "/campaign-lists/{uuid}/entries"),
        ("PATCH", "/campaign-lists/{uuid}/entries/{uuid}"),
        ("POST", "/campaign-lists/{uuid}/entries/{uuid}/exclude"),
        ("POST", "/campaign-lists/{uuid}/entries/{uuid}/include"),
        ("POST", "/campaign-lists/{uuid}/submit"),
        ("POST", "/campaign-lists/{uuid}/approve"),
        ("POST", "/campaign-lists/{uuid}/return"),
        ("POST", "/campaign-lists/{uuid}/pay"),
        ("GET", "/employers"),
        ("PUT", "/employers/{uuid}/difficulty"),
        # 金秋助学, the cadres' side: windows, review, disclosure and objections, payment (the
        # windows list, an application and the evidence file are in the member app's entries).
        ("POST", "/student-aid/windows"),
        ("GET", "/student-aid/windows/{uuid}"),
        ("GET", "/student-aid/applications"),
        ("POST", "/student-aid/applications/{uuid}/review"),
        ("POST", "/student-aid/applications/{uuid}/pay"),
        ("POST", "/student-aid/objections/{uuid}/answer"),
    ),
    "legal": (
        ("POST", "/cases"),
        ("GET", "/members/{uuid}/cases"),
        ("GET", "/queues/deadlines"),
        ("GET", "/queues/supervisions"),
        ("GET", "/cases/{uuid}"),
        ("GET", "/supervisions/{uuid}"),
        ("POST", "/supervisions/{uuid}/{name}"),
    ),
    "competitions": (
        ("GET", "/competitions/open"),
        ("GET", "/competitions/{uuid}"),
        ("POST", "/competitions/{uuid}/entries"),
        ("GET", "/queues/spread"),
        ("GET", "/stages/{uuid}/sheet"),
        ("POST", "/stages/{uuid}/reviews"),
    ),
    "reports": (
        ("GET", "/reports"),
        ("GET", "/reports/{name}"),
        ("GET", "/reports/{name}/charts/{name}.svg"),
        ("GET", "/reports/{name}/export"),
        ("GET", "/unions/{uuid}/coverage"),
    ),
}

# Routes whose body may pass the kit's 64 KiB (services/web/api/forward.py gives each its own
# route with this limit); every other call keeps the small one.
BODY_LIMITS: dict[tuple[str, str, str], int] = {
    ("enrollment", "POST", "/imports"): 5 * 1024 * 1024,  # a roster, CSV or XLSX
    ("relief", "POST", "/student-aid/evidence"): 5 * 1024 * 1024,  # 录取通知书: JPEG, PNG or PDF
}


@dataclass(frozen=True)
class Forward:
    """Go on: to this service, this path (the validated one, unchanged)."""

    service: str
    path: str


@dataclass(frozen=True)
class Refusal:
    """Stop here: the status and the reason, in Chinese for the page."""

    status: int
    detail: str


def _matches(pattern: str, segments: list[str]) -> bool:
    parts = pattern.strip("/").split("/")
    if len(parts) != len(segments):
        return False
    for part, segment in zip(parts, segments, strict=True):
        rule = _PLACEHOLDERS.get(part)
        if (rule is None and part != segment) or (rule is not None and not rule.match(segment)):
            return False
    return True


def resolve(method: str, service: str, raw_path: str) -> Forward | Refusal:
    """Where a page's call goes, or why it does not. `raw_path` is the part after
    /api/{service}, percent-encoded as it came (without the query)."""
    routes = ALLOWED.get(service)
    if routes is None:
        return Refusal(404, "没有这项服务")
    if not raw_path.startswith("/") or raw_path == "/":
        return Refusal(404, "没有这个接口")
    segments = raw_path[1:].split("/")
    if not all(_SEGMENT.match(s) for s in segments):
        # Empty segments, dots, anything percent-encoded (%2F, %2E, %00): never a real route.
        return Refusal(400, "路径不合法")
    found = [m for m, pattern in routes if _matches(pattern, segments)]
    if not found:
        return Refusal(404, "没有这个接口")
    if method.upper() not in found:
        return Refusal(405, "这个接口不接受这种请求")
    return Forward(service, raw_path)


# Headers ------------------------------------------------------------------------------------------

# What a page may tell a service (lower case); the cookies are filtered apart.
REQUEST_HEADERS = frozenset(
    {"authorization", "content-type", "accept-language", "idempotency-key", "x-csrf-token", "if-none-match"}
)
# What a service's answer may carry back to the page (besides the body): a file keeps its name
# (Content-Disposition) and a chart its caching.
ANSWER_HEADERS = frozenset(
    {"content-type", "set-cookie", "retry-after", "content-disposition", "cache-control", "etag"}
)
# Only the session cookies identity sets for the pages (docs/identity.md) travel.
COOKIE_PREFIX = "__Host-zhijia-"


def session_cookies(header: str) -> str | None:
    """The `__Host-zhijia-*` cookies of a Cookie header, or None when there are none."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    kept = [f"{name}={morsel.coded_value}" for name, morsel in jar.items() if name.startswith(COOKIE_PREFIX)]
    return "; ".join(kept) or None


def forward_headers(
    incoming: list[tuple[str, str]], client: str | None, correlation_id: str
) -> list[tuple[str, str]]:
    """The headers a service is sent for a page's request. X-Forwarded-For names the client as
    this service's server resolved it (its peer, or a trusted proxy's X-Forwarded-For): a chain a
    client wrote itself is not passed on, so nobody picks the address identity counts."""
    out: list[tuple[str, str]] = []
    cookies: list[str] = []
    for name, value in incoming:
        lower = name.lower()
        if lower in REQUEST_HEADERS:
            out.append((lower, value))
        elif lower == "cookie" and (kept := session_cookies(value)):
            cookies.append(kept)
    if cookies:
        out.append(("cookie", "; ".join(cookies)))
    if client:
        out.append(("x-forwarded-for", client))
    out.append(("x-correlation-id", correlation_id))
    return out


def answer_headers(upstream: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers of a service's answer the page gets (each Set-Cookie kept apart)."""
    return [(name.lower(), value) for name, value in upstream if name.lower() in ANSWER_HEADERS]
