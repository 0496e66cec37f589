"""SecondaryIpSet hardening without a network: state written by older code (schema
migration), input bounds and zone ids, import ids, the cloud's address spelling at
the client's model, and the retry budget of the BCC client (8 attempts)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_batchip.baidu.bcc import BccClient, Instance, canonical_address
from pulumi_batchip.config import BaiduSettings, Credentials
from pulumi_batchip.errors import BatchIpError, ServerError, TransportError
from pulumi_batchip.http import RetryPolicy
from pulumi_batchip.secondary_ip_set import (
    SCHEMA_KEY,
    SCHEMA_VERSION,
    SecondaryIpSetProvider,
    check_inputs,
    migrate_state,
    parse_import_id,
)

PROVIDER = SecondaryIpSetProvider()
ID = "i-1/192.168.0.5,192.168.0.6"
# Bound on any message built from user input (gRPC metadata is a few KiB at most).
MESSAGE_BOUND = 400

# State as today's code writes it, and as older code could have written it.
TODAY = {
    "instance_id": "i-1",
    "private_ips": ["192.168.0.5", "192.168.0.6"],
    "count": 2,
    "ipv6": False,
    "reboot": False,
    "region": "bj",
    SCHEMA_KEY: SCHEMA_VERSION,
}
BEFORE_SCHEMA = {k: v for k, v in TODAY.items() if k != SCHEMA_KEY}
NO_IPV6 = {k: v for k, v in BEFORE_SCHEMA.items() if k != "ipv6"}
NO_REBOOT = {k: v for k, v in BEFORE_SCHEMA.items() if k != "reboot"}
NO_REGION = {k: v for k, v in BEFORE_SCHEMA.items() if k != "region"}
OLDEST = {"instance_id": "i-1", "private_ips": ["192.168.0.5", "192.168.0.6"], "count": 2.0}
OLD_STATES = {
    "today": TODAY,
    "before_schema": BEFORE_SCHEMA,
    "no_ipv6": NO_IPV6,
    "no_reboot": NO_REBOOT,
    "no_region": NO_REGION,
    "oldest": OLDEST,
}
NEWS = {"instance_id": "i-1", "count": 2, "ipv6": False, "reboot": False}


def failures_of(**news: Any) -> list[tuple[str, str]]:
    result = PROVIDER.check({}, news)
    return [(f.property, f.reason) for f in result.failures]


# -- 3. state versioning ---------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(OLD_STATES))
def test_every_old_layout_migrates_to_todays(name: str) -> None:
    migrated = migrate_state(OLD_STATES[name], default_region="bj")
    assert migrated == TODAY


@pytest.mark.parametrize("name", sorted(OLD_STATES))
def test_old_state_with_unchanged_program_is_no_diff(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAIDUCLOUD_REGION", "bj")
    result = PROVIDER.diff(ID, dict(OLD_STATES[name]), dict(NEWS))
    assert result.replaces == []
    assert result.changes is False


def test_old_state_without_region_and_no_configured_region_is_not_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BAIDUCLOUD_REGION", raising=False)
    result = PROVIDER.diff(ID, dict(NO_REGION), dict(NEWS))
    assert result.replaces == []
    assert result.changes is False


def test_old_state_without_region_follows_the_configured_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = SecondaryIpSetProvider()
    provider.configure(ConfigureRequest(Config({"baiducloud:region": "gz"}, "harness")))
    monkeypatch.delenv("BAIDUCLOUD_REGION", raising=False)
    assert migrate_state(NO_REGION, "gz")["region"] == "gz"
    assert provider.diff(ID, dict(NO_REGION), dict(NEWS)).replaces == []


def test_old_ipv6_state_without_ipv6_is_an_ipv6_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAIDUCLOUD_REGION", "bj")
    old = {"instance_id": "i-1", "private_ips": ["2400:DA00::0001", "2400:da00::2"]}
    migrated = migrate_state(old, "bj")
    assert migrated["ipv6"] is True
    assert migrated["private_ips"] == ["2400:da00::1", "2400:da00::2"]
    news = {
        "instance_id": "i-1",
        "private_ips": ["2400:da00::1", "2400:da00::2"],
        "ipv6": True,
        "reboot": False,
    }
    result = PROVIDER.diff("i-1/2400:da00::1,2400:da00::2", dict(old), news)
    assert result.replaces == []
    assert result.changes is False


def test_outputs_carry_the_schema_version() -> None:
    from pulumi_batchip.baidu.set_state import Desired, outputs_of

    outs = outputs_of(Desired.from_props(NEWS), "bj", ["192.168.0.5"])
    assert outs[SCHEMA_KEY] == SCHEMA_VERSION == 2
    assert SCHEMA_KEY not in check_inputs(NEWS)[0]  # an output, never an input


@pytest.mark.parametrize("version", [SCHEMA_VERSION + 1, 99, -1, "one", 1.5, True])
def test_state_of_a_newer_or_unknown_layout_is_refused(version: object) -> None:
    with pytest.raises(BatchIpError, match="upgrade pulumi-batchip"):
        migrate_state({**TODAY, SCHEMA_KEY: version})
    with pytest.raises(BatchIpError, match="upgrade pulumi-batchip"):
        PROVIDER.diff(ID, {**TODAY, SCHEMA_KEY: version}, dict(NEWS))


# -- 4. check gaps ------------------------------------------------------------------------
@pytest.mark.parametrize("address", ["fe80::5%eth0", "::5%eth0", "2400:da00::1%1"])
def test_ipv6_with_a_zone_id_is_refused(address: str) -> None:
    failures = failures_of(instance_id="i-1", private_ips=[address], ipv6=True)
    assert [p for p, _ in failures] == ["private_ips"]
    assert "zone id" in failures[0][1]


@pytest.mark.parametrize(
    "instance_id",
    ["i-" + "a" * 9998, "i-a?b", "i-a/b", "i-a b", "i-a#b", "i-ä", "..", "i-a\nb", "i_a"],
)
def test_instance_ids_are_bounded_and_plain(instance_id: str) -> None:
    failures = failures_of(instance_id=instance_id, count=1)
    assert [p for p, _ in failures] == ["instance_id"]
    assert len(failures[0][1]) < MESSAGE_BOUND


@pytest.mark.parametrize("instance_id", ["i-DhjUXmSA", "i-1", "  i-2  ", "i-" + "a" * 62])
def test_real_instance_ids_pass(instance_id: str) -> None:
    inputs, failures = check_inputs({"instance_id": instance_id, "count": 1})
    assert failures.items == []
    assert inputs["instance_id"] == instance_id.strip()


def test_a_65_character_instance_id_is_refused() -> None:
    assert failures_of(instance_id="i-" + "a" * 63, count=1)


@pytest.mark.parametrize("region", ["r" * 10_000, "evil.example.com/", "bj gz"])
def test_regions_are_bounded_and_plain(region: str) -> None:
    failures = failures_of(instance_id="i-1", count=1, region=region)
    assert [p for p, _ in failures] == ["region"]
    assert len(failures[0][1]) < MESSAGE_BOUND


def test_huge_values_are_quoted_briefly() -> None:
    cases: list[dict[str, Any]] = [
        {"instance_id": "i-1", "private_ips": ["1" * 10_000]},
        {"instance_id": "i-1", "private_ips": ["192.168.0.1" + " " * 10_000 + "x"]},
        {"instance_id": "i-1", "count": "9" * 10_000},
        {"instance_id": "i-1", "count": -1e300},
    ]
    for news in cases:
        failures = failures_of(**news)
        assert failures, news
        assert all(len(reason) < MESSAGE_BOUND for _, reason in failures), failures


def test_long_address_lists_give_few_failures() -> None:
    assert len(failures_of(instance_id="i-1", private_ips=["x"] * 50)) <= 11
    failures = failures_of(
        instance_id="i-1", private_ips=[f"10.0.{i // 250}.{i % 250}" for i in range(300)]
    )
    assert len(failures) == 1
    assert "at most" in failures[0][1]


@settings(max_examples=200, derandomize=True, database=None)
@given(
    st.dictionaries(
        st.sampled_from(["instance_id", "private_ips", "count", "ipv6", "reboot", "region"]),
        st.one_of(
            st.text(min_size=300, max_size=3000),
            st.lists(st.text(min_size=100, max_size=2000), min_size=1, max_size=40),
            st.integers(min_value=-(10**300), max_value=10**300),
        ),
    )
)
def test_every_failure_reason_is_bounded(news: dict[str, Any]) -> None:
    result = PROVIDER.check({}, news)
    assert len(result.failures) <= 20  # at most 11 for private_ips, a few for the rest
    for failure in result.failures:
        assert len(failure.reason) < MESSAGE_BOUND, failure.reason


@pytest.mark.parametrize(
    "id_",
    [
        "i-a?b/192.168.0.1",
        "i-a#b/192.168.0.1",
        "../192.168.0.1",
        "i-1/fe80::1%eth0",
        "x" * 10_000,
        "i-1/" + "9" * 10_000,
        "i-" + "a" * 10_000 + "/192.168.0.1",
        "\x00/\x00",
        "i-1/,,,",
    ],
)
def test_bad_import_ids_are_batchip_errors_with_brief_messages(id_: str) -> None:
    with pytest.raises(BatchIpError, match="SecondaryIpSet id") as info:
        parse_import_id(id_)
    assert len(str(info.value)) < MESSAGE_BOUND


def test_import_ids_are_deduplicated_and_canonical() -> None:
    assert parse_import_id("i-1/2400:DA00::0001,2400:da00::1") == ("i-1", ["2400:da00::1"])


def offline_provider() -> SecondaryIpSetProvider:
    """Configured for an endpoint nothing listens on: these calls must fail first."""
    provider = SecondaryIpSetProvider()
    config = {
        "baiducloud:accessKey": "AKoffline",
        "baiducloud:secretKey": "SKoffline",
        "baiducloud:region": "bj",
        "batchip:bccEndpoint": "http://127.0.0.1:9",
    }
    provider.configure(ConfigureRequest(Config(config, "harness")))
    return provider


@pytest.mark.parametrize("id_", ["i-a?b/192.168.0.1", "garbage", "i-1/not-an-ip", "/"])
def test_read_and_delete_of_a_bad_import_id_raise_batchip_error(id_: str) -> None:
    provider = offline_provider()
    with pytest.raises(BatchIpError):
        provider.read(id_, {})
    with pytest.raises(BatchIpError):
        provider.delete(id_, {})


def test_state_with_an_unsafe_instance_id_raises_batchip_error_not_value_error() -> None:
    provider = offline_provider()
    state = {**TODAY, "instance_id": "i-a?b"}
    for call in (
        lambda: provider.read("i-a?b/192.168.0.5", dict(state)),
        lambda: provider.delete("i-a?b/192.168.0.5", dict(state)),
    ):
        with pytest.raises(BatchIpError, match="instance_id"):
            call()


# -- 2. the cloud's spelling at the client's model ------------------------------------------
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


# -- 6. the retry budget: 8 attempts (README "Errors, throttling and retries") ---------------
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
