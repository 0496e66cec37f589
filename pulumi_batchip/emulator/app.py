"""The emulator's WSGI application: routing, signatures, faults, request log, admin API.

Each cloud is a :class:`Service` (its HTTP layer, in ``bcc_api.py`` / ``eip_api.py``)
over a state model (``bcc.py`` / ``eip.py``) that knows nothing of HTTP.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import quote

import attrs
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

# Re-exported: they lived here before config.py.
from .config import DEFAULT_BCE_CREDENTIALS as DEFAULT_BCE_CREDENTIALS
from .config import DEFAULT_HW_CREDENTIALS as DEFAULT_HW_CREDENTIALS
from .config import DEFAULT_HW_PROJECT_ID as DEFAULT_HW_PROJECT_ID
from .config import MAX_BODY_BYTES as MAX_BODY_BYTES
from .config import EmulatorConfig as EmulatorConfig
from .faults import HANDLER_ACTIONS, FaultBook, FaultRule, FaultRuleError

# Set in the WSGI environ of a request whose body was refused as too large: nothing may
# read that body afterwards (the request log included).
REFUSED_BODY = "pulumi_batchip.emulator.body_refused"


class _Request(Request):
    # A chunked body (no Content-Length) stops being read one byte past the limit; a
    # longer Content-Length is refused before reading (_read_body).
    max_content_length = MAX_BODY_BYTES + 1


class ApiError(Exception):
    """An answer with an error status; each service renders it in its vendor's shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@attrs.frozen
class Call:
    """One API call as a handler sees it."""

    request: Request
    params: Mapping[str, str]
    request_id: str
    fault: FaultRule | None  # job_fail / job_hang / empty: for the handler to apply
    raw_path: str
    raw_query: str
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON, or ApiError-worthy ValueError."""
        return json.loads(self.body.decode("utf-8")) if self.body else None


# A handler answers (status, JSON body or None for an empty body).
Handler = Callable[[Call], tuple[int, Any]]


@attrs.frozen
class Route:
    operation: str
    handler: Handler
    params: Mapping[str, str]
    # Some routes serve two operations told apart by the body (Huawei's tag action):
    # this names the operation from the raw body, for the request log and faults.
    operation_from_body: Callable[[bytes], str] | None = None


class Service(Protocol):
    name: str
    request_id_header: str
    # The vendor's endpoint host, "{region}" in place of the region's label
    # ("vpc.{region}.myhuaweicloud.com"): how a request names its region (host_region).
    endpoint_host: str

    def owns(self, path: str) -> bool: ...

    def match(self, method: str, path: str, query: Mapping[str, str]) -> Route | None: ...

    def authenticate(self, call: Call, now: float) -> None: ...

    def error_body(self, error: ApiError, request_id: str) -> Any: ...

    def throttle_error(self) -> ApiError: ...

    def region_error(self, region: str) -> ApiError: ...

    def not_found_error(self, method: str, path: str) -> ApiError: ...

    def reset(self) -> None: ...

    def snapshot(self) -> Any: ...


class _DropConnection(ConnectionAbortedError):
    """Raised after the socket was shut down on purpose; werkzeug treats it as a drop."""


class EmulatorApp:
    def __init__(self, config: EmulatorConfig, services: list[Service]) -> None:
        self.config = config
        self.services = services
        self.faults = FaultBook(config.seed)
        self._log_lock = threading.Lock()
        self._requests: list[dict[str, Any]] = []
        self.admin_handlers: dict[tuple[str, str], Callable[[Request], tuple[int, Any]]] = {
            ("GET", "state"): self._admin_state,
            ("POST", "reset"): self._admin_reset,
            ("GET", "requests"): self._admin_requests,
            ("POST", "faults"): self._admin_arm,
            ("DELETE", "faults"): self._admin_disarm,
            ("GET", "faults"): lambda _r: (200, {"faults": self.faults.snapshot()}),
        }

    # -- admin ----------------------------------------------------------------------
    def add_admin(
        self, method: str, name: str, handler: Callable[[Request], tuple[int, Any]]
    ) -> None:
        self.admin_handlers[(method, name)] = handler

    def _admin_state(self, _request: Request) -> tuple[int, Any]:
        state = {s.name: s.snapshot() for s in self.services}
        state["faults"] = self.faults.snapshot()
        return 200, state

    def _admin_reset(self, request: Request) -> tuple[int, Any]:
        body = request.get_json(silent=True)
        seed = self.config.seed
        if isinstance(body, dict) and "seed" in body:
            # A test can pin probabilistic faults to a seed of its own.
            if not isinstance(body["seed"], int) or isinstance(body["seed"], bool):
                raise ApiError(400, "BadReset", 'reset takes {"seed": <integer>}')
            seed = body["seed"]
        for service in self.services:
            service.reset()
        self.faults.clear()
        self.faults.reseed(seed)
        with self._log_lock:
            self._requests.clear()
        return 200, {"reset": True}

    def _admin_requests(self, _request: Request) -> tuple[int, Any]:
        with self._log_lock:
            return 200, {"requests": list(self._requests)}

    def _admin_arm(self, request: Request) -> tuple[int, Any]:
        raw = request.get_json(silent=True)
        if isinstance(raw, dict):
            raw = [raw]
        if not isinstance(raw, list):
            raise ApiError(400, "BadFaultRules", "POST faults takes a JSON list of rules")
        try:
            rules = [FaultRule.from_json(r) for r in raw]
        except FaultRuleError as exc:
            raise ApiError(400, "BadFaultRules", str(exc)) from None
        self.faults.arm(rules)
        return 200, {"armed": len(rules), "faults": self.faults.snapshot()}

    def _admin_disarm(self, _request: Request) -> tuple[int, Any]:
        self.faults.clear()
        return 200, {"faults": []}

    def _serve_admin(self, request: Request, name: str) -> Response:
        handler = self.admin_handlers.get((request.method, name))
        try:
            if handler is None:
                raise ApiError(404, "NoSuchAdminEndpoint", f"{request.method} /_emulator/{name}")
            if _read_body(request) is None:
                raise _too_large()
            status, body = handler(request)
        except ApiError as exc:
            status, body = exc.status, {"code": exc.code, "message": exc.message}
        return _json_response(status, body, {})

    # -- API ------------------------------------------------------------------------
    def _record(self, entry: dict[str, Any]) -> None:
        with self._log_lock:
            self._requests.append(entry)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = _Request(environ)
        try:
            response = self._dispatch(request)
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/_emulator/"):
            return self._serve_admin(request, path[len("/_emulator/") :])
        service = next((s for s in self.services if s.owns(path)), None)
        request_id = str(uuid.uuid4())
        if service is None:
            self._record(_entry("Unknown", request, 404))
            return _json_response(404, {"code": "NotFound", "message": f"no API at {path}"}, {})
        raw_path, raw_query = _raw_target(request.environ)
        body = _read_body(request)
        if body is None:
            return self._answer_error(service, "Unknown", request, request_id, _too_large())
        route = service.match(request.method, path, request.args)
        if route is not None and route.operation_from_body is not None:
            with contextlib.suppress(RecursionError):  # absurdly nested: the route's default
                route = attrs.evolve(route, operation=route.operation_from_body(body))
        operation = route.operation if route else "Unknown"
        call = Call(
            request=request,
            params=route.params if route else {},
            request_id=request_id,
            fault=None,
            raw_path=raw_path,
            raw_query=raw_query,
            body=body,
        )
        if self.config.latency_seconds > 0:
            time.sleep(self.config.latency_seconds)
        try:
            # The vendor routes on the Host before it looks at the signature.
            region = host_region(request.headers.get("Host", ""), service.endpoint_host)
            if region is not None and region not in self.config.regions:
                raise service.region_error(region)
            service.authenticate(call, time.time())
            if route is None:
                raise service.not_found_error(request.method, path)
        except ApiError as exc:
            return self._answer_error(service, operation, request, request_id, exc)

        fault = self.faults.take(operation)
        if fault is not None:
            if fault.action == "throttle":
                return self._answer_error(
                    service, operation, request, request_id, service.throttle_error(), fault
                )
            if fault.action == "error":
                error = ApiError(
                    fault.status or 500,
                    fault.code or "InternalError",
                    fault.message or "injected fault",
                )
                return self._answer_error(service, operation, request, request_id, error, fault)
            if fault.action == "reset":
                self._record(_entry(operation, request, None, fault))
                _drop(request)
            if fault.action == "delay":
                time.sleep(fault.seconds)
            if fault.action in HANDLER_ACTIONS:  # job_fail, job_hang, empty
                call = attrs.evolve(call, fault=fault)

        try:
            status, payload = route.handler(call)
        except ApiError as exc:
            status, payload = exc.status, service.error_body(exc, request_id)
        except (ValueError, UnicodeDecodeError, RecursionError):
            # RecursionError: JSON nested deeper than the parser's stack (still < 1 MiB).
            malformed = ApiError(400, "MalformedJSON", "the request body is not valid JSON")
            status, payload = malformed.status, service.error_body(malformed, request_id)
        if fault is not None and fault.action == "lost_response":
            self._record(_entry(operation, request, status, fault))
            _drop(request)
        self._record(_entry(operation, request, status, fault))
        return _json_response(status, payload, {service.request_id_header: request_id})

    def _answer_error(
        self,
        service: Service,
        operation: str,
        request: Request,
        request_id: str,
        error: ApiError,
        fault: FaultRule | None = None,
    ) -> Response:
        self._record(_entry(operation, request, error.status, fault))
        headers = {service.request_id_header: request_id}
        if error.status == 429:
            headers["Retry-After"] = "1"
        return _json_response(error.status, service.error_body(error, request_id), headers)


def host_region(host: str, template: str) -> str | None:
    """The region a Host header names through ``template``, or None when it names none:
    an explicit endpoint (this emulator's own address, a proxy) carries no region, so
    only a request sent with the vendor's host name can be refused for its region."""
    name = re.sub(r":[0-9]*\Z", "", host.strip().lower()).rstrip(".")
    prefix, _, suffix = template.partition("{region}")
    if len(name) > len(prefix) + len(suffix) and name.startswith(prefix) and name.endswith(suffix):
        return name[len(prefix) : len(name) - len(suffix)]
    return None


def _entry(
    operation: str, request: Request, status: int | None, fault: FaultRule | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "operation": operation,
        "method": request.method,
        "path": request.path,
        "status": status,
        "query": {
            key: request.args.getlist(key)
            for key in request.args
            if not _CREDENTIAL_QUERY_KEY.search(key)
        },
        "body": _logged_body(request),
    }
    if fault is not None:
        entry["fault"] = fault.action
    return entry


# Query parameters that could carry a signature or a credential (presigned URLs, STS
# tokens): never copied into the request log.
_CREDENTIAL_QUERY_KEY = re.compile(
    r"(?i)signature|credential|security.?token|access.?key|secret|authoriz"
)


def _logged_body(request: Request) -> Any:
    """The parsed JSON body for the request log, or None (no body, not JSON, too big)."""
    data = None if request.environ.get(REFUSED_BODY) else _read_body(request)
    if not data:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def _raw_target(environ: Mapping[str, Any]) -> tuple[str, str]:
    """The path and query exactly as sent: signatures are computed over them."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw.startswith("/"):
        path, _, query = raw.partition("?")
        return path, query
    path = quote(environ.get("PATH_INFO", "/"), safe="/")
    return path, str(environ.get("QUERY_STRING", ""))


def _too_large() -> ApiError:
    return ApiError(413, "EntityTooLarge", f"the request body is over {MAX_BODY_BYTES} bytes")


def _read_body(request: Request) -> bytes | None:
    """The body, or None if it is over MAX_BODY_BYTES: then it is refused from its
    Content-Length before a byte is read, or (a chunked body) once past the limit."""
    declared = request.content_length
    if declared is None or declared <= MAX_BODY_BYTES:
        with contextlib.suppress(RequestEntityTooLarge):
            body = request.get_data(cache=True)
            if len(body) <= MAX_BODY_BYTES:
                return body
    request.environ[REFUSED_BODY] = True
    # The unread rest must not be drained by the server after the answer (nor taken for
    # a next request: the server closes the connection, see REFUSED_BODY).
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RD)
    return None


def _drop(request: Request) -> None:
    """Close the connection without an answer, as a network failure would."""
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise _DropConnection("fault injected: connection dropped")


def _json_response(status: int, body: Any, headers: Mapping[str, str]) -> Response:
    if body is None:
        return Response(status=status, headers=dict(headers))
    return Response(
        json.dumps(body),
        status=status,
        headers=dict(headers),
        content_type="application/json;charset=UTF-8",
    )
