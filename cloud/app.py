"""The reference scoring service (FastAPI): the routers per area, the body and error guards around them.
Stateless between requests: all state is in the database."""

from __future__ import annotations

from fastapi import FastAPI

from cloud.api_errors import ErrorGuard, install_error_handlers
from cloud.credit.model import CreditModel
from cloud.guards import BodyGuard
from cloud.routes import applications, credit, devices, support
from cloud.service import Service
from cloud.settings import ServiceSettings


def create_app(settings: ServiceSettings | None = None, model: CreditModel | None = None) -> FastAPI:
    settings = settings or ServiceSettings()
    app = FastAPI(title="Kiosk credit scoring service", version="1.0.0")
    app.state.service = Service.start(settings, model)
    install_error_handlers(app)
    for area in (credit, devices, applications, support):
        app.include_router(area.router)

    def body_limit(path: str) -> int:
        return settings.max_bundle_bytes if path.startswith("/v1/devices/bundles/") else settings.max_body_bytes

    app.add_middleware(BodyGuard, limit_for=body_limit)
    app.add_middleware(ErrorGuard)
    return app
