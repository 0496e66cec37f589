"""Baidu AI Cloud request signing, ``bce-auth-v1``, on both sides.

Client side: :class:`BceSigner`, an ``httpx.Auth``. Server side (the emulator):
:func:`verify`. Both are built from the small pure functions below, so what one side
signs is by construction what the other side checks.

The rule (BCE "authentication" docs; ``baidubce/auth/bce_v1_signer.py``)::

    prefix     = bce-auth-v1/{ak}/{yyyy-mm-ddThh:mm:ssZ}/{expirationSeconds}
    signingKey = hex(HMAC-SHA256(sk, prefix))
    canonical  = METHOD \\n CanonicalURI \\n CanonicalQueryString \\n CanonicalHeaders
    signature  = hex(HMAC-SHA256(signingKey, canonical))
    Authorization: {prefix}/{signedHeaders}/{signature}

The body is not signed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TypeAlias
from urllib.parse import unquote_to_bytes

import httpx

__all__ = [
    "AUTH_VERSION",
    "BCE_DATE",
    "BCE_SECURITY_TOKEN",
    "DEFAULT_EXPIRATION_SECONDS",
    "DEFAULT_MAX_SKEW_SECONDS",
    "DEFAULT_SIGNED_HEADERS",
    "BceAuthFailure",
    "BceAuthorization",
    "BceSigner",
    "HeaderInput",
    "auth_string_prefix",
    "canonical_headers",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "compute_authorization",
    "compute_signature",
    "default_signed_headers",
    "format_timestamp",
    "parse_authorization",
    "parse_timestamp",
    "query_string",
    "signing_key",
    "uri_encode",
    "verify",
]

AUTH_VERSION = "bce-auth-v1"
DEFAULT_EXPIRATION_SECONDS = 1800
# BCE answers RequestExpired when the request time and its own clock differ by more
# than 30 minutes.
DEFAULT_MAX_SKEW_SECONDS = 1800
BCE_DATE = "x-bce-date"
BCE_SECURITY_TOKEN = "x-bce-security-token"  # noqa: S105 - a header name
DEFAULT_SIGNED_HEADERS = frozenset({"host", "content-length", "content-type", "content-md5"})

_BCE_PREFIX = "x-bce-"
# The request id is assigned by the server side of a hop, so it cannot be part of what
# the client signed.
_NEVER_SIGNED = frozenset({"x-bce-request-id"})
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TIMESTAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_SIGNATURE_RE = re.compile(r"[0-9a-f]{64}")
_HEADER_NAME_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_ACCESS_KEY_RE = re.compile(r"[^\s/]+")

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_ENCODED_BYTE = tuple(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in range(256))

HeaderValue: TypeAlias = str | bytes
HeaderInput: TypeAlias = (
    Mapping[str, HeaderValue]
    | Mapping[bytes, HeaderValue]
    | Iterable[tuple[HeaderValue, HeaderValue]]
)
"""Headers as a mapping or as (name, value) pairs; str values are taken as UTF-8.
Pass bytes to sign exactly what goes on the wire."""


# --- errors ---------------------------------------------------------------------------


class BceAuthFailure(Exception):
    """A request failed authentication; ``status``/``code``/``message`` are what BCE answers.

    Never carries a secret key or a security token.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def _invalid_auth_header() -> BceAuthFailure:
    return BceAuthFailure(
        400,
        "InvalidHTTPAuthHeader",
        "The HTTP authorization header is invalid. Consult the service documentation for details.",
    )


# --- building blocks ------------------------------------------------------------------


def _to_bytes(value: HeaderValue) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def uri_encode(value: str | bytes, *, keep_slash: bool = False) -> str:
    """BCE UriEncode: keep ``A-Z a-z 0-9 - _ . ~`` (and ``/`` if asked), ``%XX`` the rest."""
    data = _to_bytes(value)
    if keep_slash:
        return "".join("/" if b == 0x2F else _ENCODED_BYTE[b] for b in data)
    return "".join(_ENCODED_BYTE[b] for b in data)


def format_timestamp(moment: datetime) -> str:
    """``2024-01-02T03:04:05Z`` for an aware datetime."""
    return _as_utc(moment).strftime(_TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """Inverse of :func:`format_timestamp`; ValueError unless the format is exact."""
    if not _TIMESTAMP_RE.fullmatch(text):
        raise ValueError("not a bce-auth-v1 timestamp")
    return datetime.strptime(text, _TIMESTAMP_FORMAT).replace(tzinfo=timezone.utc)


def _as_utc(moment: datetime) -> datetime:
    # A naive datetime is ambiguous by hours, which is the whole validity window.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return moment.astimezone(timezone.utc)


def canonical_uri(raw_path: str | bytes) -> str:
    """The raw (still percent-encoded) path, decoded, then UriEncode'd keeping ``/``.

    Decoding first makes the result independent of how the client chose to escape
    the path (httpx leaves ``:@!$&'()*+,;=`` as they are, others do not).
    """
    return uri_encode(unquote_to_bytes(raw_path), keep_slash=True) or "/"


def _form_unquote(data: bytes) -> bytes:
    # A client may form-encode its query (httpx's ``params=`` sends a space as "+"; we
    # send :func:`query_string`'s "%20"), and the server decodes it that way to sign.
    return unquote_to_bytes(data.replace(b"+", b" "))


def canonical_query(raw_query: str | bytes) -> str:
    """``UriEncode(k)=UriEncode(v)`` per parameter (``k=`` if no value), without
    ``authorization``, sorted, ``&``-joined. Repeated keys give one entry each."""
    entries = []
    for part in _to_bytes(raw_query).split(b"&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition(b"=")
        key = _form_unquote(raw_key)
        if key.lower() == b"authorization":
            continue
        entries.append(f"{uri_encode(key)}={uri_encode(_form_unquote(raw_value))}")
    entries.sort()
    return "&".join(entries)


def query_string(params: Mapping[str, str]) -> str:
    """The query to send, as the BCE SDK sends it: ``UriEncode(k)=UriEncode(v)``, sorted,
    ``&``-joined (a space is ``%20``, never ``+``), so the wire form is the signed form
    (``baidubce.utils.get_canonical_querystring(params, False)``)."""
    return "&".join(sorted(f"{uri_encode(k)}={uri_encode(v)}" for k, v in params.items()))


def _merge_headers(headers: HeaderInput) -> dict[str, bytes]:
    """Lowercase name -> value bytes; a repeated header is joined with ", " (RFC 9110)."""
    pairs: Iterable[tuple[HeaderValue, HeaderValue]] = (
        headers.items() if isinstance(headers, Mapping) else headers
    )
    merged: dict[str, bytes] = {}
    for name, value in pairs:
        key = (name.decode("latin-1") if isinstance(name, bytes) else name).strip().lower()
        data = _to_bytes(value)
        merged[key] = merged[key] + b", " + data if key in merged else data
    return merged


def _is_default_signed(name: str) -> bool:
    if name in _NEVER_SIGNED:
        return False
    return name in DEFAULT_SIGNED_HEADERS or name.startswith(_BCE_PREFIX)


def default_signed_headers(headers: HeaderInput) -> list[str]:
    """The headers signed by default that are present with a non-blank value, sorted:
    host, content-length, content-type, content-md5 and every x-bce-* but the request id."""
    merged = _merge_headers(headers)
    return sorted(
        name for name, value in merged.items() if _is_default_signed(name) and value.strip()
    )


def canonical_headers(headers: HeaderInput, signed_headers: Iterable[str]) -> str:
    """``UriEncode(name):UriEncode(trimmed value)`` for each signed header with a
    non-blank value, sorted, ``\\n``-joined."""
    wanted = {name.strip().lower() for name in signed_headers}
    lines = []
    for name, value in _merge_headers(headers).items():
        trimmed = value.strip()
        if name in wanted and trimmed:
            lines.append(f"{uri_encode(name)}:{uri_encode(trimmed)}")
    lines.sort()
    return "\n".join(lines)


def canonical_request(
    method: str,
    raw_path: str | bytes,
    raw_query: str | bytes,
    headers: HeaderInput,
    signed_headers: Iterable[str],
) -> str:
    """The string that is signed."""
    return "\n".join(
        [
            method.upper(),
            canonical_uri(raw_path),
            canonical_query(raw_query),
            canonical_headers(headers, signed_headers),
        ]
    )


def auth_string_prefix(access_key: str, timestamp: datetime, expiration_seconds: int) -> str:
    """``bce-auth-v1/{ak}/{timestamp}/{expirationSeconds}``."""
    return f"{AUTH_VERSION}/{access_key}/{format_timestamp(timestamp)}/{expiration_seconds}"


def signing_key(secret_key: str, prefix: str) -> str:
    """Lowercase hex HMAC-SHA256 of the prefix; the hex *string* is the next key."""
    return hmac.new(secret_key.encode("utf-8"), prefix.encode("utf-8"), hashlib.sha256).hexdigest()


def compute_signature(key: str, canonical: str) -> str:
    """Lowercase hex HMAC-SHA256 of the canonical request under the signing key."""
    return hmac.new(key.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def compute_authorization(
    access_key: str,
    secret_key: str,
    method: str,
    raw_path: str | bytes,
    raw_query: str | bytes,
    headers: HeaderInput,
    *,
    timestamp: datetime,
    expiration_seconds: int = DEFAULT_EXPIRATION_SECONDS,
    signed_headers: Iterable[str] | None = None,
) -> str:
    """The ``Authorization`` value. ``signed_headers=None`` lists the default set that
    is present; an explicit empty list leaves the field empty, which means the default set."""
    if signed_headers is None:
        listed = default_signed_headers(headers)
    else:
        listed = sorted({name.strip().lower() for name in signed_headers})
    effective = listed or default_signed_headers(headers)
    prefix = auth_string_prefix(access_key, timestamp, expiration_seconds)
    canonical = canonical_request(method, raw_path, raw_query, headers, effective)
    signature = compute_signature(signing_key(secret_key, prefix), canonical)
    return f"{prefix}/{';'.join(listed)}/{signature}"


# --- verification (server side) -------------------------------------------------------


@dataclass(frozen=True)
class BceAuthorization:
    """A parsed ``Authorization`` header."""

    access_key: str
    timestamp: datetime
    expiration_seconds: int
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> BceAuthorization:
    """Parse ``bce-auth-v1/{ak}/{timestamp}/{expiration}/{signedHeaders}/{signature}``;
    anything else is BceAuthFailure ``InvalidHTTPAuthHeader``."""
    parts = value.strip().split("/")
    if len(parts) != 6 or parts[0] != AUTH_VERSION:
        raise _invalid_auth_header()
    _, access_key, timestamp_text, expiration_text, signed_text, signature = parts
    if not _ACCESS_KEY_RE.fullmatch(access_key):
        raise _invalid_auth_header()
    if not expiration_text.isascii() or not expiration_text.isdigit():
        raise _invalid_auth_header()
    if not _SIGNATURE_RE.fullmatch(signature):
        raise _invalid_auth_header()
    names = signed_text.split(";") if signed_text else []
    if not all(_HEADER_NAME_RE.fullmatch(name) for name in names):
        raise _invalid_auth_header()
    try:
        timestamp = parse_timestamp(timestamp_text)
    except ValueError:
        raise _invalid_auth_header() from None
    return BceAuthorization(
        access_key=access_key,
        timestamp=timestamp,
        expiration_seconds=int(expiration_text),
        signed_headers=tuple(name.lower() for name in names),
        signature=signature,
    )


def verify(
    method: str,
    raw_path: str | bytes,
    raw_query: str | bytes,
    headers: HeaderInput,
    *,
    lookup_secret: Callable[[str], str | None],
    now: datetime,
    max_skew_seconds: int = DEFAULT_MAX_SKEW_SECONDS,
) -> str:
    """Check a request's bce-auth-v1 signature; return its access key.

    ``raw_path``/``raw_query`` are as received (still percent-encoded), ``headers``
    must include ``Authorization``. ``lookup_secret`` maps an access key to its secret
    key, or None if unknown. Raises :class:`BceAuthFailure` with BCE's status and code.
    """
    merged = _merge_headers(headers)
    raw_auth = merged.get("authorization")
    if raw_auth is None:
        raise _invalid_auth_header()
    try:
        auth = parse_authorization(raw_auth.decode("ascii"))
    except UnicodeDecodeError:
        raise _invalid_auth_header() from None

    secret = lookup_secret(auth.access_key)
    if secret is None:
        raise BceAuthFailure(
            403,
            "InvalidAccessKeyId",
            "The Access Key ID you provided does not exist in our records.",
        )

    current = _as_utc(now)
    expired = auth.timestamp + timedelta(seconds=auth.expiration_seconds) < current
    too_early = auth.timestamp - current > timedelta(seconds=max_skew_seconds)
    if expired or too_early:
        raise BceAuthFailure(
            400,
            "RequestExpired",
            f"Request has expired. Timestamp date is {format_timestamp(auth.timestamp)}.",
        )

    signed = list(auth.signed_headers) or default_signed_headers(merged)
    prefix = auth_string_prefix(auth.access_key, auth.timestamp, auth.expiration_seconds)
    canonical = canonical_request(method, raw_path, raw_query, merged, signed)
    expected = compute_signature(signing_key(secret, prefix), canonical)
    if not hmac.compare_digest(expected, auth.signature):
        raise BceAuthFailure(
            400,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you "
            "provided. Check your Secret Access Key and signing method. Consult the "
            "service documentation for details.",
        )
    return auth.access_key


# --- client side ----------------------------------------------------------------------


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class BceSigner(httpx.Auth):
    """Signs every request (and every retry, with a fresh date) with bce-auth-v1."""

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        *,
        security_token: str | None = None,
        expiration_seconds: int = DEFAULT_EXPIRATION_SECONDS,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not access_key or not secret_key:
            raise ValueError("BceSigner needs a non-empty access key and secret key")
        if expiration_seconds <= 0:
            raise ValueError("expiration_seconds must be positive")
        self._access_key = access_key
        self._secret_key = secret_key
        self._security_token = security_token or None
        self._expiration_seconds = expiration_seconds
        self._clock = clock or _utc_now

    @property
    def access_key(self) -> str:
        return self._access_key

    def __repr__(self) -> str:
        # No key material at all: a repr can end up in logs and tracebacks.
        token = "<set>" if self._security_token else None
        return (
            f"BceSigner(access_key=<redacted>, security_token={token}, "
            f"expiration_seconds={self._expiration_seconds})"
        )

    def sign(self, request: httpx.Request) -> None:
        """Add ``x-bce-date``, the security token and ``Authorization`` to the request."""
        moment = self._clock()
        headers = request.headers
        # httpx adds Host when the Request is built, and the transport sends the
        # header as it stands; only fill it in if a caller removed it.
        if "host" not in headers:
            headers["Host"] = request.url.netloc.decode("ascii")
        headers[BCE_DATE] = format_timestamp(moment)
        if self._security_token is not None:
            headers[BCE_SECURITY_TOKEN] = self._security_token
        raw_path, _, raw_query = request.url.raw_path.partition(b"?")
        # Signed from the raw header bytes, i.e. exactly what goes on the wire.
        headers["Authorization"] = compute_authorization(
            self._access_key,
            self._secret_key,
            request.method,
            raw_path,
            raw_query,
            headers.raw,
            timestamp=moment,
            expiration_seconds=self._expiration_seconds,
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request
