"""The shared HTTP layer: one client factory, one retry policy, error decoding.

Retries use tenacity (well kept, typed, and it lets tests inject the sleep function so
no test really waits). What is retried (README, "Errors, throttling and retries"):

- throttling (HTTP 429, BCE rate-limit codes, Huawei ``APIGW.0308``) and 5xx / busy
  answers, for idempotent calls; throttling also for non-idempotent ones, because a
  throttled call was refused before it did anything;
- BCE ``RequestExpired`` (the signature's date was refused), for every call, as the BCE
  SDKs do: the signer dates and signs each attempt afresh;
- connection errors where the request never left (connect failure): always, except a
  TLS certificate that fails verification (permanent: reported at once, with its cause);
- connection errors after the request may have been sent (read timeout, reset, lost
  response): only for idempotent calls. A non-idempotent call then raises a
  :class:`~pulumi_batchip.errors.TransportError` with ``sent=True`` so the caller can
  resolve the unknown outcome (the EIP batch tag) instead of sending it again blindly.

An access key the cloud echoes back in an error message (Huawei: "ak ... not exist")
is masked before the error is raised: credentials never reach an error message.
"""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import httpx
import tenacity

from .config import is_loopback
from .errors import (
    BusyError,
    CloudApiError,
    ExpiredRequestError,
    ThrottledError,
    TransportError,
)
from .lines import say
from .resilience import operation_deadline as operation_deadline
from .resilience import remaining_time as remaining_time

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Retries of a call refused by a loopback endpoint stop after this long: nothing is
# listening there (an emulator not started), and waiting longer only hides it.
LOCAL_REFUSED_SECONDS = 3.0
USER_AGENT = "pulumi-batchip"


def new_http_client(
    *,
    base_url: str,
    auth: httpx.Auth,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """One ``httpx.Client`` per endpoint: keep-alive connection reuse, TLS verified."""
    return httpx.Client(
        base_url=base_url,
        auth=auth,
        timeout=timeout,
        transport=transport,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
        follow_redirects=False,
    )


ErrorDecoder = Callable[[str, httpx.Response], CloudApiError]


@attrs.frozen
class RetryPolicy:
    """Exponential backoff with full jitter, capped in attempts and in total time.

    ``sleep`` and ``clock`` are injectable so tests run without real waits.
    """

    max_attempts: int = 8
    max_total_seconds: float = 180.0
    initial_backoff: float = 0.5
    max_backoff: float = 20.0
    max_retry_after: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: Callable[[], float] = random.random

    def backoff(self, attempt: int) -> float:
        """Wait before retry number ``attempt`` (1-based): full jitter over 2^n growth."""
        ceiling = min(self.max_backoff, self.initial_backoff * (2 ** (attempt - 1)))
        return float(ceiling * (0.5 + 0.5 * self.rng()))


def _is_retryable(exc: BaseException, idempotent: bool) -> bool:
    if isinstance(exc, ThrottledError | BusyError | ExpiredRequestError):
        return True  # refused before acting: safe to send again (signed anew)
    if isinstance(exc, CloudApiError):
        return exc.retryable and idempotent
    if isinstance(exc, TransportError):
        return not exc.permanent and (idempotent or not exc.sent)
    return False


class _Wait:
    """Honour ``Retry-After`` when the server gave one, else jittered backoff."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def __call__(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, CloudApiError) and exc.retry_after is not None:
            return min(exc.retry_after, self._policy.max_retry_after)
        return self._policy.backoff(state.attempt_number)


class _Stop:
    """Stop after max attempts, or when the next wait would pass the time budget."""

    def __init__(self, policy: RetryPolicy, wait: _Wait) -> None:
        self._policy = policy
        self._started = policy.clock()
        self._wait = wait

    def __call__(self, state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= self._policy.max_attempts:
            return True
        elapsed = self._policy.clock() - self._started
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransportError) and exc.nobody_home and elapsed >= LOCAL_REFUSED_SECONDS:
            return True  # a local endpoint nobody listens at: say so soon
        if elapsed + self._wait(state) > self._policy.max_total_seconds:
            return True
        left = remaining_time(self._policy.clock)
        return left is not None and self._wait(state) >= left


def _transport_error(
    cloud: str, operation: str, exc: httpx.TransportError, endpoint: httpx.URL
) -> TransportError:
    # ConnectError/ConnectTimeout/PoolTimeout: nothing reached the server.
    sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    detail = " ".join(str(exc).split())[:200]
    cause = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    local = _refused(exc) and is_loopback(endpoint.host)
    if local:
        cause += f"; nothing is listening at {endpoint}: is the emulator running?"
    return TransportError(
        cloud=cloud,
        operation=operation,
        sent=sent,
        cause=cause,
        permanent=_certificate_rejected(exc),
        nobody_home=local,
    )


def _refused(exc: BaseException) -> bool:
    """The connection was refused (nothing listens on the port)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or "Connection refused" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _certificate_rejected(exc: BaseException) -> bool:
    """The server's TLS certificate failed verification: retrying cannot help."""
    seen: BaseException | None = exc
    for _ in range(8):  # httpx.ConnectError <- httpcore.ConnectError <- ssl error
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _credential_values(auth: httpx.Auth | None) -> tuple[str, ...]:
    """The access key our signers hold: vendors echo an unknown one in their error
    messages (Huawei: "ak ... not exist"), which must not reach the user's logs."""
    value = getattr(auth, "access_key", None)
    return (value,) if isinstance(value, str) and len(value) >= 4 else ()


class ApiCaller:
    """Sends one API operation with the retry policy and decodes errors.

    Thread-safe as far as ``httpx.Client`` is: one instance is shared by the threads
    of one provider process.
    """

    def __init__(
        self,
        client: httpx.Client,
        *,
        cloud: str,
        decode_error: ErrorDecoder,
        policy: RetryPolicy | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self._client = client
        self._cloud = cloud
        self._decode_error = decode_error
        self.policy = policy or RetryPolicy()
        self._log = log or _stderr_line
        self._redact = _credential_values(client.auth)

    def close(self) -> None:
        self._client.close()

    def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        idempotent: bool,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send; return the response when 2xx (or in ``ok_statuses``), else raise."""
        wait = _Wait(self.policy)
        retrying = tenacity.Retrying(
            stop=_Stop(self.policy, wait),
            wait=wait,
            retry=tenacity.retry_if_exception(lambda exc: _is_retryable(exc, idempotent)),
            sleep=self.policy.sleep,
            reraise=True,
            before_sleep=lambda state: self._note_retry(operation, state),
        )
        result: httpx.Response = retrying(
            self._send_once, operation, method, path, params, json, ok_statuses
        )
        return result

    def _send_once(
        self,
        operation: str,
        method: str,
        path: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        json: Any,
        ok_statuses: tuple[int, ...],
    ) -> httpx.Response:
        extra: dict[str, Any] = {}
        left = remaining_time()
        if left is not None:
            if left <= 0:
                raise TransportError(
                    cloud=self._cloud,
                    operation=operation,
                    sent=False,
                    cause="the operation's deadline passed before this call",
                    permanent=True,
                )
            # No single request outlives the operation's deadline.
            configured = self._client.timeout.read or DEFAULT_TIMEOUT.read or 30.0
            extra["timeout"] = httpx.Timeout(min(configured, left), connect=min(10.0, left))
        try:
            response = self._client.request(method, path, params=params, json=json, **extra)
        except httpx.TransportError as exc:
            endpoint = self._client.base_url
            raise _transport_error(self._cloud, operation, exc, endpoint) from None
        if response.is_success or response.status_code in ok_statuses:
            return response
        raise self._decode_error(operation, response).redacted(self._redact)

    def _note_retry(self, operation: str, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        self._log(
            f"batchip: {self._cloud} {operation} attempt {state.attempt_number} failed "
            f"({_short_reason(exc)}); retrying in {wait:.1f} s"
        )


def _short_reason(exc: BaseException | None) -> str:
    if isinstance(exc, CloudApiError):
        return f"HTTP {exc.status} {exc.code or ''}".strip()
    if isinstance(exc, TransportError):
        return exc.cause
    return type(exc).__name__


def _stderr_line(line: str) -> None:
    say(line)


def json_object(response: httpx.Response) -> Mapping[str, Any]:
    """The body as a JSON object; empty for no body, non-JSON or a non-object."""
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def path_segment(value: str) -> str:
    """An id placed in a URL path: refuse what would change the path's meaning."""
    if not value or "/" in value or "?" in value or "#" in value or value in (".", ".."):
        raise ValueError(f"invalid id {value!r} for a URL path segment")
    return value
