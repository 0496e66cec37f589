"""Huawei Cloud ``SDK-HMAC-SHA256`` request signing, both sides.

The client side is :class:`HuaweiSigner`, an :class:`httpx.Auth`. The server side is
:func:`verify`, used by the emulator. Both are built from the small pure functions below,
which follow ``huaweicloudsdkcore.signer.signer.Signer`` (the vendor SDK, our test oracle)
step for step::

    canonical request = METHOD \\n canonical URI \\n canonical query \\n
                        canonical headers (each "name:value\\n") \\n signed headers \\n
                        payload hash
    string to sign    = "SDK-HMAC-SHA256" \\n X-Sdk-Date \\n hex(sha256(canonical request))
    signature         = hex(hmac_sha256(secret key, string to sign))
    Authorization     = SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b;c, Signature=hex

Which headers are signed (the rule, the same on both sides): every header the request
carries, except ``Authorization``, names containing ``_`` (the SDK skips those) and the
transport headers in :data:`UNSIGNED_HEADERS` (``Content-Length``, ``Connection``,
``Accept-Encoding``, hop-by-hop headers), which the SDK's HTTP layer only adds after
signing and which proxies may rewrite. So ``Host``, ``Content-Type``, ``X-Sdk-Date``,
``X-Project-Id``, ``X-Security-Token`` and any header the caller set are signed, exactly
as the SDK signs every entry of its ``header_params`` plus ``Host``.

Query strings are decoded with ``+`` meaning a space (httpx encodes spaces in ``params``
that way), and the signer rewrites the request's query to the canonical form, as the SDK
does, so what is sent is byte for byte what was signed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import NamedTuple
from urllib.parse import quote, unquote, unquote_plus

import httpx

__all__ = [
    "ALGORITHM",
    "DATE_FORMAT",
    "EMPTY_BODY_SHA256",
    "HEADER_CONTENT_SHA256",
    "HEADER_DATE",
    "HEADER_PROJECT_ID",
    "HEADER_SECURITY_TOKEN",
    "UNSIGNED_HEADERS",
    "UNSIGNED_PAYLOAD",
    "AuthorizationHeader",
    "HuaweiAuthFailure",
    "HuaweiSigner",
    "authorization_header",
    "canonical_headers",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "format_sdk_date",
    "is_signed_header",
    "normalize_headers",
    "parse_authorization",
    "parse_query",
    "parse_sdk_date",
    "payload_hash",
    "signature",
    "signed_header_names",
    "string_to_sign",
    "url_encode",
    "uses_unsigned_payload",
    "verify",
]

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

HEADER_DATE = "X-Sdk-Date"
HEADER_CONTENT_SHA256 = "X-Sdk-Content-Sha256"
HEADER_PROJECT_ID = "X-Project-Id"
HEADER_SECURITY_TOKEN = "X-Security-Token"  # noqa: S105 - a header name, not a secret

# Set by the HTTP layer or rewritten in transit; never part of a signature.
UNSIGNED_HEADERS: frozenset[str] = frozenset(
    {
        "authorization",
        "accept-encoding",
        "connection",
        "content-length",
        "expect",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

_DATE_RE = re.compile(r"\A\d{8}T\d{6}Z\Z")
_AUTH_RE = re.compile(
    r"\A" + re.escape(ALGORITHM) + r"\s+Access=([^\s,]+),\s*SignedHeaders=([^\s,]+),"
    r"\s*Signature=([0-9a-f]+)\s*\Z"
)
# Body text is only hashed for these content types; the SDK marks others UNSIGNED-PAYLOAD.
_HASHED_CONTENT_TYPES = ("application/json", "application/bson")

# Codes and messages of Huawei's API gateway (APIG), as its documentation shows them.
CODE_AUTH_FAILED = "APIGW.0301"
CODE_SIGNATURE_EXPIRED = "APIGW.0303"
MESSAGE_SIGNATURE_FAILED = "Incorrect IAM authentication information: verify aksk signature fail"
MESSAGE_NO_CREDENTIALS = "Incorrect IAM authentication information: x-auth-token not found"


# --- building blocks (pure) -------------------------------------------------------------


def url_encode(value: str) -> str:
    """Percent-encode UTF-8, leaving only RFC 3986 unreserved characters (``-._~``)."""
    return quote(value, safe="~")


def canonical_uri(raw_path: str) -> str:
    """Canonical URI of a path as sent: each segment decoded, re-encoded, ending in ``/``."""
    uri = "/".join(url_encode(segment) for segment in unquote(raw_path).split("/"))
    # The signed form always ends in "/" even though the request itself does not.
    return uri if uri.endswith("/") else uri + "/"


def parse_query(raw_query: str) -> list[tuple[str, str]]:
    """Decode a raw query string (without ``?``) into ``(key, value)`` pairs, in order.

    ``+`` is a space; a key without ``=`` has an empty value; empty pieces are skipped.
    """
    pairs: list[tuple[str, str]] = []
    for piece in raw_query.split("&"):
        if piece:
            key, _, value = piece.partition("=")
            pairs.append((unquote_plus(key), unquote_plus(value)))
    return pairs


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    """Canonical query: decoded pairs sorted by key then value, then encoded.

    Repeated keys are separate pairs (the SDK's list values, expanded and sorted).
    """
    return "&".join(f"{url_encode(key)}={url_encode(value)}" for key, value in sorted(params))


def is_signed_header(name: str) -> bool:
    """The header-signing rule (see the module docstring)."""
    lower = name.lower()
    return "_" not in lower and lower not in UNSIGNED_HEADERS


def normalize_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased name -> stripped value; a repeated name's values are joined with ``,``."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    values: dict[str, list[str]] = {}
    for name, value in items:
        values.setdefault(name.lower(), []).append(value.strip())
    return {name: ",".join(parts) for name, parts in values.items()}


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    """Sorted lower-case names of the headers the rule signs."""
    return sorted({name.lower() for name in headers if is_signed_header(name)})


def canonical_headers(headers: Mapping[str, str], signed_headers: Sequence[str]) -> str:
    """``name:value\\n`` per signed header; ``headers`` as from :func:`normalize_headers`."""
    return "".join(f"{name}:{headers[name].strip()}\n" for name in signed_headers)


def uses_unsigned_payload(content_type: str | None) -> bool:
    """Whether the SDK sends ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` for this type."""
    return bool(content_type) and not str(content_type).startswith(_HASHED_CONTENT_TYPES)


def payload_hash(body: bytes, content_sha256: str | None = None) -> str:
    """Hex SHA-256 of the body; a non-empty body with ``X-Sdk-Content-Sha256`` uses its value."""
    if not body:
        return EMPTY_BODY_SHA256
    if content_sha256:
        return content_sha256
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str,
    canonical_uri: str,
    canonical_query: str,
    canonical_headers: str,
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    """The six parts joined by newlines (the headers block ends with its own newline)."""
    return "\n".join(
        (
            method.upper(),
            canonical_uri,
            canonical_query,
            canonical_headers,
            ";".join(signed_headers),
            payload_hash,
        )
    )


def string_to_sign(sdk_date: str, canonical_request: str) -> str:
    digest = hashlib.sha256(_utf8(canonical_request)).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def signature(secret_key: str, string_to_sign: str) -> str:
    """Lower-case hex HMAC-SHA256 of the string to sign, keyed by the secret key."""
    return hmac.new(_utf8(secret_key), _utf8(string_to_sign), hashlib.sha256).hexdigest()


def authorization_header(access_key: str, signed_headers: Sequence[str], signature: str) -> str:
    return (
        f"{ALGORITHM} Access={access_key}, SignedHeaders={';'.join(signed_headers)}, "
        f"Signature={signature}"
    )


class AuthorizationHeader(NamedTuple):
    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> AuthorizationHeader:
    """Parse an ``Authorization`` header value; :class:`ValueError` if it is not one of ours."""
    match = _AUTH_RE.match(value.strip())
    if match is None:
        raise ValueError(f"not an {ALGORITHM} Authorization header")
    access_key, names, sig = match.groups()
    if not (access_key.isascii() and access_key.isprintable()):
        raise ValueError("malformed access key")
    signed = tuple(names.split(";"))
    if any(not name for name in signed):
        raise ValueError("malformed SignedHeaders")
    return AuthorizationHeader(access_key, signed, sig)


def format_sdk_date(moment: datetime) -> str:
    """``X-Sdk-Date`` value of an aware datetime, in UTC."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return moment.astimezone(timezone.utc).strftime(DATE_FORMAT)


def parse_sdk_date(value: str) -> datetime:
    """Aware UTC datetime of an ``X-Sdk-Date`` value; strict format, else :class:`ValueError`."""
    if not _DATE_RE.match(value):
        raise ValueError("X-Sdk-Date must look like 20240101T000000Z")
    return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=timezone.utc)


def _utf8(text: str) -> bytes:
    # surrogateescape round-trips header bytes that were not valid UTF-8.
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


# --- client side ------------------------------------------------------------------------


class HuaweiSigner(httpx.Auth):
    """Signs httpx requests with AK/SK (``SDK-HMAC-SHA256``), like the Huawei Cloud SDK.

    ``security_token`` is the token of temporary credentials (sent as ``X-Security-Token``);
    ``project_id`` is sent as ``X-Project-Id``; ``clock`` returns the aware UTC now.
    """

    requires_request_body = True  # the body hash needs the bytes in auth_flow

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        *,
        security_token: str | None = None,
        project_id: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not access_key:
            raise ValueError("a Huawei Cloud access key is required")
        if not secret_key:
            raise ValueError("a Huawei Cloud secret key is required")
        self.access_key = access_key
        self._secret_key = secret_key
        self._security_token = security_token or None
        self.project_id = project_id or None
        self._clock = clock or _utc_now

    def __repr__(self) -> str:
        # No key material at all: a repr can end up in logs and tracebacks.
        token = "<set>" if self._security_token else None
        return (
            f"HuaweiSigner(access_key=<redacted>, project_id={self.project_id!r}, "
            f"security_token={token})"
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def sign(self, request: httpx.Request) -> None:
        """Sign ``request`` in place (idempotent: a retried request is simply re-signed)."""
        headers = request.headers
        headers[HEADER_DATE] = format_sdk_date(self._clock())
        if self.project_id:
            headers[HEADER_PROJECT_ID] = self.project_id
        if self._security_token:
            headers[HEADER_SECURITY_TOKEN] = self._security_token
        if uses_unsigned_payload(headers.get("content-type")):
            headers[HEADER_CONTENT_SHA256] = UNSIGNED_PAYLOAD
        if "host" not in headers:
            headers["Host"] = request.url.netloc.decode("ascii")

        # Send the stripped values that are signed (the SDK rewrites its headers the same way).
        raw: list[tuple[bytes, bytes]] = []
        decoded: list[tuple[str, str]] = []
        for raw_name, raw_value in headers.raw:
            name = raw_name.decode("latin-1")
            if name.lower() == "authorization":
                continue
            value = raw_value.decode("utf-8", "surrogateescape")
            if is_signed_header(name):
                value = value.strip()
                raw_value = _utf8(value)
                decoded.append((name, value))
            raw.append((raw_name, raw_value))
        request.headers = httpx.Headers(raw)

        normalized = normalize_headers(decoded)
        names = signed_header_names(normalized)

        # httpx percent-encodes the target; "replace" only matters for hand-made raw bytes.
        target = request.url.raw_path.decode("utf-8", "replace")
        raw_path, _, raw_query = target.partition("?")
        query = canonical_query(parse_query(raw_query))
        # Send the canonical query itself, so the server decodes exactly what was signed.
        request.url = request.url.copy_with(query=query.encode("ascii") if query else None)

        body_hash = payload_hash(request.content, normalized.get(HEADER_CONTENT_SHA256.lower()))
        request_text = canonical_request(
            request.method,
            canonical_uri(raw_path),
            query,
            canonical_headers(normalized, names),
            names,
            body_hash,
        )
        sig = signature(
            self._secret_key, string_to_sign(normalized[HEADER_DATE.lower()], request_text)
        )
        request.headers["Authorization"] = authorization_header(self.access_key, names, sig)


# --- server side ------------------------------------------------------------------------


class HuaweiAuthFailure(Exception):
    """A request the API gateway would reject, with the gateway's status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def error_body(self, request_id: str) -> dict[str, str]:
        """The gateway's JSON error body."""
        return {"error_code": self.code, "error_msg": self.message, "request_id": request_id}


def _auth_failed(message: str = MESSAGE_SIGNATURE_FAILED) -> HuaweiAuthFailure:
    return HuaweiAuthFailure(401, CODE_AUTH_FAILED, message)


def verify(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes,
    *,
    lookup_secret: Callable[[str], str | None],
    now: datetime,
    max_skew_seconds: float = 900,
) -> str:
    """Check a received request's ``SDK-HMAC-SHA256`` signature; return its access key.

    ``raw_path`` and ``raw_query`` are as received (percent-encoded, query without ``?``);
    header values are the received bytes decoded as UTF-8 (a WSGI server hands them over
    as latin-1: re-encode them first). ``lookup_secret`` maps an access key to its secret
    key, or ``None`` if unknown. Raises :class:`HuaweiAuthFailure`.
    """
    normalized = normalize_headers(headers)

    auth_value = normalized.get("authorization")
    if not auth_value:
        raise _auth_failed(MESSAGE_NO_CREDENTIALS)
    try:
        auth = parse_authorization(auth_value)
    except ValueError:
        raise _auth_failed() from None

    sdk_date = normalized.get(HEADER_DATE.lower(), "")
    try:
        signed_at = parse_sdk_date(sdk_date)
    except ValueError:
        raise HuaweiAuthFailure(
            401,
            CODE_SIGNATURE_EXPIRED,
            "Incorrect app authentication information: x-sdk-date missing or invalid",
        ) from None
    if abs((now - signed_at).total_seconds()) > max_skew_seconds:
        raise HuaweiAuthFailure(
            401,
            CODE_SIGNATURE_EXPIRED,
            "Incorrect app authentication information: signature expired, "
            f"signature time:{sdk_date},server time:{format_sdk_date(now)}",
        )

    names = [name.lower() for name in auth.signed_headers]
    # Host and date must be covered, and everything claimed as signed must be present.
    if "host" not in names or HEADER_DATE.lower() not in names:
        raise _auth_failed()
    if any(name not in normalized for name in names):
        raise _auth_failed()

    secret_key = lookup_secret(auth.access_key)
    if secret_key is None:
        raise _auth_failed(
            f"Incorrect IAM authentication information: ak {auth.access_key[:64]} not exist"
        )

    claimed = normalized.get(HEADER_CONTENT_SHA256.lower())
    body_hash = payload_hash(body, claimed)
    # A claimed digest must be the body's, or the body would go unchecked.
    if (
        body
        and claimed
        and claimed != UNSIGNED_PAYLOAD
        and claimed != hashlib.sha256(body).hexdigest()
    ):
        raise _auth_failed()

    request_text = canonical_request(
        method,
        canonical_uri(raw_path),
        canonical_query(parse_query(raw_query)),
        canonical_headers(normalized, names),
        names,
        body_hash,
    )
    expected = signature(secret_key, string_to_sign(sdk_date, request_text))
    if not hmac.compare_digest(expected, auth.signature):
        raise _auth_failed()
    return auth.access_key
