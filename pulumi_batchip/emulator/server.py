"""Start the emulator on a port: in-process for tests, or from ``__main__``."""

from __future__ import annotations

import threading
from typing import Any

import attrs
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import EmulatorApp, EmulatorConfig
from .bcc_api import BccApi
from .eip_api import EipApi


class _QuietHandler(WSGIRequestHandler):
    """Access lines go to the emulator's logger (stderr), never to stdout."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass


def build_app(config: EmulatorConfig | None = None) -> EmulatorApp:
    config = config or EmulatorConfig()
    bcc = BccApi(config)
    eip = EipApi(config)
    app = EmulatorApp(config, [bcc, eip])
    bcc.install_admin(app)
    eip.install_admin(app)
    return app


@attrs.define
class RunningEmulator:
    """A live emulator: ``url`` to point clients at, ``stop()`` to end it."""

    url: str
    app: EmulatorApp
    _server: BaseWSGIServer
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def make_emulator_server(
    host: str = "127.0.0.1", port: int = 0, config: EmulatorConfig | None = None
) -> tuple[BaseWSGIServer, EmulatorApp]:
    app = build_app(config)
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    server.daemon_threads = True  # type: ignore[attr-defined]
    return server, app


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def start_emulator(
    host: str = "127.0.0.1", port: int = 0, config: EmulatorConfig | None = None
) -> RunningEmulator:
    """Serve both APIs on a free port in a background thread."""
    server, app = make_emulator_server(host, port, config)
    thread = threading.Thread(target=server.serve_forever, name="batchip-emulator", daemon=True)
    thread.start()
    return RunningEmulator(
        url=_url(host, server.server_port), app=app, server=server, thread=thread
    )
