"""The pages and their files: the member app at `/`, the till at `/till`, the cadre console at
`/console`, files under /assets, third-party scripts (put into vendor/ by scripts, git-ignored)
under /assets/vendor; and the security headers on every answer."""

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.web.domain.security import SECURITY_HEADERS
from shared.inputs import StrictRoute

HERE = Path(__file__).resolve().parent.parent
STATIC = HERE / "static"
VENDOR = HERE / "vendor"

router = APIRouter(route_class=StrictRoute)


def _page(name: str) -> FileResponse:
    # Pages are small and change with a deployment: always asked again (the assets may be cached).
    return FileResponse(
        STATIC / name, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )


@router.get("/", include_in_schema=False)
async def member_app() -> FileResponse:
    return _page("index.html")


@router.get("/till", include_in_schema=False)
async def till() -> FileResponse:
    return _page("till.html")


@router.get("/console", include_in_schema=False)
async def console() -> FileResponse:
    return _page("console.html")


class RevalidatedFiles(StaticFiles):
    """Files a browser keeps but asks about again (ETag: a 304 of a few hundred bytes), so a new
    deployment's script never meets an old page, or the other way round."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def mount_assets(app: FastAPI) -> None:
    if VENDOR.is_dir():  # before /assets: the longer prefix first
        app.mount("/assets/vendor", RevalidatedFiles(directory=VENDOR), name="vendor")
    app.mount("/assets", RevalidatedFiles(directory=STATIC), name="assets")


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every answer (pages, files, forwarded answers, errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
