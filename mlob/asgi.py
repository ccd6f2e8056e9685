"""ASGI entry point for server processes: ``uvicorn mlob.asgi:create --factory``."""

from __future__ import annotations

from fastapi import FastAPI

from mlob.bootstrap import build_web_app
from mlob.config import load_settings


def create() -> FastAPI:
    web, service = build_web_app(load_settings())

    if service.webhooks is not None:
        web.router.on_shutdown.append(service.webhooks.close)
    if service.projections is not None:
        web.router.on_shutdown.append(service.projections.close)
    web.router.on_shutdown.append(service.app.close)
    return web
