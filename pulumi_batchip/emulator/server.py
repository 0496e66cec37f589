"""Start the emulator on a port: in-process for tests, or from ``__main__``."""

from __future__ import annotations

import io
import logging
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import attrs
from werkzeug.sansio.utils import get_content_length
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from .app import REFUSED_BODY, EmulatorApp
from .bcc_api import BccApi
from .config import MAX_BODY_BYTES, EmulatorConfig
from .eip_api import EipApi

log = logging.getLogger("pulumi_batchip.emulator")


class _QuietHandler(WSGIRequestHandler):
    """Access lines go to the emulator's logger (stderr) at DEBUG, never to stdout.

    A request whose Content-Length is over ``MAX_BODY_BYTES`` is answered (413, by the
    app, in the vendor's shape) without reading its body, then the connection closes."""

    server: _CappedWSGIServer

    def setup(self) -> None:
        super().setup()
        # A connection that sends nothing (or stalls) for this long is closed.
        self.connection.settimeout(self.server.idle_timeout)

    def _declared_too_large(self) -> bool:
        declared = get_content_length(
            self.headers.get("Content-Length"), self.headers.get("Transfer-Encoding")
        )
        return declared is not None and declared > MAX_BODY_BYTES

    def handle_expect_100(self) -> bool:
        # http.server answers "100 Continue" while parsing the request: not to a body
        # that will be refused.
        return True if self._declared_too_large() else super().handle_expect_100()

    def run_wsgi(self) -> None:
        too_large = self._declared_too_large()
        if too_large:
            # No "100 Continue" to invite the body, and an empty input: neither the app
            # nor werkzeug's drain after the answer reads a byte of it.
            del self.headers["Expect"]
            self.rfile = io.BytesIO()
        super().run_wsgi()
        if too_large or self.environ.get(REFUSED_BODY):
            # The unread body must not be taken for the next request.
            self.close_connection = True

    def log_error(self, format: str, *args: Any) -> None:
        if format.startswith("Request timed out"):
            # An idle connection closed (idle_timeout_seconds): routine, not an error.
            log.debug("closed a connection idle for %g s", self.server.idle_timeout)
        else:
            super().log_error(format, *args)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        # The path only: a query could carry a presigned signature.
        log.debug("%s %s %s", self.command, urlsplit(self.path).path, getattr(code, "value", code))


class _CappedWSGIServer(ThreadedWSGIServer):
    """A thread per connection, at most ``max_connections`` at once: further connections
    wait, unaccepted, in the listen backlog (the kernel's queue, no thread, no file
    descriptor of ours) until a slot frees."""

    def __init__(
        self, host: str, port: int, app: EmulatorApp, max_connections: int, idle_timeout: float
    ) -> None:
        self.idle_timeout = idle_timeout
        self._slots = threading.BoundedSemaphore(max_connections)
        self._stopping = threading.Event()
        super().__init__(host, port, app, handler=_QuietHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        # Take a slot before accepting; keep looking for shutdown() while waiting.
        while not self._slots.acquire(timeout=0.05):
            if self._stopping.is_set():
                raise OSError("the emulator is stopping")
        try:
            return super().get_request()
        except BaseException:
            self._slots.release()
            raise

    def shutdown_request(self, request: Any) -> None:
        # Called exactly once for each accepted connection, whatever became of it.
        try:
            super().shutdown_request(request)
        finally:
            self._slots.release()

    def shutdown(self) -> None:
        self._stopping.set()
        super().shutdown()


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
    _server: ThreadedWSGIServer
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
) -> tuple[ThreadedWSGIServer, EmulatorApp]:
    app = build_app(config)
    server = _CappedWSGIServer(
        host,
        port,
        app,
        max_connections=app.config.max_connections,
        idle_timeout=app.config.idle_timeout_seconds,
    )
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
