"""One error hierarchy for everything the package raises, and decoders for the
vendors' error bodies.

Every cloud error carries the cloud, the operation, the HTTP status, the vendor code,
the vendor message and the request id, and ``str(err)`` names all of them::

    Huawei EIP BatchCreatePublicips failed: HTTP 409 VPC.0521 "quota exceeded" (request id 7f..)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only annotations: a Pulumi program imports this module, not httpx
    import httpx

BAIDU_BCC = "Baidu BCC"
HUAWEI_EIP = "Huawei EIP"

# Codes that mean "slow down": BCE has no documented throttling code, these are the ones
# seen in practice and in the SDKs; APIGW.0308 is Huawei's gateway throttle.
THROTTLING_CODES = frozenset(
    {
        "RateLimit",
        "RateLimitExceeded",
        "RequestLimitExceeded",
        "Throttling",
        "ThrottlingException",
        "TooManyRequests",
        "APIGW.0308",
    }
)
# BCE refuses a request whose x-bce-date is outside its window before acting on it;
# both BCE SDKs send it again, signed anew ("RequestExpired" in bce-python-sdk
# baidubce/retry/retry_policy.py and bce-sdk-go bce/retry.go, BackOffRetryPolicy).
RESIGN_CODES = frozenset({"RequestExpired"})
# Vendor codes that mean "try again later" without being throttling.
BUSY_CODES = frozenset({"VPC.0512", "InternalError", "ServiceUnavailable"})
NOT_FOUND_CODES = frozenset(
    {
        "NoSuchObject",
        "InvalidInstanceId.NotFound",
        "Forbidden.InstanceNotFound",
        "InstanceNotFound",
    }
)
# Huawei EIP business errors answered with HTTP 500 (or 409) that say the call did
# not act ("Error Codes", EIP API Reference): creating publicIp failed (VPC.0503), no
# address left (VPC.0504 "FloatIp is null" on a create; a 404 VPC.0504 on a read is
# "not found"), no shareBandwidthIP quota (VPC.0304), release refused while a load
# balancer (VPC.0516) or firewall rules (VPC.0518) use the EIP.
REFUSAL_CODES = frozenset({"VPC.0503", "VPC.0504", "VPC.0304", "VPC.0516", "VPC.0518"})
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})


class BatchIpError(Exception):
    """Base class of every error raised by pulumi-batchip."""


class ConfigError(BatchIpError):
    """Configuration is missing or invalid (credentials, region, endpoint)."""


class ValidationError(BatchIpError):
    """A resource input breaks a rule; raised before any API call."""

    def __init__(self, prop: str, reason: str) -> None:
        super().__init__(f"{prop}: {reason}")
        self.prop = prop
        self.reason = reason


class CloudApiError(BatchIpError):
    """The cloud answered with an error status."""

    def __init__(
        self,
        *,
        cloud: str,
        operation: str,
        status: int | None,
        code: str | None,
        message: str,
        request_id: str | None,
        retry_after: float | None = None,
    ) -> None:
        self.cloud = cloud
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.retry_after = retry_after
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = [f"{self.cloud} {self.operation} failed:"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(self.code)
        parts.append(json.dumps(self.message, ensure_ascii=False))
        parts.append(f"(request id {self.request_id or 'unknown'})")
        return " ".join(parts)

    @property
    def retryable(self) -> bool:
        return False

    def redacted(self, values: Iterable[str]) -> CloudApiError:
        """This error with each of ``values`` (credentials) masked in its message."""
        message = self.message
        for value in values:
            if value:
                message = message.replace(value, "<redacted>")
        if message == self.message:
            return self
        return type(self)(
            cloud=self.cloud,
            operation=self.operation,
            status=self.status,
            code=self.code,
            message=message,
            request_id=self.request_id,
            retry_after=self.retry_after,
        )


class ThrottledError(CloudApiError):
    """The API refused the call for rate reasons; safe to retry after a pause."""

    @property
    def retryable(self) -> bool:
        return True


class ServerError(CloudApiError):
    """A 5xx answer or a vendor "busy" code; retried for idempotent calls."""

    @property
    def retryable(self) -> bool:
        return True


class BusyError(ServerError):
    """A vendor "busy" code on a 4xx answer (Huawei VPC.0512, 409): the call was refused
    without acting, so even a create is safe to send again after a pause."""


class RefusedError(CloudApiError):
    """A documented business error, whatever its HTTP status: the call did not act.
    Not retried, and never taken for a lost answer."""


class NotFoundError(CloudApiError):
    """The object does not exist (any more)."""


class AuthError(CloudApiError):
    """Credentials or signature rejected (401/403)."""


class ClientError(CloudApiError):
    """Any other 4xx: the request itself is wrong or not allowed now."""


class ExpiredRequestError(ClientError):
    """BCE ``RequestExpired``: the signature's time was refused before anything was done,
    so any call is sent again (each attempt is signed with a fresh date)."""

    @property
    def retryable(self) -> bool:
        return True


class TransportError(BatchIpError):
    """No HTTP answer at all: connection refused or reset, timeout, lost response.

    ``sent`` tells whether the request may have reached the cloud: when it may have,
    the outcome of a non-idempotent call is unknown and it is not retried blindly.
    """

    def __init__(
        self,
        *,
        cloud: str,
        operation: str,
        sent: bool,
        cause: str,
        permanent: bool = False,
        nobody_home: bool = False,
    ) -> None:
        self.cloud = cloud
        self.operation = operation
        self.sent = sent
        self.cause = cause
        self.permanent = permanent  # e.g. a TLS certificate that failed verification
        # refused by a loopback endpoint: most likely an emulator that is not running
        self.nobody_home = nobody_home
        state = "outcome unknown" if sent else "request not sent"
        super().__init__(f"{cloud} {operation} failed: no response ({cause}; {state})")


class OperationTimeoutError(BatchIpError):
    """A long-running operation (job, reboot) did not finish before its deadline."""


def _parse_retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # HTTP-date form: rare on these APIs, fall back to backoff
    return max(0.0, seconds)


def _json_body(response: httpx.Response) -> Mapping[str, Any] | None:
    try:
        body = json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _text_excerpt(response: httpx.Response) -> str:
    text = response.content[:200].decode("utf-8", "replace").strip()
    return text or (response.reason_phrase or "no body")


def code_is(code: str | None, *names: str) -> bool:
    """Vendor codes compared without case: BCE spells the same code more than one way
    (``PrivateIPNotExistException`` / ``PrivateIpNotExistException``)."""
    return code is not None and code.casefold() in {n.casefold() for n in names}


def _classify(status: int, code: str | None) -> type[CloudApiError]:
    if status == 429 or code_is(code, *THROTTLING_CODES):
        return ThrottledError
    if code_is(code, *RESIGN_CODES):
        return ExpiredRequestError
    if code_is(code, *BUSY_CODES):
        return BusyError if status < 500 else ServerError
    if status == 404 or code_is(code, *NOT_FOUND_CODES):
        return NotFoundError
    if code_is(code, *REFUSAL_CODES):
        return RefusedError
    if status in (401, 403):
        return AuthError
    if status >= 500:
        return ServerError
    return ClientError


def _build(
    cloud: str,
    operation: str,
    response: httpx.Response,
    code: str | None,
    message: str,
    request_id: str | None,
) -> CloudApiError:
    cls = _classify(response.status_code, code)
    return cls(
        cloud=cloud,
        operation=operation,
        status=response.status_code,
        code=code,
        message=message,
        request_id=request_id,
        retry_after=_parse_retry_after(response),
    )


def _str_or_none(value: object) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def decode_bce_error(operation: str, response: httpx.Response) -> CloudApiError:
    """BCE bodies: ``{"requestId", "code", "message"}``; header ``x-bce-request-id``."""
    body = _json_body(response)
    request_id = response.headers.get("x-bce-request-id")
    code: str | None = None
    message = ""
    if body is not None:
        code = _str_or_none(body.get("code"))
        message = str(body.get("message") or "")
        request_id = request_id or _str_or_none(body.get("requestId"))
    if not message:
        message = _text_excerpt(response) if body is None else (code or "no message")
    return _build(BAIDU_BCC, operation, response, code, message, request_id)


_HUAWEI_CODE_KEYS = ("code", "error_code", "errorCode")
_HUAWEI_MESSAGE_KEYS = ("message", "error_msg", "errorMsg")


def _huawei_fields(body: Mapping[str, Any]) -> tuple[str | None, str, str | None]:
    # As the Huawei SDK's exception handler reads them: the field names in three
    # spellings, or one nested object ({"error": {...}}, {"NeutronError": {...}}).
    has_fields = any(k in body for k in _HUAWEI_CODE_KEYS + _HUAWEI_MESSAGE_KEYS)
    nested = [v for v in body.values() if isinstance(v, dict)]
    if not has_fields and len(nested) == 1:
        code, message, request_id = _huawei_fields(nested[0])
        return code, message, request_id or _str_or_none(body.get("request_id"))
    code = next((c for c in map(body.get, _HUAWEI_CODE_KEYS) if _str_or_none(c)), None)
    message = next((m for m in map(body.get, _HUAWEI_MESSAGE_KEYS) if m), "")
    return _str_or_none(code), str(message), _str_or_none(body.get("request_id"))


def decode_huawei_error(operation: str, response: httpx.Response) -> CloudApiError:
    """Huawei bodies: ``{code,message}``, ``{error_code,error_msg}``, gateway
    ``{error_code: APIGW.*, error_msg, request_id}`` and nested ``{"error": {...}}``."""
    body = _json_body(response)
    request_id = response.headers.get("X-Request-Id")
    code: str | None = None
    message = ""
    if body is not None:
        code, message, body_request_id = _huawei_fields(body)
        request_id = request_id or body_request_id
    if not message:
        message = _text_excerpt(response) if body is None else (code or "no message")
    return _build(HUAWEI_EIP, operation, response, code, message, request_id)
