"""SecondaryIpSet inputs at their bounds, without a network: zone ids, instance ids
and regions, huge values quoted briefly, few failures for long lists, import ids."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_batchip.errors import BatchIpError
from pulumi_batchip.secondary_ip_set import (
    SecondaryIpSetProvider,
    check_inputs,
    parse_import_id,
)

from .secondary_ip_states import TODAY

PROVIDER = SecondaryIpSetProvider()
# Bound on any message built from user input (gRPC metadata is a few KiB at most).
MESSAGE_BOUND = 400


def failures_of(**news: Any) -> list[tuple[str, str]]:
    result = PROVIDER.check({}, news)
    return [(f.property, f.reason) for f in result.failures]


# -- check gaps ------------------------------------------------------------------------
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
