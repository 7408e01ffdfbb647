"""Run the service on loopback inside this process (the demo, tests and benchmarks use it)."""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:  # the web stack is imported when the service starts, so free_port stays cheap to import
    import uvicorn

    from cloud.credit.model import CreditModel
    from cloud.settings import ServiceSettings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalService:
    def __init__(self, settings: ServiceSettings, port: int | None = None, model: CreditModel | None = None) -> None:
        self.settings = settings
        self.port = port or free_port()
        self.model = model
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalService:
        import uvicorn

        from cloud.app import create_app

        app = create_app(self.settings, self.model)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("local scoring service did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
