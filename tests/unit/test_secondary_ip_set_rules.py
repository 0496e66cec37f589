"""SecondaryIpSet check and diff as tables: no network, the provider's own methods."""

from __future__ import annotations

import base64
from typing import Any

import dill
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.output import Unknown

from pulumi_batchip.errors import BatchIpError
from pulumi_batchip.secondary_ip_set import SecondaryIpSetProvider, parse_import_id

from .secondary_ip_states import BEFORE_SCHEMA

PROVIDER = SecondaryIpSetProvider()
BASE = {"instance_id": "i-DhjUXmSA", "count": 2.0, "ipv6": False, "reboot": False}


def check(**news: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    result = PROVIDER.check({}, news)
    return result.inputs, [(f.property, f.reason) for f in result.failures]


def test_valid_count_is_coerced_from_float() -> None:
    inputs, failures = check(**BASE)
    assert failures == []
    assert inputs["count"] == 2
    assert isinstance(inputs["count"], int)


def test_explicit_addresses_are_normalized() -> None:
    inputs, failures = check(
        instance_id="i-1", private_ips=["2400:da00:e003:0:219:0:0:2f"], ipv6=True
    )
    assert failures == []
    assert inputs["private_ips"] == ["2400:da00:e003:0:219::2f"]


@pytest.mark.parametrize(
    ("news", "prop", "fragment"),
    [
        ({"count": 1}, "instance_id", "non-empty"),
        ({"instance_id": "", "count": 1}, "instance_id", "non-empty"),
        ({"instance_id": 7, "count": 1}, "instance_id", "non-empty"),
        ({"instance_id": "i-1"}, "count", "exactly one"),
        ({"instance_id": "i-1", "count": 1, "private_ips": ["192.168.0.9"]}, "count", "not both"),
        ({"instance_id": "i-1", "count": 0}, "count", "at least 1"),
        ({"instance_id": "i-1", "count": -3.0}, "count", "at least 1"),
        ({"instance_id": "i-1", "count": 2.5}, "count", "whole number"),
        ({"instance_id": "i-1", "count": "2"}, "count", "whole number"),
        ({"instance_id": "i-1", "count": True}, "count", "whole number"),
        ({"instance_id": "i-1", "private_ips": []}, "private_ips", "at least one"),
        ({"instance_id": "i-1", "private_ips": "192.168.0.9"}, "private_ips", "list"),
        ({"instance_id": "i-1", "private_ips": ["300.1.1.1"]}, "private_ips", "not a valid"),
        ({"instance_id": "i-1", "private_ips": [5]}, "private_ips", "string"),
        (
            {"instance_id": "i-1", "private_ips": ["192.168.0.9", "192.168.0.9"]},
            "private_ips",
            "duplicate",
        ),
        (
            {"instance_id": "i-1", "private_ips": ["2400::1"], "ipv6": False},
            "private_ips",
            "IPv6",
        ),
        (
            {"instance_id": "i-1", "private_ips": ["192.168.0.9"], "ipv6": True},
            "private_ips",
            "IPv4",
        ),
        ({"instance_id": "i-1", "count": 1, "ipv6": "yes"}, "ipv6", "true or false"),
        ({"instance_id": "i-1", "count": 1, "reboot": 1}, "reboot", "true or false"),
        ({"instance_id": "i-1", "count": 1, "region": ""}, "region", "non-empty"),
    ],
)
def test_every_rule_fails_on_its_property(news: dict[str, Any], prop: str, fragment: str) -> None:
    _inputs, failures = check(**news)
    assert failures, news
    assert any(p == prop and fragment in reason for p, reason in failures), failures


def test_unknowns_pass_check() -> None:
    inputs, failures = check(instance_id=Unknown(), count=Unknown(), ipv6=Unknown())
    assert failures == []
    assert isinstance(inputs["instance_id"], Unknown)
    _inputs, failures = check(instance_id="i-1", private_ips=[Unknown(), "192.168.0.9"])
    assert failures == []


OLDS = {**BEFORE_SCHEMA, "__provider": "c29tZXRoaW5n"}


def diff(news: dict[str, Any], olds: dict[str, Any] | None = None) -> Any:
    merged = {"__provider": "b3RoZXI=", **news}  # a different provider string: no diff
    return PROVIDER.diff("i-1/192.168.0.5,192.168.0.6", olds or OLDS, merged)


def test_no_diff_when_nothing_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAIDUCLOUD_REGION", "bj")
    result = diff({"instance_id": "i-1", "count": 2, "ipv6": False, "reboot": False})
    assert result.changes is False
    assert result.replaces == []


def test_explicit_region_equal_to_old_is_no_diff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BAIDUCLOUD_REGION", raising=False)
    result = diff({"instance_id": "i-1", "count": 2, "region": "bj"})
    assert result.changes is False


@pytest.mark.parametrize(
    ("news", "replaces"),
    [
        ({"instance_id": "i-2", "count": 2}, ["instance_id"]),
        ({"instance_id": "i-1", "count": 2, "ipv6": True}, ["ipv6"]),
        ({"instance_id": "i-1", "count": 2, "region": "gz"}, ["region"]),
        ({"instance_id": Unknown(), "count": 2}, ["instance_id"]),
    ],
)
def test_replace_keys(news: dict[str, Any], replaces: list[str]) -> None:
    result = diff(news)
    assert result.changes is True
    assert result.replaces == replaces
    assert result.delete_before_replace is False


def test_delete_before_replace_when_explicit_addresses_move() -> None:
    result = diff({"instance_id": "i-2", "private_ips": ["192.168.0.5"]})
    assert result.replaces == ["instance_id"]
    assert result.delete_before_replace is True


@pytest.mark.parametrize(
    "news",
    [
        {"instance_id": "i-1", "count": 5},
        {"instance_id": "i-1", "count": 1},
        {"instance_id": "i-1", "private_ips": ["192.168.0.5", "192.168.0.6"]},  # mode switch
        {"instance_id": "i-1", "private_ips": ["192.168.0.7"]},
        {"instance_id": "i-1", "count": Unknown()},
        {"instance_id": "i-1", "count": 2, "reboot": True},
    ],
)
def test_in_place_updates(news: dict[str, Any]) -> None:
    result = diff(news)
    assert result.changes is True
    assert result.replaces == []


def test_refresh_shrinkage_shows_as_update() -> None:
    olds = {**OLDS, "private_ips": ["192.168.0.5"]}
    assert diff({"instance_id": "i-1", "count": 2}, olds).changes is True


def test_provider_pickles_by_reference_and_small() -> None:
    raw = dill.dumps(SecondaryIpSetProvider(), recurse=True)
    assert len(base64.b64encode(raw)) < 200
    assert b"pulumi_batchip.secondary_ip_set" in raw
    clone = dill.loads(raw)
    assert clone.stack_config == {}


@pytest.mark.parametrize(
    ("id_", "instance", "addresses"),
    [
        ("i-1/192.168.0.5", "i-1", ["192.168.0.5"]),
        ("i-1/2400::1, 2400::2", "i-1", ["2400::1", "2400::2"]),
    ],
)
def test_parse_import_id(id_: str, instance: str, addresses: list[str]) -> None:
    assert parse_import_id(id_) == (instance, addresses)


@pytest.mark.parametrize(
    "id_", ["i-1", "i-1/", "/192.168.0.1", "i-1/nope", "i-1/192.168.0.1,2400::1"]
)
def test_bad_import_ids(id_: str) -> None:
    with pytest.raises(BatchIpError, match="SecondaryIpSet id"):
        parse_import_id(id_)


@settings(max_examples=300, derandomize=True, database=None)
@given(
    st.dictionaries(
        st.sampled_from(["instance_id", "private_ips", "count", "ipv6", "reboot", "region"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
            lambda inner: st.lists(inner, max_size=4),
            max_leaves=6,
        ),
    )
)
def test_check_never_raises(news: dict[str, Any]) -> None:
    check(**news)  # only returns failures, whatever arrives


# --- region and instance id: the vendor's formats, refused before any API call -------


@pytest.mark.parametrize(
    ("prop", "value", "rule"),
    [
        ("region", "bj.evil.example/", "Baidu region"),
        ("region", "b j", "Baidu region"),
        ("region", "BJ", "Baidu region"),
        ("region", "bj/../x", "Baidu region"),
        ("region", "", "non-empty"),
        ("instance_id", "i-DhjU/XmSA", "BCC instance id"),
        ("instance_id", "i-DhjUXmSA/../x", "BCC instance id"),
        ("instance_id", "DhjUXmSA", "BCC instance id"),
        ("instance_id", "i-", "BCC instance id"),
    ],
)
def test_hostile_region_or_instance_id_fails_on_its_property(
    prop: str, value: str, rule: str
) -> None:
    _inputs, failures = check(**{**BASE, prop: value})
    assert [p for p, _ in failures] == [prop]
    assert rule in failures[0][1]


@pytest.mark.parametrize("region", ["bj", "gz", "su", "bd", "fwh", "hkg", "yq", "cd", "nj", "sin"])
def test_real_baidu_regions_pass_check(region: str) -> None:
    inputs, failures = check(**BASE, region=f" {region}")
    assert failures == []
    assert inputs["region"] == region


# --- the declaration: one source for the README, check, diff and migration -----------


def test_the_readme_shows_the_declared_input_table() -> None:
    from pathlib import Path

    from pulumi_batchip.secondary_ip_inputs import DECLARATION

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "\n".join(DECLARATION.readme_table()) in readme


def test_replace_keys_and_defaults_come_from_the_declaration() -> None:
    from pulumi_batchip.secondary_ip_inputs import DEFAULTS
    from pulumi_batchip.secondary_ip_set import REPLACE_KEYS

    assert REPLACE_KEYS == ("instance_id", "ipv6", "region")
    assert DEFAULTS == {"ipv6": False, "reboot": False, "adopt": False, "secret_addresses": False}
