"""The retry policy, driven through httpx.MockTransport with time mocked."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from pulumi_batchip.baidu.signer import BceSigner
from pulumi_batchip.errors import (
    AuthError,
    ClientError,
    ExpiredRequestError,
    ServerError,
    ThrottledError,
    TransportError,
    decode_bce_error,
    decode_huawei_error,
)
from pulumi_batchip.http import ApiCaller, RetryPolicy, new_http_client
from pulumi_batchip.huawei.signer import HuaweiSigner

from .fakes import FakeClock

Reply = Callable[[httpx.Request], httpx.Response]


def make_caller(
    replies: list[Reply | httpx.Response | Exception],
    *,
    huawei: bool = True,
    **policy: object,
) -> tuple[ApiCaller, FakeClock, list[httpx.Request]]:
    fake = FakeClock(now=0.0)
    seen: list[httpx.Request] = []
    queue = list(replies)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)

    client = new_http_client(
        base_url="https://api.test", auth=httpx.Auth(), transport=httpx.MockTransport(handler)
    )
    caller = ApiCaller(
        client,
        cloud="Huawei EIP" if huawei else "Baidu BCC",
        decode_error=decode_huawei_error if huawei else decode_bce_error,
        policy=RetryPolicy(sleep=fake.sleep, clock=fake, rng=lambda: 1.0, **policy),  # type: ignore[arg-type]
        log=lambda _line: None,
    )
    return caller, fake, seen


OK = httpx.Response(200, json={"ok": True})
THROTTLED = httpx.Response(429, json={"error_code": "APIGW.0308", "error_msg": "slow down"})
BUSY = httpx.Response(409, json={"code": "VPC.0512", "message": "busy"})


def test_throttle_then_success_backs_off_exponentially() -> None:
    caller, fake, seen = make_caller([THROTTLED, THROTTLED, THROTTLED, OK])
    response = caller.call("ListPublicips", "GET", "/v1/p/publicips", idempotent=True)
    assert response.json() == {"ok": True}
    assert len(seen) == 4
    assert fake.slept == [0.5, 1.0, 2.0]  # rng pinned at the top of the jitter range


def test_jitter_stays_within_half_to_full_backoff() -> None:
    policy = RetryPolicy(rng=lambda: 0.0)
    assert policy.backoff(1) == 0.25
    assert policy.backoff(4) == 2.0
    assert RetryPolicy(rng=lambda: 1.0).backoff(30) == 20.0  # capped


def test_retry_after_is_honoured() -> None:
    throttled = httpx.Response(
        429, headers={"Retry-After": "7"}, json={"error_code": "APIGW.0308", "error_msg": "x"}
    )
    caller, fake, _ = make_caller([throttled, OK])
    caller.call("ShowPublicip", "GET", "/x", idempotent=True)
    assert fake.slept == [7.0]


def test_retry_after_is_capped() -> None:
    throttled = httpx.Response(429, headers={"Retry-After": "9999"}, json={})
    caller, fake, _ = make_caller([throttled, OK], max_retry_after=30.0)
    caller.call("ShowPublicip", "GET", "/x", idempotent=True)
    assert fake.slept == [30.0]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_retried_for_idempotent_calls(status: int) -> None:
    caller, _, seen = make_caller([httpx.Response(status, text="oops"), OK])
    caller.call("GetInstance", "GET", "/v2/instance/i-1", idempotent=True)
    assert len(seen) == 2


def test_huawei_busy_code_retried() -> None:
    caller, _, seen = make_caller([BUSY, BUSY, OK])
    caller.call("DeletePublicip", "DELETE", "/v1/p/publicips/e", idempotent=True)
    assert len(seen) == 3


def test_5xx_not_retried_for_non_idempotent_calls() -> None:
    caller, _, seen = make_caller([httpx.Response(503, json={"code": "X", "message": "m"}), OK])
    with pytest.raises(ServerError):
        caller.call("BatchCreatePublicips", "POST", "/v2/p/batchpublicips", idempotent=False)
    assert len(seen) == 1


def test_throttle_retried_even_for_non_idempotent_calls() -> None:
    caller, _, seen = make_caller([THROTTLED, OK])
    caller.call("BatchCreatePublicips", "POST", "/v2/p/batchpublicips", idempotent=False)
    assert len(seen) == 2


def test_client_errors_never_retried() -> None:
    caller, _, seen = make_caller(
        [httpx.Response(400, json={"code": "VPC.0501", "message": "bad"})]
    )
    with pytest.raises(ClientError) as info:
        caller.call("BatchCreatePublicips", "POST", "/x", idempotent=True)
    assert len(seen) == 1
    assert info.value.code == "VPC.0501"


def test_connect_error_retried_even_when_not_idempotent() -> None:
    caller, _, seen = make_caller([httpx.ConnectError("refused"), OK])
    caller.call("BatchCreatePublicips", "POST", "/x", idempotent=False)
    assert len(seen) == 2


def test_lost_response_on_non_idempotent_call_is_reported_not_resent() -> None:
    caller, _, seen = make_caller([httpx.RemoteProtocolError("server disconnected"), OK])
    with pytest.raises(TransportError) as info:
        caller.call("BatchCreatePublicips", "POST", "/x", idempotent=False)
    assert info.value.sent is True
    assert "outcome unknown" in str(info.value)
    assert len(seen) == 1


def test_lost_response_on_idempotent_call_retried() -> None:
    caller, _, seen = make_caller([httpx.ReadTimeout("slow"), OK])
    caller.call("BatchAddIp", "PUT", "/x", idempotent=True, params={"clientToken": "t-1"})
    assert len(seen) == 2
    # The same request, clientToken included, went out both times.
    assert seen[0].url == seen[1].url


def test_attempts_are_capped() -> None:
    caller, fake, seen = make_caller([THROTTLED], max_attempts=4)
    with pytest.raises(ThrottledError):
        caller.call("ListPublicips", "GET", "/x", idempotent=True)
    assert len(seen) == 4
    assert len(fake.slept) == 3


def test_total_time_is_capped() -> None:
    caller, fake, seen = make_caller([THROTTLED], max_attempts=100, max_total_seconds=10.0)
    with pytest.raises(ThrottledError):
        caller.call("ListPublicips", "GET", "/x", idempotent=True)
    # Waits 0.5 + 1 + 2 + 4 = 7.5 s over five attempts; the next 8 s wait would pass 10 s.
    assert fake.slept == [0.5, 1.0, 2.0, 4.0]
    assert len(seen) == 5


def test_bce_rate_limit_code_retried() -> None:
    limited = httpx.Response(400, json={"code": "RateLimit", "message": "qps"})
    caller, _, seen = make_caller([limited, OK], huawei=False)
    caller.call("BatchAddIp", "PUT", "/x", idempotent=True)
    assert len(seen) == 2


EXPIRED = httpx.Response(400, json={"code": "RequestExpired", "message": "Request has expired."})


def test_bce_request_expired_retried_and_signed_anew() -> None:
    """As the BCE SDKs (``BackOffRetryPolicy``): sent again, even when not idempotent,
    each attempt with a fresh ``x-bce-date`` and so a new signature."""
    fake = FakeClock(now=0.0)
    start = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    seen: list[httpx.Request] = []
    replies = [EXPIRED, OK]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return replies.pop(0)

    signer = BceSigner("ak", "sk", clock=lambda: start + timedelta(seconds=fake.now))
    client = new_http_client(
        base_url="https://bcc.test", auth=signer, transport=httpx.MockTransport(handler)
    )
    caller = ApiCaller(
        client,
        cloud="Baidu BCC",
        decode_error=decode_bce_error,
        policy=RetryPolicy(sleep=fake.sleep, clock=fake, rng=lambda: 1.0, initial_backoff=2.0),
        log=lambda _line: None,
    )
    caller.call("RebootInstance", "PUT", "/v2/instance/i-1?reboot=", idempotent=False)
    assert len(seen) == 2
    assert fake.slept == [2.0]
    dates = [r.headers["x-bce-date"] for r in seen]
    assert dates == ["2024-01-02T03:04:05Z", "2024-01-02T03:04:07Z"]
    assert seen[0].headers["Authorization"] != seen[1].headers["Authorization"]
    assert seen[1].headers["Authorization"].startswith("bce-auth-v1/ak/2024-01-02T03:04:07Z/")


def test_bce_request_expired_is_a_definite_refusal_once_retries_run_out() -> None:
    caller, _, seen = make_caller([EXPIRED], huawei=False, max_attempts=3)
    with pytest.raises(ExpiredRequestError) as info:
        caller.call("BatchAddIp", "PUT", "/x", idempotent=True)
    assert len(seen) == 3
    # A ClientError: the cloud refused it before acting, the outcome is not unknown.
    assert isinstance(info.value, ClientError)
    assert (info.value.status, info.value.code) == (400, "RequestExpired")


def test_ok_statuses_returned_instead_of_raised() -> None:
    caller, _, _ = make_caller([httpx.Response(404, json={"code": "VPC.0504", "message": "gone"})])
    response = caller.call("ShowPublicip", "GET", "/x", idempotent=True, ok_statuses=(404,))
    assert response.status_code == 404


def test_a_rejected_certificate_is_not_retried_and_names_its_cause() -> None:
    rejected = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    rejected.__cause__ = ssl.SSLCertVerificationError("certificate verify failed")
    caller, fake, seen = make_caller([rejected, OK])
    with pytest.raises(TransportError) as info:
        caller.call("ListPublicips", "GET", "/x", idempotent=True)
    assert len(seen) == 1 and fake.slept == []
    assert info.value.permanent and not info.value.sent
    assert "ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED]" in str(info.value)


def test_transport_errors_name_their_cause() -> None:
    caller, _, _ = make_caller([httpx.ReadTimeout("timed out")])
    with pytest.raises(TransportError) as info:
        caller.call("BatchCreatePublicips", "POST", "/x", idempotent=False)
    assert "no response (ReadTimeout: timed out; outcome unknown)" in str(info.value)


def test_an_access_key_echoed_by_the_cloud_is_redacted() -> None:
    echo = httpx.Response(
        401,
        json={"error_code": "APIGW.0301", "error_msg": "ak AKecho12345 not exist"},
        headers={"X-Request-Id": "r-1"},
    )
    client = new_http_client(
        base_url="https://api.test",
        auth=HuaweiSigner("AKecho12345", "sk"),
        transport=httpx.MockTransport(lambda _request: echo),
    )
    caller = ApiCaller(client, cloud="Huawei EIP", decode_error=decode_huawei_error)
    with pytest.raises(AuthError) as info:
        caller.call("ListPublicips", "GET", "/x", idempotent=True)
    assert "AKecho12345" not in str(info.value)
    assert 'APIGW.0301 "ak <redacted> not exist" (request id r-1)' in str(info.value)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_loopback_endpoint_nobody_listens_at_fails_soon_and_says_so() -> None:
    """A stopped emulator: the real connection is refused; retries stop once 3 s
    (mocked) have passed, and the error names the endpoint and the likely cause."""
    fake = FakeClock(now=0.0)
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    caller = ApiCaller(
        httpx.Client(base_url=endpoint),
        cloud="Huawei EIP",
        decode_error=decode_huawei_error,
        policy=RetryPolicy(sleep=fake.sleep, clock=fake, rng=lambda: 1.0),
        log=lambda _line: None,
    )
    with pytest.raises(TransportError) as info:
        caller.call("ListPublicips", "GET", "/v1/p/publicips", idempotent=True)
    assert info.value.nobody_home and not info.value.sent
    assert f"nothing is listening at {endpoint}: is the emulator running?" in str(info.value)
    assert 3.0 <= fake.now < 8.0 and len(fake.slept) < 5  # not the 180 s budget


def test_a_refused_remote_endpoint_keeps_the_full_budget() -> None:
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    caller, _fake, seen = make_caller([refused])
    with pytest.raises(TransportError) as info:
        caller.call("ListPublicips", "GET", "/v1/p/publicips", idempotent=True)
    assert not info.value.nobody_home and "emulator" not in str(info.value)
    assert len(seen) == 8
