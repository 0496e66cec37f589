"""BCE query encoding and ``RequestExpired`` retries, against the emulator.

Our client sends a query as bce-python-sdk does (``get_canonical_querystring(params,
False)``: a space is ``%20``); the emulator verifies the signature over the query it
received, so it must accept both clients' spaced queries and refuse a signature made
over a differently encoded one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import httpx
import pytest
from baidubce import protocol
from baidubce.auth.bce_credentials import BceCredentials
from baidubce.bce_client_configuration import BceClientConfiguration
from baidubce.retry.retry_policy import NoRetryPolicy
from baidubce.services.bcc.bcc_client import BccClient as SdkBccClient

from pulumi_batchip.baidu.bcc import BccClient
from pulumi_batchip.baidu.signer import BceSigner, compute_authorization, format_timestamp
from pulumi_batchip.emulator import RunningEmulator
from pulumi_batchip.errors import BAIDU_BCC, decode_bce_error
from pulumi_batchip.http import ApiCaller, RetryPolicy, new_http_client

from ..conftest import Admin

AK, SK = "emulator-bce-ak", "emulator-bce-sk"
VM = "i-DhjUXmSA"
TOKEN = "tok en+~/x"  # a space, a plus, a tilde, a slash (BCC: printable ASCII)


class Recording(httpx.HTTPTransport):
    """A real transport that keeps every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return super().handle_request(request)


@pytest.fixture
def recording() -> Recording:
    return Recording()


@pytest.fixture
def client(emulator: RunningEmulator, recording: Recording) -> Iterator[BccClient]:
    """Our BccClient; its clock moves 2 s per signature, so every attempt differs."""
    ticks = iter(range(10_000))
    start = datetime.now(timezone.utc)
    signer = BceSigner(AK, SK, clock=lambda: start + timedelta(seconds=2 * next(ticks)))
    http = new_http_client(base_url=emulator.url, auth=signer, transport=recording)
    policy = RetryPolicy(sleep=lambda _seconds: None)
    caller = ApiCaller(http, cloud=BAIDU_BCC, decode_error=decode_bce_error, policy=policy)
    bcc = BccClient(caller)
    yield bcc
    bcc.close()


def test_spaced_client_token_accepted_and_shared_with_the_sdk(
    emulator: RunningEmulator, client: BccClient, recording: Recording, admin: Admin
) -> None:
    sdk = SdkBccClient(
        BceClientConfiguration(
            credentials=BceCredentials(AK, SK),
            endpoint=urlsplit(emulator.url).netloc,
            protocol=protocol.HTTP,
            retry_policy=NoRetryPolicy(),
        )
    )
    body = {"instanceId": VM, "allocateMultiIpv6Addr": False, "secondaryPrivateIpAddressCount": 1}
    # The SDK's own send path (bce_http_client.send_request) with the same parameter.
    first = sdk._send_request(
        b"PUT", b"/instance/batchAddIp", json.dumps(body), params={b"clientToken": TOKEN.encode()}
    )
    assert first.private_ips == ["192.168.0.5"]

    # Ours, same token and body: the emulator decoded both queries to the same token.
    assert client.batch_add_ip(VM, client_token=TOKEN, count=1) == ["192.168.0.5"]
    (sent,) = recording.sent
    assert sent.url.query == b"clientToken=tok%20en%2B~%2Fx"
    assert admin.requests()[-1]["query"] == {"clientToken": [TOKEN]}
    assert admin.state()["bcc"]["instances"][VM]["secondary"]["ipv4"] == ["192.168.0.5"]


def test_signature_over_a_differently_encoded_query_is_refused(emulator: RunningEmulator) -> None:
    """Signed as if ``+`` were a literal plus (``tok%2Ben``), sent with ``%20``."""
    now = datetime.now(timezone.utc)
    host = urlsplit(emulator.url).netloc
    headers = {"Host": host, "x-bce-date": format_timestamp(now), "Content-Length": "0"}
    path = f"/v2/instance/{VM}"
    good = compute_authorization(AK, SK, "GET", path, "k=tok%20en", headers, timestamp=now)
    bad = compute_authorization(AK, SK, "GET", path, "k=tok%2Ben", headers, timestamp=now)
    with httpx.Client(base_url=emulator.url) as http:
        refused = http.get(f"{path}?k=tok%20en", headers={**headers, "Authorization": bad})
        accepted = http.get(f"{path}?k=tok%20en", headers={**headers, "Authorization": good})
    assert refused.status_code == 400
    assert refused.json()["code"] == "SignatureDoesNotMatch"
    assert accepted.status_code == 200


def test_request_expired_is_retried_with_a_new_signature(
    client: BccClient, recording: Recording, admin: Admin
) -> None:
    admin.faults(
        {"operation": "BatchAddIp", "action": "error", "status": 400, "code": "RequestExpired"}
    )
    assert client.batch_add_ip(VM, client_token=TOKEN, count=1) == ["192.168.0.5"]
    first, second = recording.sent
    assert first.url == second.url  # the same clientToken, sent the same way
    assert first.headers["x-bce-date"] != second.headers["x-bce-date"]
    assert first.headers["Authorization"] != second.headers["Authorization"]
    assert [(r["operation"], r["status"]) for r in admin.requests()] == [
        ("BatchAddIp", 400),
        ("BatchAddIp", 200),
    ]


def test_request_expired_retried_for_a_reboot(
    client: BccClient, recording: Recording, admin: Admin
) -> None:
    """Not idempotent, still sent again: BCE refused it before acting (as the SDKs do)."""
    admin.faults(
        {"operation": "RebootInstance", "action": "error", "status": 400, "code": "RequestExpired"}
    )
    client.reboot(VM)
    assert len(recording.sent) == 2
    assert recording.sent[1].url.query == b"reboot="
    assert admin.state()["bcc"]["instances"][VM]["status"] == "Starting"
