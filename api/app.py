"""The FastAPI application: a thin entry layer over the application service."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.ports import MlobService, StoreUnavailable


class Health(BaseModel):
    status: str
    store: str
    last_position: int


def create_app(service: MlobService) -> FastAPI:
    app = FastAPI(
        title="mlob",
        version="0.1.0",
        description="National multidisciplinary operational picture (MLOB) of LOCC-KCR2: "
        "assistance requests, decisions and capacities as domain events.",
    )

    @app.get("/health", response_model=Health, responses={503: {"description": "store down"}})
    def health() -> Health | JSONResponse:
        try:
            position = service.last_position()
        except StoreUnavailable as exc:
            return JSONResponse(
                {"status": "unavailable", "store": service.store_kind, "reason": str(exc)},
                status_code=503,
            )
        return Health(status="ok", store=service.store_kind, last_position=position)

    return app
