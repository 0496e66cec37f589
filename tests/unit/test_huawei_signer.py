"""Oracle tests of the Huawei SDK-HMAC-SHA256 signer against the vendor SDK, and of verify().

The oracle is ``huaweicloudsdkcore``: ``BasicCredentials.sign_request`` (it adds
``X-Project-Id`` and ``X-Security-Token``, then runs ``Signer.sign``). Our signer is driven
through a real ``httpx.Request`` and ``auth_flow`` with a fixed clock; the SDK gets the same
request as it would build it (the path as sent, the query as decoded pairs, the headers the
caller set) and both Authorization headers must be equal byte for byte.

Known SDK quirks, mirrored on purpose: a ``Content-Type`` other than JSON/BSON makes the SDK
send and sign ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` (the body is then not hashed);
query pairs are sorted on their decoded form, then encoded. The SDK only spots the
``Content-Type`` key spelled exactly so; we match it case-insensitively (HTTP semantics),
so the generator always spells it ``Content-Type``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import string
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from pulumi_batchip.huawei import signer as hs
from pulumi_batchip.huawei.signer import HuaweiAuthFailure, HuaweiSigner, verify

AK = "HPUAEXAMPLEAK1234567"
SK = "sEcReT-kEy-ExAmPlE-0123456789abcdefghij"
TOKEN = "gQpjbi1ub3J0aC00-TEMPORARY-SECURITY-TOKEN-xyz"
PROJECT = "0123456789abcdef0123456789abcdef"
FIXED = datetime(2024, 5, 17, 8, 30, 12, tzinfo=timezone.utc)
FIXED_STR = "20240517T083012Z"
ORACLE_CASES = 600


def _fixed_clock() -> datetime:
    return FIXED


def _sign(request: httpx.Request, signer: HuaweiSigner) -> httpx.Request:
    """Run the signer's auth_flow the way httpx does."""
    flow = signer.auth_flow(request)
    sent = next(flow)
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200))
    return sent


def _wire(request: httpx.Request) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """What a server receives: raw path, raw query, headers (UTF-8), body."""
    path, _, query = request.url.raw_path.decode("ascii").partition("?")
    headers = [
        (name.decode("latin-1"), value.decode("utf-8", "surrogateescape"))
        for name, value in request.headers.raw
    ]
    return path, query, headers, request.content


def _lookup(ak: str) -> str | None:
    return SK if ak == AK else None


# --- generated oracle cases --------------------------------------------------------------

_SEGMENT_CHARS = string.ascii_letters + string.digits + "-._~ !$&'()*+,;=:@%?#/" + "üé中文€ß"
_QUERY_CHARS = string.ascii_letters + string.digits + "-._~ +=&%/?#!*'();:@,$[]" + "äö中€"
_HEADER_VALUE_CHARS = string.ascii_letters + string.digits + " -_.,;:=/()\"'!?" + "ü中"
_REPEATED_KEYS = ["a", "b", "key", "ä", "x y", "k+1", "", "Z", "a~", "a b"]
_EXTRA_HEADERS = [
    "X-Custom",
    "X-Request-Id",
    "Accept",
    "User-Agent",
    "X-Trace_Id",  # '_' in the name: the SDK does not sign it, neither do we
    "X-Language",
    "If-Match",
    "X-Empty",
    "X-Sdk-Trace",
]
_CONTENT_TYPES = [
    None,
    "application/json",
    "application/json;charset=UTF-8",
    "application/bson",
    "text/plain",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
]
_HOSTS = [
    ("https", "vpc.cn-north-4.myhuaweicloud.com"),
    ("https", "vpc.ap-southeast-1.myhuaweicloud.com:8443"),
    ("http", "127.0.0.1:38211"),
]


def _text(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def _segment(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.05:
        return rng.choice([".", ".."])  # httpx normalises them away before sending
    seg = _text(rng, _SEGMENT_CHARS, 0 if roll < 0.1 else 1, 8)
    if rng.random() < 0.6:
        return quote(seg, safe=rng.choice(["", "~", "!$&'()*+,;=:@", "~!$'()*,;:@"]))
    # Leave spaces and non-ASCII raw for httpx to encode; escape only what would end the path.
    for ch, enc in (("%", "%25"), ("?", "%3F"), ("#", "%23"), ("/", "%2F")):
        seg = seg.replace(ch, enc)
    return seg


def _query(rng: random.Random) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """(params for httpx, query_params for the SDK)."""
    pairs: list[tuple[str, Any]] = []
    for _ in range(rng.choice([0, 0, 1, 2, 3, 5, 8])):
        key = rng.choice(_REPEATED_KEYS) if rng.random() < 0.6 else _text(rng, _QUERY_CHARS, 1, 6)
        value = "" if rng.random() < 0.25 else _text(rng, _QUERY_CHARS, 1, 10)
        pairs.append((key, value))
    if rng.random() < 0.2:
        pairs.append(("limit", rng.randint(0, 1000)))
    if rng.random() < 0.2:
        pairs.append(("flag", rng.choice([True, False])))
    rng.shuffle(pairs)
    sdk: list[tuple[str, Any]] = list(pairs)
    if rng.random() < 0.5:
        # Same pairs as the SDK's list values: one entry per key, values unsorted.
        grouped: dict[str, list[Any]] = {}
        for key, value in pairs:
            grouped.setdefault(key, []).append(value)
        sdk = [
            # (the SDK turns a bool inside a list into "False", so scalars stay scalars)
            (
                key,
                values if len(values) > 1 or (rng.random() < 0.3 and key != "flag") else values[0],
            )
            for key, values in grouped.items()
        ]
    return pairs, sdk


def _body(rng: random.Random, content_type: str | None) -> bytes:
    roll = rng.random()
    if roll < 0.3:
        return b""
    if roll < 0.6 or (content_type or "").startswith("application/json"):
        doc = {
            "publicip": {"type": "5_bgp", "count": rng.randint(1, 50)},
            "bandwidth": {"name": _text(rng, _HEADER_VALUE_CHARS, 0, 12), "size": 5},
        }
        return json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode("utf-8")
    if roll < 0.8:
        return rng.randbytes(rng.randint(1, 64))
    return _text(rng, _QUERY_CHARS, 1, 40).encode("utf-8")


def _case(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    scheme, host = rng.choice(_HOSTS)
    segments = [_segment(rng) for _ in range(rng.randint(0, 5))]
    path = "/" + "/".join(segments)
    if rng.random() < 0.3 and not path.endswith("/"):
        path += "/"
    content_type = rng.choice(_CONTENT_TYPES)
    extra: dict[str, str] = {}
    for name in rng.sample(_EXTRA_HEADERS, rng.randint(0, 4)):
        value = _text(rng, _HEADER_VALUE_CHARS, 0, 16)
        if rng.random() < 0.3:
            value = rng.choice([" ", "  ", "\t"]) + value + rng.choice(["", " ", "\t "])
        extra[name] = value
    params, sdk_query = _query(rng)
    return {
        "method": rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "post"]),
        "url": f"{scheme}://{host}{path}",
        "scheme": scheme,
        "params": params,
        "sdk_query": sdk_query,
        "content_type": content_type,
        "extra": extra,
        "body": _body(rng, content_type),
        "project_id": PROJECT if rng.random() < 0.5 else None,
        "token": TOKEN + str(seed) if rng.random() < 0.4 else None,
    }


@pytest.mark.parametrize("seed", range(ORACLE_CASES))
def test_authorization_matches_sdk(seed: int) -> None:
    case = _case(seed)
    headers: list[tuple[str, str | bytes]] = []
    if case["content_type"]:
        headers.append(("Content-Type", case["content_type"]))
    headers += [(name, value.encode("utf-8")) for name, value in case["extra"].items()]
    request = httpx.Request(
        case["method"],
        case["url"],
        params=case["params"] or None,
        headers=headers,
        content=case["body"],
    )
    path_before = request.url.raw_path.partition(b"?")[0]
    signer = HuaweiSigner(
        AK, SK, security_token=case["token"], project_id=case["project_id"], clock=_fixed_clock
    )
    sent = _sign(request, signer)
    wire_path, wire_query, wire_headers, body = _wire(sent)
    assert wire_path.encode("ascii") == path_before  # the signer never touches the path

    header_params = {"X-Sdk-Date": FIXED_STR}
    if case["content_type"]:
        header_params["Content-Type"] = case["content_type"]
    header_params.update(case["extra"])
    sdk_request = SdkRequest(
        method=case["method"],
        schema=case["scheme"],
        host=sent.headers["Host"],
        resource_path=wire_path,
        query_params=case["sdk_query"],
        header_params=header_params,
        body=case["body"],
    )
    credentials = BasicCredentials(AK, SK, case["project_id"])
    if case["token"]:
        credentials.with_security_token(case["token"])
    credentials.sign_request(sdk_request)
    sdk_headers = sdk_request.header_params

    assert sent.headers["Authorization"] == sdk_headers["Authorization"]
    # What is signed is what is sent: same target, same values for every signed header.
    assert sent.url.raw_path.decode("ascii") == sdk_request.uri
    signed = hs.parse_authorization(sdk_headers["Authorization"]).signed_headers
    sdk_by_name = {name.lower(): value for name, value in sdk_headers.items()}
    for name in signed:
        assert _raw_values(sent.headers, name) == [sdk_by_name[name].encode("latin-1")]
    ours = {name.lower() for name, _ in wire_headers} - {"content-length"}
    assert ours == set(sdk_by_name)

    # Both our request and the SDK's pass verification.
    assert verify(case["method"], wire_path, wire_query, wire_headers, body, **_VERIFY) == AK
    sdk_path, _, sdk_query = sdk_request.uri.partition("?")
    sdk_wire = [
        (name, value.encode("latin-1").decode("utf-8")) for name, value in sdk_headers.items()
    ]
    assert verify(case["method"], sdk_path, sdk_query, sdk_wire, body, **_VERIFY) == AK


def _raw_values(headers: httpx.Headers, name: str) -> list[bytes]:
    return [v for k, v in headers.raw if k.lower() == name.encode("ascii")]


_VERIFY: dict[str, Any] = {"lookup_secret": _lookup, "now": FIXED}


@pytest.mark.parametrize(
    "resource_path",
    [
        "/",
        "/v1/abc",
        "/v1/abc/",
        "/v1/a b/ü/中文",
        "/v1/%E4%B8%AD/x%2Fy/",
        "/v1/%zz/100%/%25",
        "/v1/~tilde/%7E/a+b/a%2Bb",
        "//double//slash",
        "/v2.0/0123/publicips/resource_instances/action",
    ],
)
def test_canonical_uri_matches_sdk(resource_path: str) -> None:
    request = SdkRequest(resource_path=resource_path)
    assert hs.canonical_uri(resource_path) == Signer(
        BasicCredentials(AK, SK)
    )._process_canonical_uri(request)


def test_canonical_query_matches_sdk_on_raw_pairs() -> None:
    rng = random.Random(7)
    for _ in range(200):
        pairs = [
            (rng.choice(_REPEATED_KEYS), _text(rng, _QUERY_CHARS, 0, 6))
            for _ in range(rng.randint(0, 6))
        ]
        expected = Signer._process_canonical_query_string(SdkRequest(query_params=list(pairs)))
        assert hs.canonical_query(pairs) == expected


# --- pure building blocks ---------------------------------------------------------------


def test_building_blocks() -> None:
    assert hs.canonical_uri("") == "/"
    assert hs.canonical_uri("/v1/x") == "/v1/x/"
    assert hs.parse_query("b=2&a&&c=x+y&d=%2B&=v") == [
        ("b", "2"),
        ("a", ""),
        ("c", "x y"),
        ("d", "+"),
        ("", "v"),
    ]
    assert hs.canonical_query(hs.parse_query("b=2&a&&c=x+y&a=0")) == "a=&a=0&b=2&c=x%20y"
    assert hs.payload_hash(b"") == hs.EMPTY_BODY_SHA256 == hashlib.sha256(b"").hexdigest()
    assert hs.payload_hash(b"", hs.UNSIGNED_PAYLOAD) == hs.EMPTY_BODY_SHA256
    assert hs.payload_hash(b"x", hs.UNSIGNED_PAYLOAD) == hs.UNSIGNED_PAYLOAD
    assert hs.uses_unsigned_payload("text/plain")
    assert not hs.uses_unsigned_payload("application/json; charset=utf-8")
    assert not hs.uses_unsigned_payload(None)
    assert not hs.uses_unsigned_payload("")
    headers = hs.normalize_headers([("Host", " h "), ("X-A", "1"), ("x-a", " 2"), ("X_B", "3")])
    assert headers == {"host": "h", "x-a": "1,2", "x_b": "3"}
    assert hs.signed_header_names({**headers, "content-length": "1"}) == ["host", "x-a"]
    assert hs.canonical_headers(headers, ["host", "x-a"]) == "host:h\nx-a:1,2\n"
    request_text = hs.canonical_request("get", "/a/", "", "host:h\n", ["host"], "e3")
    assert request_text == "GET\n/a/\n\nhost:h\n\nhost\ne3"
    assert hs.format_sdk_date(datetime(2024, 1, 2, 11, 4, 5, tzinfo=timezone(timedelta(hours=8))))
    assert hs.format_sdk_date(FIXED) == FIXED_STR
    assert hs.parse_sdk_date(FIXED_STR) == FIXED
    for bad in ["2024-05-17T08:30:12Z", "20240517T0830Z", "2024517T083012Z", "x"]:
        with pytest.raises(ValueError):
            hs.parse_sdk_date(bad)
    with pytest.raises(ValueError):
        hs.format_sdk_date(datetime(2024, 1, 1))


def test_date_is_utc_whatever_the_clock_zone() -> None:
    local = FIXED.astimezone(timezone(timedelta(hours=8)))
    sent = _sign(httpx.Request("GET", "https://h/x"), HuaweiSigner(AK, SK, clock=lambda: local))
    assert sent.headers["X-Sdk-Date"] == FIXED_STR


def test_known_vector() -> None:
    """A fixed request, signed independently of the SDK code paths above."""
    request = httpx.Request(
        "POST",
        "https://vpc.cn-north-4.myhuaweicloud.com/v2.0/" + PROJECT + "/batchpublicips",
        content=b'{"publicip":{"type":"5_bgp"}}',
        headers={"Content-Type": "application/json"},
    )
    sent = _sign(request, HuaweiSigner(AK, SK, project_id=PROJECT, clock=_fixed_clock))
    canonical = "\n".join(
        [
            "POST",
            f"/v2.0/{PROJECT}/batchpublicips/",
            "",
            "content-type:application/json\n"
            "host:vpc.cn-north-4.myhuaweicloud.com\n"
            f"x-project-id:{PROJECT}\n"
            f"x-sdk-date:{FIXED_STR}\n",
            "content-type;host;x-project-id;x-sdk-date",
            hashlib.sha256(b'{"publicip":{"type":"5_bgp"}}').hexdigest(),
        ]
    )
    to_sign = f"SDK-HMAC-SHA256\n{FIXED_STR}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    sig = hmac.new(SK.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    assert sent.headers["Authorization"] == (
        f"SDK-HMAC-SHA256 Access={AK}, "
        f"SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature={sig}"
    )


# --- the signer on real clients -----------------------------------------------------------


def test_signer_through_httpx_client_verifies_and_resigns() -> None:
    now = [FIXED]
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path, query, headers, body = _wire(request)
        seen.append(request.headers["X-Sdk-Date"])
        try:
            ak = verify(
                request.method, path, query, headers, body, lookup_secret=_lookup, now=now[0]
            )
        except HuaweiAuthFailure as exc:
            return httpx.Response(exc.status, json=exc.error_body("rid"))
        return httpx.Response(200, json={"ak": ak, "query": query})

    signer = HuaweiSigner(AK, SK, security_token=TOKEN, project_id=PROJECT, clock=lambda: now[0])
    with httpx.Client(transport=httpx.MockTransport(handler), auth=signer) as client:
        # Client defaults (Accept, Accept-Encoding, Connection, User-Agent) come along.
        response = client.post(
            "https://vpc.cn-north-4.myhuaweicloud.com/v1/p/publicips",
            params={"b": "x y", "a": ["2", "1"], "e": ""},
            json={"k": "中"},
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"ak": AK, "query": "a=1&a=2&b=x%20y&e="}
        # Re-sending the same request object re-signs it with the new time.
        now[0] = FIXED + timedelta(minutes=30)
        again = client.send(response.request)
        assert again.status_code == 200, again.text
    assert seen == [FIXED_STR, "20240517T090012Z"]
    assert again.request.headers.get_list("authorization") == [
        again.request.headers["authorization"]
    ]


def test_raw_query_is_sent_in_canonical_form() -> None:
    sent = _sign(
        httpx.Request("GET", "https://h/p/?b=2&a&&c=x+y&d=%7e%2b"),
        HuaweiSigner(AK, SK, clock=_fixed_clock),
    )
    assert sent.url.raw_path == b"/p/?a=&b=2&c=x%20y&d=~%2B"
    sent = _sign(httpx.Request("GET", "https://h/p?"), HuaweiSigner(AK, SK, clock=_fixed_clock))
    assert sent.url.raw_path == b"/p"


def test_unsigned_headers_are_not_signed() -> None:
    request = httpx.Request(
        "PUT",
        "https://h/x",
        content=b"{}",
        headers={
            "Content-Type": "application/json",
            "Accept-Encoding": "gzip",
            "Connection": "keep-alive",
            "X_Under": "v",
            "Authorization": "Bearer stale",
        },
    )
    sent = _sign(request, HuaweiSigner(AK, SK, clock=_fixed_clock))
    auth = hs.parse_authorization(sent.headers["Authorization"])
    assert auth.signed_headers == ("content-type", "host", "x-sdk-date")
    assert sent.headers.get_list("authorization") == [sent.headers["authorization"]]


# --- verify(): accepts and rejects --------------------------------------------------------


def _signed_request(**overrides: Any) -> httpx.Request:
    kwargs: dict[str, Any] = {
        "method": "POST",
        "url": "https://vpc.cn-north-4.myhuaweicloud.com/v2.0/p/publicips/resource_instances/action",
        "params": {"limit": "10", "marker": ""},
        "content": b'{"action":"filter","tags":[{"key":"k","values":["v"]}]}',
        "headers": {"Content-Type": "application/json;charset=UTF-8", "X_Trace": "t"},
    }
    kwargs.update(overrides)
    method, url = kwargs.pop("method"), kwargs.pop("url")
    signer = HuaweiSigner(AK, SK, security_token=TOKEN, project_id=PROJECT, clock=_fixed_clock)
    return _sign(httpx.Request(method, url, **kwargs), signer)


Wire = tuple[str, str, str, list[tuple[str, str]], bytes]


def _verify(wire: Wire, **kwargs: Any) -> str:
    options = {**_VERIFY, **kwargs}
    return verify(*wire, **options)


def _wire_of(request: httpx.Request) -> Wire:
    path, query, headers, body = _wire(request)
    return request.method, path, query, headers, body


def _set_header(wire: Wire, name: str, value: str | None) -> Wire:
    method, path, query, headers, body = wire
    kept = [(k, v) for k, v in headers if k.lower() != name.lower()]
    if value is not None:
        kept.append((name, value))
    return method, path, query, kept, body


def _expect(wire: Wire, status: int, code: str, **kwargs: Any) -> HuaweiAuthFailure:
    with pytest.raises(HuaweiAuthFailure) as info:
        _verify(wire, **kwargs)
    failure = info.value
    assert (failure.status, failure.code) == (status, code)
    for secret in (SK, TOKEN):
        assert secret not in str(failure)
        assert secret not in failure.message
        assert secret not in repr(failure)
    return failure


def test_verify_round_trip() -> None:
    wire = _wire_of(_signed_request())
    assert _verify(wire) == AK
    # A mapping of headers works as well as pairs.
    method, path, query, headers, body = wire
    assert verify(method, path, query, dict(headers), body, **_VERIFY) == AK


def test_verify_tolerates_changes_to_unsigned_headers() -> None:
    wire = _wire_of(_signed_request())
    wire = _set_header(wire, "Content-Length", "999")
    wire = _set_header(wire, "X_Trace", "other")
    wire = _set_header(wire, "Accept-Encoding", "br")
    wire = _set_header(wire, "X-Unsigned-Extra", "added in transit")
    assert _verify(wire) == AK


def test_verify_skew_window() -> None:
    wire = _wire_of(_signed_request())
    assert _verify(wire, now=FIXED + timedelta(seconds=899)) == AK
    assert _verify(wire, now=FIXED - timedelta(seconds=900)) == AK
    for delta in (901, -901, 86400):
        failure = _expect(wire, 401, "APIGW.0303", now=FIXED + timedelta(seconds=delta))
        assert "signature expired" in failure.message
        assert FIXED_STR in failure.message
    assert _verify(wire, now=FIXED + timedelta(seconds=1000), max_skew_seconds=1200) == AK


@pytest.mark.parametrize(
    "tamper",
    [
        "signature",
        "body",
        "project",
        "token",
        "host",
        "content-type",
        "query",
        "query-order-value",
        "path",
        "trailing-slash",
        "method",
        "wrong-sk",
        "uppercase-signature",
        "drop-signed-header",
    ],
)
def test_verify_rejects_tampering(tamper: str) -> None:
    method, path, query, headers, body = _wire_of(_signed_request())
    wire: Wire = (method, path, query, headers, body)
    auth = dict((k.lower(), v) for k, v in headers)["authorization"]
    kwargs: dict[str, Any] = {}
    if tamper == "signature":
        last = auth[-1]
        wire = _set_header(wire, "Authorization", auth[:-1] + ("0" if last != "0" else "1"))
    elif tamper == "body":
        wire = (method, path, query, headers, body.replace(b'"v"', b'"w"'))
    elif tamper == "project":
        wire = _set_header(wire, "X-Project-Id", "f" * 32)
    elif tamper == "token":
        wire = _set_header(wire, "X-Security-Token", TOKEN + "x")
    elif tamper == "host":
        wire = _set_header(wire, "Host", "vpc.cn-east-3.myhuaweicloud.com")
    elif tamper == "content-type":
        wire = _set_header(wire, "Content-Type", "application/json")
    elif tamper == "query":
        wire = (method, path, query.replace("limit=10", "limit=11"), headers, body)
    elif tamper == "query-order-value":
        wire = (method, path, query + "&limit=10", headers, body)
    elif tamper == "path":
        wire = (method, path.replace("/p/", "/q/"), query, headers, body)
    elif tamper == "trailing-slash":
        wire = (method, path + "/x", query, headers, body)
    elif tamper == "method":
        wire = ("PUT", path, query, headers, body)
    elif tamper == "wrong-sk":
        kwargs["lookup_secret"] = lambda ak: SK + "x"
    elif tamper == "uppercase-signature":
        head, _, sig = auth.rpartition("=")
        wire = _set_header(wire, "Authorization", head + "=" + sig.upper())
    elif tamper == "drop-signed-header":
        wire = _set_header(wire, "X-Project-Id", None)
    failure = _expect(wire, 401, "APIGW.0301", **kwargs)
    assert failure.message.startswith("Incorrect IAM authentication information")


def test_verify_unknown_access_key() -> None:
    wire = _wire_of(_signed_request())
    failure = _expect(wire, 401, "APIGW.0301", lookup_secret=lambda ak: None)
    assert AK in failure.message
    assert failure.error_body("rid") == {
        "error_code": "APIGW.0301",
        "error_msg": failure.message,
        "request_id": "rid",
    }


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer abc",
        "SDK-HMAC-SM3 Access=AK, SignedHeaders=host;x-sdk-date, Signature=00",
        f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;x-sdk-date",
        f"SDK-HMAC-SHA256 Access={AK}, Signature=00",
        f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;;x-sdk-date, Signature=00",
        f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;x-sdk-date, Signature=xyz",
        "SDK-HMAC-SHA256 Access=, SignedHeaders=host;x-sdk-date, Signature=00",
    ],
)
def test_verify_rejects_bad_authorization(authorization: str | None) -> None:
    wire = _set_header(_wire_of(_signed_request()), "Authorization", authorization)
    _expect(wire, 401, "APIGW.0301")


@pytest.mark.parametrize("date", [None, "", "2024-05-17T08:30:12Z", "20240517T083012", "garbage"])
def test_verify_rejects_missing_or_bad_date(date: str | None) -> None:
    wire = _set_header(_wire_of(_signed_request()), "X-Sdk-Date", date)
    _expect(wire, 401, "APIGW.0303")


def _hand_signed(signed: list[str], headers: dict[str, str], body: bytes = b"") -> Wire:
    """A request signed with the building blocks, choosing the signed headers freely."""
    normalized = hs.normalize_headers(headers)
    request_text = hs.canonical_request(
        "GET",
        hs.canonical_uri("/v1/x"),
        "",
        hs.canonical_headers(normalized, signed),
        signed,
        hs.payload_hash(body, normalized.get("x-sdk-content-sha256")),
    )
    sig = hs.signature(SK, hs.string_to_sign(FIXED_STR, request_text))
    wire_headers = [*headers.items(), ("Authorization", hs.authorization_header(AK, signed, sig))]
    return "GET", "/v1/x", "", wire_headers, body


def test_verify_requires_host_and_date_signed() -> None:
    headers = {"Host": "h", "X-Sdk-Date": FIXED_STR, "X-A": "1"}
    assert _verify(_hand_signed(["host", "x-a", "x-sdk-date"], headers)) == AK
    _expect(_hand_signed(["x-a", "x-sdk-date"], headers), 401, "APIGW.0301")
    _expect(_hand_signed(["host", "x-a"], headers), 401, "APIGW.0301")


def test_verify_content_sha256_header() -> None:
    base = {"Host": "h", "X-Sdk-Date": FIXED_STR, "Content-Type": "text/plain"}
    names = ["content-type", "host", "x-sdk-content-sha256", "x-sdk-date"]
    # UNSIGNED-PAYLOAD (what the SDK sends for non-JSON bodies): the body is not covered.
    unsigned = _hand_signed(names, {**base, "X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"}, b"abc")
    assert _verify(unsigned) == AK
    method, path, query, headers, _ = unsigned
    assert _verify((method, path, query, headers, b"tampered")) == AK
    # A claimed digest must be the body's.
    digest = hashlib.sha256(b"abc").hexdigest()
    claimed = _hand_signed(names, {**base, "X-Sdk-Content-Sha256": digest}, b"abc")
    assert _verify(claimed) == AK
    method, path, query, headers, _ = claimed
    _expect((method, path, query, headers, b"abd"), 401, "APIGW.0301")
    lying = _hand_signed(names, {**base, "X-Sdk-Content-Sha256": "0" * 64}, b"abc")
    _expect(lying, 401, "APIGW.0301")


def test_text_body_is_sent_unsigned_payload_like_the_sdk() -> None:
    sent = _signed_request(headers={"Content-Type": "text/plain"}, content=b"hello")
    assert sent.headers["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert "x-sdk-content-sha256" in hs.parse_authorization(sent.headers["Authorization"])[1]
    assert _verify(_wire_of(sent)) == AK


# --- secrets stay secret -----------------------------------------------------------------


def test_secrets_never_in_repr_or_errors() -> None:
    signer = HuaweiSigner(AK, SK, security_token=TOKEN, project_id=PROJECT)
    text = repr(signer) + str(signer)
    assert AK not in text
    assert SK not in text
    assert TOKEN not in text
    for bad in [("", SK), (AK, "")]:
        with pytest.raises(ValueError) as info:
            HuaweiSigner(*bad)
        assert SK not in str(info.value)


def test_naive_clock_is_refused() -> None:
    signer = HuaweiSigner(AK, SK, clock=lambda: datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        _sign(httpx.Request("GET", "https://h/"), signer)
