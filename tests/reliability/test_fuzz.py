"""Property-based fuzzing.

1. ``check`` of both resources, in-process and through the engine's Check RPC, on
   arbitrary and nearly-valid inputs (unknowns, huge and non-finite numbers, wrong
   types, nesting): it only ever returns failures, never raises.
2. The emulator, over HTTP: malformed bodies (random JSON shapes, wrong types, huge
   numbers, non-UTF-8 bytes, deep nesting), query strings, path ids, and garbled or
   missing ``Authorization`` / ``x-bce-date`` / ``X-Sdk-Date``. Bodies are signed with
   our signers so the validation layer is reached; the auth layer gets unsigned and
   garbled ones. The answer is always the vendor's own error shape with a 4xx (or a
   success, when a random body happens to be valid), never a 5xx of its own making.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pulumi.output import Unknown

from pulumi_batchip.baidu.signer import BceSigner
from pulumi_batchip.eip_batch import EipBatchProvider
from pulumi_batchip.eip_batch import check_inputs as eip_check
from pulumi_batchip.emulator import (
    DEFAULT_BCE_CREDENTIALS,
    DEFAULT_HW_CREDENTIALS,
    DEFAULT_HW_PROJECT_ID,
    EmulatorConfig,
    RunningEmulator,
    start_emulator,
)
from pulumi_batchip.huawei.signer import HuaweiSigner
from pulumi_batchip.secondary_ip_set import SecondaryIpSetProvider
from pulumi_batchip.secondary_ip_set import check_inputs as sis_check

from ..engine.conftest import stack_config
from ..engine.harness import PROVIDER_KEY, UNKNOWN, ProviderError, ProviderProcess
from .lanes import EIP, EIP_TYPE, SIS, SIS_TYPE
from .results import RECORDER

[(BCE_AK, BCE_SK)] = DEFAULT_BCE_CREDENTIALS.items()
[(HW_AK, HW_SK)] = DEFAULT_HW_CREDENTIALS.items()
PROJECT = DEFAULT_HW_PROJECT_ID

FUZZ = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


# -- value strategies -----------------------------------------------------------------------
HUGE = st.sampled_from([2**63, -(2**63) - 1, 10**30, 10**400, -(10**400)])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | HUGE
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "",
            " ",
            "0",
            "1",
            "2.0",
            "true",
            "ipv4",
            "ipv6",
            "PER",
            "WHOLE",
            "5_bgp",
            "192.168.0.10",
            "2400:da00:e003:0:219::2f",
            "i-DhjUXmSA",
            "\u0000",
            "\U0001d4e4",
        ]
    )
)


def json_values(scalars: st.SearchStrategy[Any] = SCALARS) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=10,
    )


ANY_JSON = json_values()
# Provider inputs may also hold preview-time unknowns, anywhere.
WITH_UNKNOWNS = json_values(SCALARS | st.builds(Unknown))


def near(
    valid: dict[str, Any], values: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """A valid dict with some keys replaced by random values, some dropped, some added."""
    keys = sorted(valid)
    return st.builds(
        lambda changed, dropped, extra: {
            **{k: v for k, v in valid.items() if k not in dropped},
            **changed,
            **extra,
        },
        st.dictionaries(st.sampled_from(keys), values, max_size=3),
        st.sets(st.sampled_from(keys), max_size=2),
        st.dictionaries(st.text(max_size=8), values, max_size=1),
    )


SIS_KEYS = ["instance_id", "private_ips", "count", "ipv6", "reboot", "region"]
EIP_KEYS = [
    "count",
    "publicip_type",
    "ip_version",
    "bandwidth",
    "tags",
    "enterprise_project_id",
    "region",
    "project_id",
]
SIS_VALID = {"instance_id": "i-DhjUXmSA", "count": 2, "ipv6": False, "reboot": False}
EIP_VALID = {
    "count": 3,
    "publicip_type": "5_bgp",
    "ip_version": 4,
    "bandwidth": {"size": 5, "share_type": "PER", "charge_mode": "bandwidth", "name": "bw"},
    "tags": {"env": "prod"},
}


def sis_inputs_strategy(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return (
        st.dictionaries(st.sampled_from(SIS_KEYS), values, max_size=6)
        | near(SIS_VALID, values)
        | near({**SIS_VALID, "private_ips": ["192.168.0.10"], "count": None}, values)
        | st.builds(
            lambda ips: {**SIS_VALID, "count": None, "private_ips": ips},
            st.lists(values | st.ip_addresses().map(str), max_size=5),
        )
    )


def eip_inputs_strategy(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return (
        st.dictionaries(st.sampled_from(EIP_KEYS), values, max_size=8)
        | near(EIP_VALID, values)
        | st.builds(lambda bw: {**EIP_VALID, "bandwidth": bw}, near(EIP_VALID["bandwidth"], values))
        | st.builds(
            lambda tags: {**EIP_VALID, "tags": tags},
            st.dictionaries(st.text(max_size=40), values, max_size=10),
        )
    )


def _assert_failures_only(result: Any, keys: list[str]) -> None:
    for failure in result.failures:
        assert isinstance(failure.property, str) and failure.property
        assert isinstance(failure.reason, str) and failure.reason
        assert failure.property.split(".")[0] in keys, failure.property


# -- 1. check ------------------------------------------------------------------------------
@FUZZ
@given(sis_inputs_strategy(WITH_UNKNOWNS))
def test_secondary_ip_set_check_only_returns_failures(news: dict[str, Any]) -> None:
    RECORDER.count("fuzz", "check_inputs")
    result = SecondaryIpSetProvider().check({}, {k: v for k, v in news.items() if v is not None})
    _assert_failures_only(result, SIS_KEYS)
    sis_check(news)


@FUZZ
@given(eip_inputs_strategy(WITH_UNKNOWNS))
def test_eip_batch_check_only_returns_failures(news: dict[str, Any]) -> None:
    RECORDER.count("fuzz", "check_inputs")
    result = EipBatchProvider().check({}, {k: v for k, v in news.items() if v is not None})
    _assert_failures_only(result, EIP_KEYS)
    eip_check(news)


@FUZZ
@given(st.sampled_from([1, 1.0, 2.5, -1, 0, 10**400, math.nan, math.inf, True, "3", None]))
def test_counts_of_every_type_are_judged_not_crashed(count: Any) -> None:
    RECORDER.count("fuzz", "check_inputs")
    _, sis_failures = sis_check({**SIS_VALID, "count": count})
    _, eip_failures = eip_check({**EIP_VALID, "count": count})
    whole = (isinstance(count, int) and not isinstance(count, bool)) or (
        isinstance(count, float) and math.isfinite(count) and count.is_integer()
    )
    assert (not sis_failures) == (whole and count >= 1)  # no upper bound: BCC decides
    assert (not eip_failures) == (whole and 1 <= count <= 1000)


# Through the engine: values as the wire carries them (numbers are doubles, unknowns
# are the UNKNOWN sentinel), into the real provider server.
WIRE_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.just(UNKNOWN)
)
WIRE_VALUES = json_values(WIRE_SCALARS)


@pytest.fixture(scope="module")
def check_server() -> Iterator[ProviderProcess]:
    with ProviderProcess() as server:
        server.configure(stack_config("http://127.0.0.1:9"))
        yield server


@settings(FUZZ, max_examples=60)
@given(st.data())
def test_engine_check_rpc_never_errors(check_server: ProviderProcess, data: st.DataObject) -> None:
    for kind, type_token, strategy, keys in (
        (SIS, SIS_TYPE, sis_inputs_strategy(WIRE_VALUES), SIS_KEYS),
        (EIP, EIP_TYPE, eip_inputs_strategy(WIRE_VALUES), EIP_KEYS),
    ):
        news = {k: v for k, v in data.draw(strategy).items() if v is not None}
        news[PROVIDER_KEY] = kind.inputs(count=1)[PROVIDER_KEY]
        RECORDER.count("fuzz", "check_inputs")
        try:
            _inputs, failures = check_server.check(f"urn:pulumi:t::p::{type_token}::f", {}, news)
        except ProviderError as exc:  # pragma: no cover - the failure this test looks for
            pytest.fail(f"Check raised on {news!r}:\n{exc.details}")
        assert all(p.split(".")[0] in keys for p, _ in failures), failures


# -- 2. the emulator over HTTP -------------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz_emulator() -> Iterator[RunningEmulator]:
    with start_emulator(config=EmulatorConfig(job_seconds=0.0)) as running:
        yield running


@pytest.fixture(scope="module")
def http(fuzz_emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fuzz_emulator.url, timeout=10) as client:
        yield client


BCE = BceSigner(BCE_AK, BCE_SK)
HW = HuaweiSigner(HW_AK, HW_SK, project_id=PROJECT)


def assert_vendor_answer(response: httpx.Response, cloud: str, *, refused: bool = False) -> None:
    """A 4xx in the vendor's shape with its request id (or a 2xx if the input happened
    to be valid, unless ``refused``); never a 5xx of the emulator's own making."""
    status = response.status_code
    assert status < 500, f"HTTP {status}: {response.text[:500]}"
    if refused:
        assert 400 <= status < 500, f"HTTP {status}: {response.text[:300]}"
    if status < 400:
        return
    body = response.json()
    assert isinstance(body, dict), body
    if cloud == "bcc":
        assert {"requestId", "code", "message"} <= set(body), body
        assert response.headers.get("x-bce-request-id") == body["requestId"]
    else:
        assert {"code", "message"} <= set(body) or {"error_code", "error_msg"} <= set(body), body
        assert response.headers.get("X-Request-Id")


def _send(
    http: httpx.Client,
    cloud: str,
    method: str,
    url: str,
    content: bytes | None = None,
    *,
    auth: httpx.Auth | None = None,
    **kwargs: Any,
) -> httpx.Response:
    RECORDER.count("fuzz", f"emulator_{cloud}_requests")
    headers = kwargs.pop("headers", {})
    if content is not None:
        headers.setdefault("Content-Type", "application/json")
    return http.request(method, url, content=content, auth=auth, headers=headers, **kwargs)


def _body(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


RAW_BODIES = st.sampled_from(
    [
        b"",
        b" ",
        b"null",
        b"[]",
        b"{}",
        b"{",
        b'{"a":',
        b"\xff\xfe\x00",
        b"\xc3\x28",
        b"\xef\xbb\xbf{}",
        b"NaN",
        b"-Infinity",
        b"1e999",
        b"1" * 5000,
        b"[" * 100_000,
        b'{"a":' * 50_000,
        b'"\\ud800"',
        '{"instanceId": "i-DhjUXmSA\u0000"}'.encode(),
        b'{"publicip_number": 1e400}',
    ]
) | st.binary(max_size=200)

BCC_ROUTES = [
    ("PUT", "/v2/instance/batchAddIp?clientToken=fuzz"),
    ("PUT", "/v2/instance/batchDelIp"),
    ("PUT", "/v2/instance/i-DhjUXmSA?reboot"),
    ("GET", "/v2/instance/i-DhjUXmSA"),
]
BCC_FIELDS = [
    "instanceId",
    "privateIps",
    "secondaryPrivateIpAddressCount",
    "allocateMultiIpv6Addr",
    "forceStop",
]
BCC_VALID = {"instanceId": "i-DhjUXmSA", "privateIps": ["192.168.0.77"]}


@FUZZ
@given(
    st.sampled_from(BCC_ROUTES),
    st.one_of(
        ANY_JSON.map(_body),
        st.dictionaries(st.sampled_from(BCC_FIELDS), ANY_JSON, max_size=5).map(_body),
        near(BCC_VALID, ANY_JSON).map(_body),
        RAW_BODIES,
    ),
)
def test_bcc_signed_malformed_bodies(
    http: httpx.Client, route: tuple[str, str], body: bytes
) -> None:
    method, url = route
    # A random clientToken per body would replay nothing; a fixed one would answer
    # IdempotentParameterMismatch: both are vendor 4xx, as is a fresh token.
    response = _send(http, "bcc", method, url, body, auth=BCE)
    assert_vendor_answer(response, "bcc")


@FUZZ
@given(
    st.sampled_from(["GET", "PUT", "POST", "DELETE"]), st.text(max_size=40), st.text(max_size=30)
)
def test_bcc_signed_odd_paths_and_queries(
    http: httpx.Client, method: str, segment: str, query: str
) -> None:
    url = f"/v2/instance/{quote(segment, safe='')}?{quote(query, safe='=&')}"
    response = _send(http, "bcc", method, url, b"{}", auth=BCE)
    assert_vendor_answer(response, "bcc")


# What HTTP/1.1 lets through as a header value (h11 refuses the rest before sending):
# visible ASCII, obs-text (0x80-0xFF, i.e. not UTF-8 as such), inner spaces and tabs.
_LEGAL = bytes([9, *range(0x20, 0x7F), *range(0x80, 0x100)])
HEADER_TEXT = (
    st.binary(max_size=120)
    .map(lambda b: bytes(c for c in b if c in _LEGAL).strip(b" \t"))
    .filter(bool)
)
TIMESTAMPS = st.sampled_from(
    [
        "2024-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "2024-13-45T25:61:61Z",
        "2024-01-01T00:00:00",
        "now",
        "",
    ]
)


@st.composite
def bce_authorization(draw: st.DrawFn) -> bytes | None:
    kind = draw(st.sampled_from(["absent", "random", "structured"]))
    if kind == "absent":
        return None
    if kind == "random":
        return draw(HEADER_TEXT)
    fields = [
        draw(st.sampled_from(["bce-auth-v1", "bce-auth-v2", ""])),
        draw(st.sampled_from([BCE_AK, "unknown-ak", "", "a b"])),
        draw(TIMESTAMPS),
        str(draw(st.integers(min_value=0, max_value=10**40))),
        draw(st.sampled_from(["", "host", "host;x-bce-date", "Host;;", "h\u00e9"])),
        draw(st.sampled_from(["0" * 64, "f" * 64, "xyz", ""])),
    ]
    extra = draw(st.sampled_from(["", "/extra"]))
    return ("/".join(fields) + extra).encode("utf-8")


@FUZZ
@given(
    bce_authorization(),
    st.one_of(st.none(), HEADER_TEXT, TIMESTAMPS.map(str.encode)),
    st.sampled_from(BCC_ROUTES),
)
def test_bcc_garbled_authorization(
    http: httpx.Client, authorization: bytes | None, date: bytes | None, route: tuple[str, str]
) -> None:
    headers: dict[str, bytes] = {}
    if authorization is not None:
        headers["Authorization"] = authorization
    if date is not None:
        headers["x-bce-date"] = date
    method, url = route
    response = _send(http, "bcc", method, url, _body(BCC_VALID), headers=headers)
    assert_vendor_answer(response, "bcc", refused=True)


EIP_ROUTES = {
    "create": ("POST", f"/v2/{PROJECT}/batchpublicips"),
    "bulk_delete": ("DELETE", f"/v2/{PROJECT}/batchpublicips"),
    "by_tags": ("POST", f"/v2.0/{PROJECT}/publicips/resource_instances/action"),
    "tags": ("POST", f"/v2.0/{PROJECT}/publicips/no-such-eip/tags/action"),
    "job": ("GET", f"/v1/{PROJECT}/jobs/no-such-job"),
    "list": ("GET", f"/v1/{PROJECT}/publicips"),
    "show": ("GET", f"/v1/{PROJECT}/publicips/no-such-eip"),
    "delete": ("DELETE", f"/v1/{PROJECT}/publicips/no-such-eip"),
}
EIP_CREATE_VALID = {
    "publicip_number": 1,
    "publicip": {"type": "5_bgp", "ip_version": "ipv4", "tags": ["k*v"]},
    "bandwidth": {"size": 5, "share_type": "PER", "name": "bw", "charge_mode": "bandwidth"},
}
EIP_BODIES = {
    "create": st.one_of(
        near(EIP_CREATE_VALID, ANY_JSON),
        st.builds(
            lambda p: {**EIP_CREATE_VALID, "publicip": p},
            near(EIP_CREATE_VALID["publicip"], ANY_JSON),
        ),
        st.builds(
            lambda b: {**EIP_CREATE_VALID, "bandwidth": b},
            near(EIP_CREATE_VALID["bandwidth"], ANY_JSON),
        ),
    ),
    "bulk_delete": near({"publicip_ids": ["x"]}, ANY_JSON),
    "by_tags": near(
        {
            "action": "filter",
            "tags": [{"key": "k", "values": ["v"]}],
            "limit": 10,
            "offset": 0,
            "matches": [{"key": "resource_name", "value": "x"}],
        },
        ANY_JSON,
    ),
    "tags": st.one_of(
        near({"action": "create", "tags": [{"key": "k", "value": "v"}]}, ANY_JSON),
        near({"action": "delete", "tags": [{"key": "k"}]}, ANY_JSON),
        st.builds(lambda t: {"action": "create", "tags": t}, st.lists(ANY_JSON, max_size=3)),
    ),
}


@FUZZ
@given(
    st.sampled_from(sorted(EIP_ROUTES)),
    st.data(),
)
def test_eip_signed_malformed_bodies(http: httpx.Client, route: str, data: st.DataObject) -> None:
    method, url = EIP_ROUTES[route]
    shape = EIP_BODIES.get(route, st.dictionaries(st.text(max_size=8), ANY_JSON, max_size=3))
    body = data.draw(st.one_of(ANY_JSON.map(_body), shape.map(_body), RAW_BODIES))
    response = _send(http, "eip", method, url, body, auth=HW)
    assert_vendor_answer(response, "eip")


@pytest.mark.parametrize(
    "where",
    [("publicip", "type"), ("bandwidth", "share_type"), ("bandwidth", "charge_mode")],
    ids=lambda w: ".".join(w),
)
def test_eip_enum_fields_holding_lists_are_a_400(
    http: httpx.Client, where: tuple[str, str]
) -> None:
    body = json.loads(json.dumps(EIP_CREATE_VALID))
    body[where[0]][where[1]] = ["PER"]
    method, url = EIP_ROUTES["create"]
    assert_vendor_answer(_send(http, "eip", method, url, _body(body), auth=HW), "eip")


LIST_PARAMS = [
    "limit",
    "marker",
    "id",
    "ip_version",
    "port_id",
    "public_ip_address",
    "enterprise_project_id",
    "fields",
    "",
]
QUERY_VALUES = st.text(max_size=20) | st.sampled_from(
    ["-1", "0", "2001", "99999999999999999999999", "1e3", "4", "6", "7", "NaN", "٣"]
)


@FUZZ
@given(
    st.lists(st.tuples(st.sampled_from(LIST_PARAMS), QUERY_VALUES), max_size=5),
    st.text(max_size=40),
)
def test_eip_signed_odd_queries_and_ids(
    http: httpx.Client, params: list[tuple[str, str]], segment: str
) -> None:
    response = _send(http, "eip", "GET", f"/v1/{PROJECT}/publicips", auth=HW, params=params)
    assert_vendor_answer(response, "eip")
    odd = quote(segment, safe="") or "x"
    for method, url in (
        ("GET", f"/v1/{PROJECT}/publicips/{odd}"),
        ("GET", f"/v1/{PROJECT}/jobs/{odd}"),
        ("DELETE", f"/v1/{PROJECT}/publicips/{odd}"),
        ("GET", f"/v1/{odd}/publicips"),
    ):
        assert_vendor_answer(_send(http, "eip", method, url, auth=HW), "eip")


@st.composite
def hw_authorization(draw: st.DrawFn) -> bytes | None:
    kind = draw(st.sampled_from(["absent", "random", "structured"]))
    if kind == "absent":
        return None
    if kind == "random":
        return draw(HEADER_TEXT)
    algorithm = draw(st.sampled_from(["SDK-HMAC-SHA256", "SDK-HMAC-SHA1", "", "sdk-hmac-sha256"]))
    access = draw(st.sampled_from([HW_AK, "unknown", "", "é", "a,b"]))
    signed = draw(
        st.sampled_from(["host;x-sdk-date", "host", "", ";;", "x-sdk-date;host;x-missing"])
    )
    signature = draw(st.sampled_from(["0" * 64, "zz", ""]))
    header = f"{algorithm} Access={access}, SignedHeaders={signed}, Signature={signature}"
    return header.strip().encode()


SDK_DATES = st.sampled_from(
    [
        "20240101T000000Z",
        "99991231T235959Z",
        "00010101T000000Z",
        "20241345T256161Z",
        "2024-01-01T00:00:00Z",
        "",
    ]
)


@FUZZ
@given(
    hw_authorization(),
    st.one_of(st.none(), HEADER_TEXT, SDK_DATES.map(str.encode)),
    st.one_of(st.none(), HEADER_TEXT),
    st.sampled_from(sorted(EIP_ROUTES)),
)
def test_eip_garbled_authorization(
    http: httpx.Client,
    authorization: bytes | None,
    date: bytes | None,
    project: bytes | None,
    route: str,
) -> None:
    headers: dict[str, bytes] = {}
    for name, value in (
        ("Authorization", authorization),
        ("X-Sdk-Date", date),
        ("X-Project-Id", project),
    ):
        if value is not None:
            headers[name] = value
    method, url = EIP_ROUTES[route]
    response = _send(http, "eip", method, url, _body(EIP_CREATE_VALID), headers=headers)
    assert_vendor_answer(response, "eip", refused=True)


SIGNED_HEADERS = {"bcc": ("x-bce-date", "host"), "eip": ("x-sdk-date", "host")}


@FUZZ
@given(
    st.sampled_from(["bcc", "eip"]),
    HEADER_TEXT,
    st.sampled_from(["X-Sdk-Date", "x-bce-date", "Host", "Content-Type"]),
)
def test_validly_signed_then_a_header_garbled(
    http: httpx.Client, cloud: str, value: bytes, name: str
) -> None:
    """Sign a valid request, then change one header: when it was signed, the signature
    no longer matches (or the date is unreadable), and the answer says so."""
    method, url = BCC_ROUTES[3] if cloud == "bcc" else EIP_ROUTES["list"]
    signed = http.build_request(method, url)
    (BCE if cloud == "bcc" else HW).sign(signed)
    headers = [(k, v) for k, v in signed.headers.raw if k.decode().lower() != name.lower()]
    original = signed.headers.get(name, "").encode("latin-1")
    assume(value != original)
    request = httpx.Request(method, signed.url, headers=[*headers, (name.encode(), value)])
    RECORDER.count("fuzz", f"emulator_{cloud}_requests")
    refused = name.lower() in SIGNED_HEADERS[cloud]
    assert_vendor_answer(http.send(request), cloud, refused=refused)


def test_fuzz_counts_are_recorded() -> None:
    RECORDER.put("fuzz", "hypothesis_settings", {"max_examples": 200, "derandomize": True})
