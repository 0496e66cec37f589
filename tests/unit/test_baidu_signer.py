"""bce-auth-v1: our signer against the official SDK's, and our verifier against both.

The oracle is ``baidubce.auth.bce_v1_signer.sign`` (bce-python-sdk). Two of its
behaviours differ from the documented rule, so the oracle is fed accordingly:

* It does not encode the path: ``canonical_uri = path`` as given (its clients only use
  paths that need no encoding). We give it the path already encoded by the documented
  rule (computed here with ``urllib.parse.quote``, independent of our code) and test
  the rule itself separately.
* Its query parameters are a dict, so it cannot express repeated keys, and its
  ``authorization`` skip is dead code (``k.lower != ...`` compares a method). Both are
  tested separately against hand-computed values.

Also: with ``headers_to_sign`` it keeps the given order (we pass it sorted) and signs
every ``x-bce-*`` header it is given, listed or not (we never give it the unsigned
``x-bce-request-id``).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, quote_plus

import httpx
import pytest
from baidubce.auth.bce_credentials import BceCredentials
from baidubce.auth.bce_v1_signer import sign as sdk_sign
from baidubce.utils import get_canonical_querystring
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulumi_batchip.baidu.bcc import BccClient
from pulumi_batchip.baidu.signer import (
    BceAuthFailure,
    BceSigner,
    canonical_headers,
    canonical_query,
    canonical_uri,
    compute_authorization,
    default_signed_headers,
    parse_authorization,
    query_string,
    uri_encode,
    verify,
)
from pulumi_batchip.config import BaiduSettings, Credentials

AK = "test-ak-0123"
SK = "test-sk-secret-4567"
TOKEN = "sts-token-SECRET+/=="
T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

# --- strategies -----------------------------------------------------------------------

_ASCII_SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~"
_SPECIAL = " !\"#$%&'()*+,/:;<=>?@[\\]^`{|}"
_UNICODE = "üéß中文ДЖ😀\u00a0"
_TEXT = st.text(alphabet=_ASCII_SAFE + _SPECIAL + _UNICODE, max_size=12)
_SEGMENT = st.text(alphabet=_ASCII_SAFE + _SPECIAL.replace("/", "") + _UNICODE, max_size=10).filter(
    lambda s: s not in {".", ".."}  # httpx removes dot segments, as RFC 3986 says
)
_HEADER_TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\x7f"
    ),
    max_size=16,
)
_HEADER_VALUE = st.one_of(
    _HEADER_TEXT,
    st.builds(lambda v: f"  {v}\t ", _HEADER_TEXT),  # trimmed before signing
    st.sampled_from(["", "   "]),  # blank: not signed
)
_KEY = st.text(alphabet=_ASCII_SAFE + _SPECIAL + _UNICODE, min_size=1, max_size=12).filter(
    lambda k: k.lower() != "authorization"  # the SDK does not skip it (see above)
)
_BCE_NAME = (
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
        min_size=1,
        max_size=10,
    )
    .map(lambda s: "x-bce-" + s)
    .filter(lambda n: n.lower() not in {"x-bce-date", "x-bce-security-token", "x-bce-request-id"})
)


@dataclass(frozen=True)
class Spec:
    """One generated request, in the terms a caller would write it."""

    method: str
    base: str
    path: str  # decoded
    params: list[tuple[str, str | None]]
    query_style: str  # who encodes the query: httpx params=, quote or quote_plus
    content_type: str | None
    content_md5: str | None
    extra_bce: dict[str, str]
    request_id: bool
    unsigned: dict[str, str]
    body: bytes | None
    token: str | None
    ak: str
    sk: str
    moment: datetime
    expiration: int

    def url(self) -> str:
        # Leave raw the sub-delims httpx keeps raw, so our decode-then-encode is exercised.
        url = self.base + quote(self.path, safe="/:@!$&'()*+,;=")
        if self.query_style == "quote" and self.params:
            url += "?" + "&".join(
                quote(k, safe="") + ("" if v is None else "=" + quote(v, safe=""))
                for k, v in self.params
            )
        elif self.query_style == "quote_plus" and self.params:
            url += "?" + "&".join(quote_plus(k) + "=" + quote_plus(v or "") for k, v in self.params)
        return url

    def request(self) -> httpx.Request:
        headers: list[tuple[bytes, bytes]] = []
        if self.content_type is not None:
            headers.append((b"Content-Type", self.content_type.encode()))
        if self.content_md5 is not None:
            headers.append((b"Content-MD5", self.content_md5.encode()))
        for name, value in [*self.extra_bce.items(), *self.unsigned.items()]:
            headers.append((name.encode(), value.encode()))
        if self.request_id:
            headers.append((b"x-bce-request-id", b"6f1c7d3e-0000-4000-8000-000000000000"))
        return httpx.Request(
            self.method,
            self.url(),
            params=tuple(self.params) if self.query_style == "httpx" else None,
            headers=headers,
            content=self.body,
        )


@st.composite
def _specs(draw: st.DrawFn) -> Spec:
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(
        st.sampled_from(["bcc.bj.baidubce.com", "BCC.gz.baidubce.com", "127.0.0.1", "localhost"])
    )
    port = draw(st.one_of(st.none(), st.sampled_from([80, 443, 8080, 51234])))
    return Spec(
        method=draw(st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"])),
        base=f"{scheme}://{host}" + (f":{port}" if port else ""),
        path="/" + "/".join(draw(st.lists(_SEGMENT, max_size=4))),
        params=draw(
            st.lists(
                st.tuples(_KEY, st.one_of(st.none(), st.just(""), _TEXT)),
                max_size=5,
                unique_by=lambda kv: kv[0],
            )
        ),
        query_style=draw(st.sampled_from(["httpx", "quote", "quote_plus"])),
        content_type=draw(
            st.sampled_from(
                [None, "application/json", "application/json; charset=utf-8", "text/plain"]
            )
        ),
        content_md5=draw(
            st.sampled_from([None, "1B2M2Y8AsgTpgAmY7PhCfg==", " rL0Y20zC+Fzt72VPzMSk2A== "])
        ),
        extra_bce=draw(
            st.dictionaries(_BCE_NAME, _HEADER_VALUE, max_size=4).filter(
                lambda d: len({k.lower() for k in d}) == len(d)
            )
        ),
        request_id=draw(st.booleans()),
        unsigned=draw(
            st.dictionaries(
                st.sampled_from(["accept", "user-agent", "x-trace", "X-Bcee"]),
                _HEADER_TEXT,
                max_size=2,
            )
        ),
        body=draw(st.one_of(st.none(), st.binary(max_size=64), st.just(b'{"instanceId": "i"}'))),
        token=draw(
            st.one_of(st.none(), st.text(alphabet=_ASCII_SAFE + "+/=", min_size=1, max_size=40))
        ),
        ak=draw(st.text(alphabet=_ASCII_SAFE, min_size=1, max_size=32)),
        sk=draw(st.text(alphabet=_ASCII_SAFE + _UNICODE, min_size=1, max_size=40)),
        moment=draw(
            st.datetimes(
                min_value=datetime(2000, 1, 1),
                max_value=datetime(2099, 12, 31),
                timezones=st.just(timezone.utc),
            )
        ),
        expiration=draw(st.integers(min_value=1, max_value=7 * 24 * 3600)),
    )


def _expected_signed(sent: list[tuple[bytes, bytes]]) -> list[bytes]:
    names = set()
    for name, value in sent:
        low = name.lower()
        if not value.strip() or low == b"x-bce-request-id":
            continue
        if low in {b"host", b"content-length", b"content-type", b"content-md5"} or low.startswith(
            b"x-bce-"
        ):
            names.add(low)
    return sorted(names)


# --- the oracle -----------------------------------------------------------------------


@settings(
    max_examples=600,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(_specs())
def test_authorization_matches_sdk_byte_for_byte(spec: Spec) -> None:
    request = spec.request()
    signer = BceSigner(
        spec.ak,
        spec.sk,
        security_token=spec.token,
        expiration_seconds=spec.expiration,
        clock=lambda: spec.moment,
    )
    flow = signer.auth_flow(request)
    assert next(flow) is request

    assert request.headers["x-bce-date"] == spec.moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if spec.token is not None:
        assert request.headers["x-bce-security-token"] == spec.token
    # The SDK is given the headers as httpx will put them on the wire.
    sent_headers = [
        (k, v)
        for k, v in request.headers.raw
        if k.lower() not in {b"authorization", b"x-bce-request-id"}
    ]
    expected = sdk_sign(
        BceCredentials(spec.ak, spec.sk),
        request.method.encode(),
        quote(spec.path, safe="/").encode(),  # the documented UriEncode, keeping "/"
        dict(sent_headers),
        {k.encode(): None if v is None else v.encode() for k, v in spec.params},
        timestamp=int(spec.moment.timestamp()),
        expiration_in_seconds=spec.expiration,
        headers_to_sign=_expected_signed(sent_headers),
    )
    assert request.headers["Authorization"] == expected.decode()

    # And the verifier accepts it as sent.
    raw_path, _, raw_query = request.url.raw_path.partition(b"?")
    secrets = {spec.ak: spec.sk}
    assert (
        verify(
            request.method,
            raw_path,
            raw_query,
            request.headers.raw,
            lookup_secret=secrets.get,
            now=spec.moment,
        )
        == spec.ak
    )


def test_oracle_fixed_vector() -> None:
    """One request from the reference, readable: PUT ...?reboot with a JSON body."""
    request = httpx.Request(
        "PUT",
        "https://bcc.bj.baidubce.com/v2/instance/i-DhjUXmSA?reboot",
        json={"forceStop": False},
    )
    BceSigner(AK, SK, clock=lambda: T0).sign(request)
    headers = {k: v for k, v in request.headers.raw if k.lower() != b"authorization"}
    expected = sdk_sign(
        BceCredentials(AK, SK),
        b"PUT",
        b"/v2/instance/i-DhjUXmSA",
        headers,
        {b"reboot": None},
        timestamp=int(T0.timestamp()),
        expiration_in_seconds=1800,
        headers_to_sign=[b"content-length", b"content-type", b"host", b"x-bce-date"],
    )
    assert request.headers["Authorization"] == expected.decode()
    assert request.headers["Authorization"].startswith(
        "bce-auth-v1/test-ak-0123/2024-01-02T03:04:05Z/1800/content-length;content-type;host;x-bce-date/"
    )


# --- the documented rule where the SDK cannot serve as oracle -------------------------


def _by_hand(
    method: str,
    path: str,
    query: str,
    header_lines: list[str],
    signed: str,
    *,
    ak: str = AK,
    sk: str = SK,
) -> str:
    prefix = f"bce-auth-v1/{ak}/2024-01-02T03:04:05Z/1800"
    key = hmac.new(sk.encode(), prefix.encode(), hashlib.sha256).hexdigest()
    canonical = "\n".join([method, path, query, "\n".join(header_lines)])
    sig = hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    return f"{prefix}/{signed}/{sig}"


def test_uri_encode_every_byte() -> None:
    unreserved = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
    for b in range(256):
        expected = chr(b) if b in unreserved else f"%{b:02X}"
        assert uri_encode(bytes([b])) == expected
    assert uri_encode("a b/ü") == "a%20b%2F%C3%BC"
    assert uri_encode("a b/ü", keep_slash=True) == "a%20b/%C3%BC"
    assert uri_encode("😀") == "%F0%9F%98%80"


@pytest.mark.parametrize(
    ("raw_path", "expected"),
    [
        ("/v2/instance/i-abc", "/v2/instance/i-abc"),
        ("/a b/ü", "/a%20b/%C3%BC"),
        ("/a%20b/%c3%bc", "/a%20b/%C3%BC"),  # lowercase escapes from the client normalised
        (b"/:@!$&'()*+,;=", "/%3A%40%21%24%26%27%28%29%2A%2B%2C%3B%3D"),
        ("/%7e%41-_.", "/~A-_."),  # over-escaped unreserved characters decoded
        ("/a+b", "/a%2Bb"),  # "+" is literal in a path
        ("/a//b/", "/a//b/"),
        ("", "/"),
    ],
)
def test_canonical_uri_documented_rule(raw_path: str | bytes, expected: str) -> None:
    assert canonical_uri(raw_path) == expected


def test_path_needing_encoding_through_auth_flow() -> None:
    request = httpx.Request("GET", "http://h.example/v2/a b/ü:x")
    BceSigner(AK, SK, clock=lambda: T0).sign(request)
    assert request.url.raw_path == b"/v2/a%20b/%C3%BC:x"
    assert request.headers["Authorization"] == _by_hand(
        "GET",
        "/v2/a%20b/%C3%BC%3Ax",
        "",
        ["host:h.example", "x-bce-date:2024-01-02T03%3A04%3A05Z"],
        "host;x-bce-date",
    )


@pytest.mark.parametrize(
    ("raw_query", "expected"),
    [
        ("b=2&a=1&a=0&a", "a=&a=0&a=1&b=2"),  # repeated keys kept, sorted by the k=v string
        ("reboot", "reboot="),
        ("reboot=", "reboot="),
        ("a=b+c&d=%2B", "a=b%20c&d=%2B"),  # "+" is a form-encoded space
        ("authorization=x&Authorization=y&a=1", "a=1"),
        ("k%c3%bc=v%20w&&x=%7e", "k%C3%BC=v%20w&x=~"),
        ("a=1=2", "a=1%3D2"),
        ("", ""),
    ],
)
def test_canonical_query_documented_rule(raw_query: str, expected: str) -> None:
    assert canonical_query(raw_query) == expected


def test_repeated_query_keys_through_auth_flow() -> None:
    request = httpx.Request(
        "PUT",
        "http://h.example/v2/x",
        params=[("ip", "10.0.0.2"), ("ip", "10.0.0.1"), ("clientToken", "t")],
    )
    BceSigner(AK, SK, clock=lambda: T0).sign(request)
    assert request.headers["Authorization"] == _by_hand(
        "PUT",
        "/v2/x",
        "clientToken=t&ip=10.0.0.1&ip=10.0.0.2",
        ["content-length:0", "host:h.example", "x-bce-date:2024-01-02T03%3A04%3A05Z"],
        "content-length;host;x-bce-date",
    )


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(st.dictionaries(_KEY, _TEXT, max_size=5))
def test_query_string_is_the_sdk_query(params: dict[str, str]) -> None:
    """What we send is what bce-python-sdk sends (``bce_http_client.send_request``:
    ``path + b'?' + get_canonical_querystring(params, False)``): a space is %20."""
    sdk_params = {k.encode(): v.encode() for k, v in params.items()}
    assert query_string(params) == get_canonical_querystring(sdk_params, False).decode()
    # ... and it is its own canonical form, so the wire form is the signed form.
    assert canonical_query(query_string(params)) == query_string(params)


def test_bcc_client_sends_a_spaced_query_as_the_sdk_does() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"privateIps": ["192.168.0.5"]})

    settings_ = BaiduSettings(Credentials(AK, SK), "bj", "https://bcc.bj.baidubce.com")
    client = BccClient.from_settings(settings_, transport=httpx.MockTransport(handler))
    token = "tok en+~/ü"
    client.batch_add_ip("i-DhjUXmSA", client_token=token, count=1)
    client.reboot("i-DhjUXmSA")
    client.close()

    add, reboot = seen
    sdk_query = get_canonical_querystring({b"clientToken": token.encode()}, False)
    assert add.url.raw_path == b"/v2/instance/batchAddIp?" + sdk_query
    assert sdk_query == b"clientToken=tok%20en%2B~%2F%C3%BC"
    assert reboot.url.raw_path == b"/v2/instance/i-DhjUXmSA?reboot="
    # Signed as the SDK signs the same parameters.
    sent = [(k, v) for k, v in add.headers.raw if k.lower() != b"authorization"]
    moment = datetime.strptime(add.headers["x-bce-date"], "%Y-%m-%dT%H:%M:%SZ")
    expected = sdk_sign(
        BceCredentials(AK, SK),
        b"PUT",
        b"/v2/instance/batchAddIp",
        dict(sent),
        {b"clientToken": token.encode()},
        timestamp=int(moment.replace(tzinfo=timezone.utc).timestamp()),
        expiration_in_seconds=1800,
        headers_to_sign=_expected_signed(sent),
    )
    assert add.headers["Authorization"] == expected.decode()


def test_canonical_headers_rule() -> None:
    headers = [
        (b"Host", b"h.example:8080"),
        (b"X-BCE-Meta", b"  a b  "),
        (b"x-bce-empty", b"  "),
        (b"x-bce-request-id", b"r1"),
        (b"Accept", b"*/*"),
        (b"x-bce-multi", b"1"),
        (b"x-bce-multi", b"2"),
    ]
    signed = default_signed_headers(headers)
    assert signed == ["host", "x-bce-meta", "x-bce-multi"]
    assert (
        canonical_headers(headers, signed)
        == "host:h.example%3A8080\nx-bce-meta:a%20b\nx-bce-multi:1%2C%202"
    )


# --- client side details ----------------------------------------------------------------


def test_host_and_content_length_signed_as_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(handler)
    with httpx.Client(
        auth=BceSigner(AK, SK, security_token=TOKEN, clock=lambda: T0), transport=transport
    ) as client:
        client.put(
            "http://bcc.bj.baidubce.com:8443/v2/instance/batchAddIp",
            params={"clientToken": "c"},
            json={"a": 1},
        )
        client.get("https://bcc.bj.baidubce.com/v2/instance/i-x")
    put, get = seen
    assert put.headers["host"] == "bcc.bj.baidubce.com:8443"
    assert put.headers["content-length"] == str(len(put.content))
    assert parse_authorization(put.headers["authorization"]).signed_headers == (
        "content-length",
        "content-type",
        "host",
        "x-bce-date",
        "x-bce-security-token",
    )
    assert get.headers["host"] == "bcc.bj.baidubce.com"
    assert "content-length" not in get.headers
    assert parse_authorization(get.headers["authorization"]).signed_headers == (
        "host",
        "x-bce-date",
        "x-bce-security-token",
    )
    # The client added its own headers (user-agent, accept...) after nothing: verify what arrived.
    for request in seen:
        path, _, query = request.url.raw_path.partition(b"?")
        assert (
            verify(
                request.method, path, query, request.headers.raw, lookup_secret={AK: SK}.get, now=T0
            )
            == AK
        )


def test_host_restored_if_removed() -> None:
    request = httpx.Request("GET", "http://h.example:81/x")
    del request.headers["host"]
    BceSigner(AK, SK, clock=lambda: T0).sign(request)
    assert request.headers["host"] == "h.example:81"
    assert "host" in parse_authorization(request.headers["authorization"]).signed_headers


def test_each_send_gets_a_fresh_date() -> None:
    times = iter([T0, T0 + timedelta(seconds=7)])
    signer = BceSigner(AK, SK, clock=lambda: next(times))
    request = httpx.Request("GET", "http://h.example/x")
    signer.sign(request)
    first = request.headers["authorization"]
    signer.sign(request)
    assert request.headers["x-bce-date"] == "2024-01-02T03:04:12Z"
    assert request.headers["authorization"] != first
    assert len(request.headers.get_list("authorization")) == 1


def test_naive_clock_is_refused() -> None:
    signer = BceSigner(AK, SK, clock=lambda: datetime(2024, 1, 2))
    with pytest.raises(ValueError, match="timezone-aware"):
        signer.sign(httpx.Request("GET", "http://h.example/x"))


def test_secrets_never_in_repr_or_errors() -> None:
    signer = BceSigner(AK, SK, security_token=TOKEN)
    text = repr(signer) + str(signer)
    assert AK not in text
    assert SK not in text
    assert TOKEN not in text
    with pytest.raises(ValueError) as excinfo:
        BceSigner(AK, SK, expiration_seconds=0)
    assert SK not in str(excinfo.value)


def test_compute_authorization_explicit_empty_means_default_set() -> None:
    headers = {"host": "h.example", "x-bce-date": "2024-01-02T03:04:05Z"}
    empty = compute_authorization(AK, SK, "GET", "/x", "", headers, timestamp=T0, signed_headers=[])
    listed = compute_authorization(AK, SK, "GET", "/x", "", headers, timestamp=T0)
    assert empty.split("/")[4] == ""
    assert listed.split("/")[4] == "host;x-bce-date"
    assert empty.split("/")[5] == listed.split("/")[5]


# --- verification -----------------------------------------------------------------------


def _signed_request(
    *, security_token: str | None = None, expiration_seconds: int = 1800
) -> httpx.Request:
    request = httpx.Request(
        "PUT",
        "http://bcc.bj.baidubce.com/v2/instance/batchAddIp?clientToken=abc",
        json={"instanceId": "i-x", "privateIps": ["192.168.0.9"]},
        headers={"x-bce-extra": "1"},
    )
    signer = BceSigner(
        AK,
        SK,
        security_token=security_token,
        expiration_seconds=expiration_seconds,
        clock=lambda: T0,
    )
    signer.sign(request)
    return request


def _verify(
    request: httpx.Request,
    *,
    now: datetime = T0,
    headers: list[tuple[bytes, bytes]] | None = None,
    method: str | None = None,
    raw: bytes | None = None,
) -> str:
    path, _, query = (raw or request.url.raw_path).partition(b"?")
    return verify(
        method or request.method,
        path,
        query,
        headers if headers is not None else request.headers.raw,
        lookup_secret={AK: SK}.get,
        now=now,
    )


def _replace_header(request: httpx.Request, name: bytes, value: bytes) -> list[tuple[bytes, bytes]]:
    return [(k, value if k.lower() == name else v) for k, v in request.headers.raw]


def _failure(
    request: httpx.Request,
    *,
    now: datetime = T0,
    headers: list[tuple[bytes, bytes]] | None = None,
    method: str | None = None,
    raw: bytes | None = None,
) -> BceAuthFailure:
    with pytest.raises(BceAuthFailure) as excinfo:
        _verify(request, now=now, headers=headers, method=method, raw=raw)
    assert SK not in str(excinfo.value)
    return excinfo.value


def test_verify_round_trip_with_token() -> None:
    request = _signed_request(security_token=TOKEN)
    assert _verify(request) == AK
    assert (
        "x-bce-security-token"
        in parse_authorization(request.headers["authorization"]).signed_headers
    )


def test_verify_accepts_sdk_default_signed_headers() -> None:
    """The SDK's own clients sign with an empty signedHeaders field (the default set)."""
    headers = {
        b"Host": b"bcc.bj.baidubce.com",
        b"Content-Type": b"application/json; charset=utf-8",
        b"Content-Length": b"2",
        b"x-bce-date": b"2024-01-02T03:04:05Z",
        b"x-bce-security-token": TOKEN.encode(),
        b"User-Agent": b"bce-sdk-python/0.9",
    }
    auth = sdk_sign(
        BceCredentials(AK, SK),
        b"PUT",
        b"/v2/instance/i-x",
        headers,
        {b"reboot": None},
        timestamp=int(T0.timestamp()),
    )
    assert b"/1800//" in auth
    pairs = [*headers.items(), (b"Authorization", auth)]
    assert (
        verify("PUT", b"/v2/instance/i-x", b"reboot=", pairs, lookup_secret={AK: SK}.get, now=T0)
        == AK
    )


def test_verify_rejects_tampered_signature() -> None:
    request = _signed_request()
    auth = request.headers["authorization"]
    flipped = auth[:-1] + ("0" if auth[-1] != "0" else "1")
    failure = _failure(
        request, headers=_replace_header(request, b"authorization", flipped.encode())
    )
    assert (failure.status, failure.code) == (400, "SignatureDoesNotMatch")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"host", b"bcc.gz.baidubce.com"),
        (b"x-bce-extra", b"2"),
        (b"content-type", b"text/plain"),
        (b"x-bce-date", b"2024-01-02T03:04:06Z"),
    ],
)
def test_verify_rejects_tampered_header(name: bytes, value: bytes) -> None:
    request = _signed_request()
    failure = _failure(request, headers=_replace_header(request, name, value))
    assert (failure.status, failure.code) == (400, "SignatureDoesNotMatch")


def test_verify_rejects_added_signed_header_when_default_set() -> None:
    headers = {b"Host": b"h.example", b"x-bce-date": b"2024-01-02T03:04:05Z"}
    auth = compute_authorization(AK, SK, "GET", "/x", "", headers, timestamp=T0, signed_headers=[])
    pairs = [*headers.items(), (b"x-bce-injected", b"1"), (b"authorization", auth.encode())]
    with pytest.raises(BceAuthFailure) as excinfo:
        verify("GET", "/x", "", pairs, lookup_secret={AK: SK}.get, now=T0)
    assert excinfo.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    ("method", "raw"),
    [
        ("POST", None),
        (None, b"/v2/instance/batchDelIp?clientToken=abc"),
        (None, b"/v2/instance/batchAddIp?clientToken=abd"),
        (None, b"/v2/instance/batchAddIp?clientToken=abc&x=1"),
    ],
)
def test_verify_rejects_tampered_request_line(method: str | None, raw: bytes | None) -> None:
    failure = _failure(_signed_request(), method=method, raw=raw)
    assert (failure.status, failure.code) == (400, "SignatureDoesNotMatch")


def test_verify_rejects_unknown_access_key() -> None:
    request = httpx.Request("GET", "http://h.example/x")
    BceSigner("someone-else", SK, clock=lambda: T0).sign(request)
    failure = _failure(request)
    assert (failure.status, failure.code) == (403, "InvalidAccessKeyId")
    assert failure.message == "The Access Key ID you provided does not exist in our records."


def test_verify_expiry_and_skew() -> None:
    request = _signed_request(expiration_seconds=60)
    assert _verify(request, now=T0 + timedelta(seconds=60)) == AK
    failure = _failure(request, now=T0 + timedelta(seconds=61))
    assert (failure.status, failure.code) == (400, "RequestExpired")
    assert failure.message == "Request has expired. Timestamp date is 2024-01-02T03:04:05Z."
    assert _verify(request, now=T0 - timedelta(seconds=1800)) == AK
    failure = _failure(request, now=T0 - timedelta(seconds=1801))
    assert (failure.status, failure.code) == (400, "RequestExpired")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Bearer abc",
        "bce-auth-v1/ak/2024-01-02T03:04:05Z/1800/host",
        "bce-auth-v2/ak/2024-01-02T03:04:05Z/1800/host/" + "0" * 64,
        "bce-auth-v1//2024-01-02T03:04:05Z/1800/host/" + "0" * 64,
        "bce-auth-v1/ak/2024-01-02 03:04:05/1800/host/" + "0" * 64,
        "bce-auth-v1/ak/2024-13-02T03:04:05Z/1800/host/" + "0" * 64,
        "bce-auth-v1/ak/2024-01-02T03:04:05Z/-5/host/" + "0" * 64,
        "bce-auth-v1/ak/2024-01-02T03:04:05Z/1800/host;;x-bce-date/" + "0" * 64,
        "bce-auth-v1/ak/2024-01-02T03:04:05Z/1800/host/" + "0" * 63,
        "bce-auth-v1/ak/2024-01-02T03:04:05Z/1800/host/" + "G" * 64,
        "bce-auth-v1/ak/2024-01-02T03:04:05Z/1800/host/" + "0" * 64 + "/x",
    ],
)
def test_verify_rejects_malformed_header(value: str) -> None:
    pairs = [(b"host", b"h.example"), (b"authorization", value.encode())]
    with pytest.raises(BceAuthFailure) as excinfo:
        verify("GET", "/x", "", pairs, lookup_secret={"ak": SK}.get, now=T0)
    assert (excinfo.value.status, excinfo.value.code) == (400, "InvalidHTTPAuthHeader")


def test_verify_rejects_missing_or_non_ascii_header() -> None:
    for pairs in ([(b"host", b"h.example")], [(b"authorization", "bce-auth-v1/ä".encode())]):
        with pytest.raises(BceAuthFailure) as excinfo:
            verify("GET", "/x", "", pairs, lookup_secret={AK: SK}.get, now=T0)
        assert excinfo.value.code == "InvalidHTTPAuthHeader"
