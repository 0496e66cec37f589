"""SecondaryIpSet state written by older code: every layout migrates to today's, an
unchanged program shows no diff, a newer layout is refused."""

from __future__ import annotations

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_batchip.errors import BatchIpError
from pulumi_batchip.secondary_ip_set import (
    SCHEMA_KEY,
    SCHEMA_VERSION,
    SecondaryIpSetProvider,
    check_inputs,
    migrate_state,
)

from .secondary_ip_states import BEFORE_SCHEMA, TODAY

PROVIDER = SecondaryIpSetProvider()
ID = "i-1/192.168.0.5,192.168.0.6"

# State as older code could have written it (TODAY, BEFORE_SCHEMA: secondary_ip_states).
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


# -- state versioning ---------------------------------------------------------------
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
