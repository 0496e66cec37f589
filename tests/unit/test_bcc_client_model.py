"""The BCC client without a network: the cloud's address spelling at the client's
model, and the retry budget (8 attempts, one clientToken)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from pulumi_batchip.baidu.bcc import BccClient, Instance, canonical_address
from pulumi_batchip.config import BaiduSettings, Credentials
from pulumi_batchip.errors import ServerError, TransportError
from pulumi_batchip.http import RetryPolicy

# -- the cloud's spelling at the client's model ------------------------------------------
CLOUD_ANSWER = {
    "instance": {
        "id": "i-1",
        "status": "Running",
        "nicInfo": {
            "ips": [
                {"privateIp": "192.168.0.2", "primary": "true"},
                {"privateIp": " 192.168.0.5 ", "primary": "false"},
            ],
            "ipv6s": [
                {"privateIp": "2400:DA00:E003:0000:0219:0000:0000:0001", "primary": "true"},
                {"privateIp": "2400:DA00:E003:0000:0219:0000:0000:002F", "primary": "false"},
                {"privateIp": "2400:da00:e003:0:219::30", "primary": "false"},
                "not an entry",
            ],
        },
    }
}


def test_instance_addresses_are_canonical_and_keep_the_clouds_spelling() -> None:
    instance = Instance.from_json(CLOUD_ANSWER)
    assert instance.secondary_addresses(ipv6=True) == (
        "2400:da00:e003:0:219::2f",
        "2400:da00:e003:0:219::30",
    )
    assert instance.secondary_addresses(ipv6=False) == ("192.168.0.5",)
    assert instance.cloud_text(["2400:da00:e003:0:219::2f", "2400::9"], ipv6=True) == [
        "2400:DA00:E003:0000:0219:0000:0000:002F",
        "2400::9",
    ]


@pytest.mark.parametrize("body", [{}, {"instance": None}, {"instance": {"nicInfo": []}}])
def test_odd_instance_bodies_give_an_empty_nic(body: dict[str, Any]) -> None:
    assert Instance.from_json(body).secondary_addresses(ipv6=False) == ()


def test_canonical_address() -> None:
    assert canonical_address(" 2400:DA00:0:0:0:0:0:1 ") == "2400:da00::1"
    assert canonical_address("garbage") == "garbage"


# -- the retry budget: 8 attempts (README "Errors, throttling and retries") ---------------
def counting_client(reply: httpx.Response | Exception) -> tuple[BccClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if isinstance(reply, Exception):
            raise reply
        return reply

    settings_ = BaiduSettings(
        credentials=Credentials("AKcount", "SKcount"), region="bj", endpoint="https://bcc.test"
    )
    # The default policy but for time: max_attempts is whatever RetryPolicy says.
    policy = RetryPolicy(sleep=lambda _s: None, clock=lambda: 0.0, rng=lambda: 1.0)
    client = BccClient.from_settings(
        settings_, transport=httpx.MockTransport(handler), policy=policy
    )
    return client, seen


def test_a_lost_batch_add_ip_answer_is_tried_8_times_with_one_token() -> None:
    client, seen = counting_client(httpx.RemoteProtocolError("server disconnected"))
    with pytest.raises(TransportError):
        client.batch_add_ip("i-1", client_token="tok-1", count=2)
    assert len(seen) == 8
    assert {r.url.params["clientToken"] for r in seen} == {"tok-1"}
    assert all(json.loads(r.content)["secondaryPrivateIpAddressCount"] == 2 for r in seen)


def test_a_failing_get_instance_is_tried_8_times() -> None:
    client, seen = counting_client(
        httpx.Response(503, json={"code": "ServiceUnavailable", "message": "busy"})
    )
    with pytest.raises(ServerError):
        client.get_instance("i-1")
    assert len(seen) == 8
    assert RetryPolicy().max_attempts == 8
