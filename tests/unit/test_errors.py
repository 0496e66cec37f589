"""Error decoding: every body shape of both vendors, and how errors read."""

from __future__ import annotations

import json

import httpx
import pytest

from pulumi_batchip.errors import (
    AuthError,
    ClientError,
    CloudApiError,
    NotFoundError,
    ServerError,
    ThrottledError,
    TransportError,
    code_is,
    decode_bce_error,
    decode_huawei_error,
)


def _resp(status: int, body: bytes | str, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return httpx.Response(status, content=content, headers=headers or {})


def test_huawei_message_reads_well() -> None:
    err = decode_huawei_error(
        "BatchCreatePublicips",
        _resp(409, '{"code": "VPC.0521", "message": "quota exceeded"}', {"X-Request-Id": "r-1"}),
    )
    assert str(err) == (
        'Huawei EIP BatchCreatePublicips failed: HTTP 409 VPC.0521 "quota exceeded" '
        "(request id r-1)"
    )
    assert isinstance(err, ClientError)
    assert (err.cloud, err.operation, err.status, err.code, err.request_id) == (
        "Huawei EIP",
        "BatchCreatePublicips",
        409,
        "VPC.0521",
        "r-1",
    )


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ('{"code": "VPC.0504", "message": "not found"}', "VPC.0504", "not found"),
        ('{"error_code": "EIP.7901", "error_msg": "bad body"}', "EIP.7901", "bad body"),
        (
            '{"error": {"code": "VPC.0501", "message": "invalid"}, "request_id": "b-9"}',
            "VPC.0501",
            "invalid",
        ),
        ('{"error": {"error_code": "APIGW.0301", "error_msg": "x"}}', "APIGW.0301", "x"),
    ],
)
def test_huawei_body_shapes(body: str, code: str, message: str) -> None:
    err = decode_huawei_error("ShowPublicip", _resp(400, body))
    assert (err.code, err.message) == (code, message)


def test_huawei_gateway_throttle_uses_body_request_id_and_retry_after() -> None:
    err = decode_huawei_error(
        "ListPublicips",
        _resp(
            429,
            '{"error_code": "APIGW.0308", "error_msg": "throttled", "request_id": "gw-7"}',
            {"Retry-After": "3"},
        ),
    )
    assert isinstance(err, ThrottledError)
    assert err.retryable
    assert err.request_id == "gw-7"
    assert err.retry_after == 3.0


def test_huawei_busy_is_retryable_server_error() -> None:
    err = decode_huawei_error("DeletePublicip", _resp(409, '{"code":"VPC.0512","message":"busy"}'))
    assert isinstance(err, ServerError)
    assert err.retryable


def test_huawei_not_found_code() -> None:
    err = decode_huawei_error("ShowPublicip", _resp(404, '{"code":"VPC.0504","message":"gone"}'))
    assert isinstance(err, NotFoundError)
    assert not err.retryable


def test_bce_body_and_header_request_id() -> None:
    err = decode_bce_error(
        "BatchAddIp",
        _resp(
            400,
            '{"requestId": "body-id", "code": "PrivateIpInUseException", "message": "in use"}',
            {"x-bce-request-id": "hdr-id"},
        ),
    )
    assert err.request_id == "hdr-id"
    assert str(err) == (
        'Baidu BCC BatchAddIp failed: HTTP 400 PrivateIpInUseException "in use" (request id hdr-id)'
    )


def test_bce_request_id_from_body_when_header_missing() -> None:
    err = decode_bce_error("GetInstance", _resp(404, '{"requestId":"b","code":"NoSuchObject"}'))
    assert isinstance(err, NotFoundError)
    assert err.request_id == "b"
    assert err.message == "NoSuchObject"


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (429, None, ThrottledError),
        (400, "RateLimit", ThrottledError),
        (403, "InvalidAccessKeyId", AuthError),
        (401, None, AuthError),
        (500, "InternalError", ServerError),
        (502, None, ServerError),
        (409, "Instance.RebootInstanceOperationForbidden", ClientError),
    ],
)
def test_bce_classification(status: int, code: str | None, cls: type[CloudApiError]) -> None:
    body = json.dumps({"code": code, "message": "m"}) if code else "{}"
    assert type(decode_bce_error("Op", _resp(status, body))) is cls


@pytest.mark.parametrize("body", [b"<html>Bad Gateway</html>", b"", b"\xff\xfe", b"[1,2]"])
def test_non_json_bodies(body: bytes) -> None:
    err = decode_huawei_error("ShowPublicip", _resp(502, body))
    assert isinstance(err, ServerError)
    assert err.code is None
    assert err.message  # never empty: the raw text or the reason phrase
    assert "HTTP 502" in str(err)
    bce = decode_bce_error("GetInstance", _resp(503, body))
    assert isinstance(bce, ServerError)
    assert "(request id unknown)" in str(bce)


def test_transport_error_reads_well() -> None:
    err = TransportError(
        cloud="Huawei EIP", operation="BatchCreatePublicips", sent=True, cause="ReadTimeout"
    )
    assert str(err) == (
        "Huawei EIP BatchCreatePublicips failed: no response (ReadTimeout; outcome unknown)"
    )


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        # The Huawei SDK's exception handler reads these spellings too.
        ('{"errorCode": "VPC.0101", "errorMsg": "bad"}', "VPC.0101", "bad"),
        ('{"NeutronError": {"type": "x", "message": "neutron says no"}}', None, "neutron says no"),
        ('{"NeutronError": {"code": "VPC.0504", "message": "gone"}}', "VPC.0504", "gone"),
    ],
)
def test_huawei_more_body_shapes(body: str, code: str | None, message: str) -> None:
    err = decode_huawei_error("Op", _resp(400, body))
    assert err.code == code
    assert err.message == message


def test_two_nested_objects_are_not_guessed_between() -> None:
    err = decode_huawei_error("Op", _resp(400, '{"a": {"code": "X"}, "b": {"code": "Y"}}'))
    assert err.code is None


@pytest.mark.parametrize("code", ["ratelimit", "RATELIMIT", "RateLimit"])
def test_bce_codes_compare_without_case(code: str) -> None:
    err = decode_bce_error("Op", _resp(400, json.dumps({"code": code, "message": "slow"})))
    assert isinstance(err, ThrottledError)
    assert code_is("PrivateIpNotExistException", "PrivateIPNotExistException")
    assert not code_is(None, "X") and not code_is("Y", "X")
