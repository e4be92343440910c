"""The browser playground: ``GET /`` answers ``playground/index.html`` and ``/playground/...`` its
scripts, stylesheet and bundled pictures (package data, no build step, nothing from another
host). The page calls only the public routes, so it needs no server logic of its own and is
public like /openapi.json: the API calls it makes carry the token the user types in."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

FOLDER = Path(__file__).with_name("playground")
# Everything from this origin only; images also as data: and blob: URLs (previews, results).
POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def routes() -> list[BaseRoute]:
    """``GET /`` (the page) and ``/playground/{file}`` (its assets)."""

    async def index(request: Request) -> FileResponse:
        headers = {"content-security-policy": POLICY, "cache-control": "no-cache"}
        return FileResponse(FOLDER / "index.html", headers=headers)

    return [Route("/", index, methods=["GET"]), Mount("/playground", StaticFiles(directory=FOLDER))]
