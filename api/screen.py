"""The coordination-centre screen: a static page at ``/`` that signs in with a token and shows
the live operational picture from the read models and the feed (``api/static/``, no build step).

The page itself needs no token (it asks for one); every call it makes does. ``/v1/whoami`` tells
the page who the token belongs to (an auditor gets the time slider).
"""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from api.errors import error_responses
from api.ports import Principal

STATIC = Path(__file__).resolve().parent / "static"

#: Nothing from elsewhere: scripts, styles and the feed come from this server only.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class Assets(StaticFiles):
    """The page's scripts and styles: revalidated on every load (an upgraded server is seen at
    once), answered 304 when unchanged."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def install(app: FastAPI, caller_dependency: Any) -> None:
    """Serve the screen at ``/``, the desk at ``/desk`` and their assets under ``/screen/``;
    add ``/v1/whoami``."""
    app.include_router(router(caller_dependency))
    app.mount("/screen", Assets(directory=STATIC), name="screen")


def router(caller_dependency: Any) -> APIRouter:
    routes = APIRouter()
    Caller = Annotated[Principal, Depends(caller_dependency)]

    @routes.get("/", include_in_schema=False)
    def screen() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=SECURITY_HEADERS)

    @routes.get("/desk", include_in_schema=False)
    def desk() -> FileResponse:
        """The desk: the same modules, with forms generated from the event types' schemas."""
        return FileResponse(STATIC / "desk.html", headers=SECURITY_HEADERS)

    @routes.get("/v1/whoami", tags=["reading"], responses=error_responses(401))
    def whoami(caller: Caller) -> dict[str, Any]:
        """The caller's own token: organisation, role, clearance and person."""
        return {
            "org": caller.org,
            "role": caller.role,
            "clearance": caller.clearance.value,
            "person": caller.person,
        }

    return routes
