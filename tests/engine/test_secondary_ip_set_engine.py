"""SecondaryIpSet through the real provider server, against the emulator, asserting
the emulator's state after every step."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime.proto import provider_pb2

from pulumi_batchip import SecondaryIpSet
from pulumi_batchip.emulator import RunningEmulator

from ..conftest import Admin
from .harness import (
    PROVIDER_KEY,
    UNKNOWN,
    CheckFailed,
    EngineResource,
    ProviderError,
    ProviderProcess,
    program_inputs,
)
from .secondary_ip_support import INSTANCE, TYPE, inputs, secondary

DIFF_NONE = provider_pb2.DiffResponse.DIFF_NONE
DIFF_SOME = provider_pb2.DiffResponse.DIFF_SOME


def successful(admin: Admin, operation: str) -> int:
    return sum(
        1
        for r in admin.requests()
        if r["operation"] == operation and r["status"] == 200 and "fault" not in r
    )


@pytest.fixture
def res(provider_server: ProviderProcess, emulator: RunningEmulator) -> EngineResource:
    return EngineResource(provider_server, TYPE, "s")


def test_type_token_and_provider_are_by_reference() -> None:
    captured = inputs(count=2)
    provider = captured[PROVIDER_KEY]
    assert isinstance(provider, str)
    assert len(provider) < 200  # a class reference, not pickled bytecode
    assert SecondaryIpSet._resource_type_name == "dynamic/batchip:SecondaryIpSet"


def test_full_lifecycle_count_2_5_1(res: EngineResource, admin: Admin) -> None:
    assert res.up(inputs(count=2)) == "create"
    first = secondary(admin)
    assert len(first) == 2
    assert res.outputs["private_ips"] == first
    assert res.id.startswith(f"{INSTANCE}/")
    created_id = res.id

    # Same program again: no diff, no cloud call.
    before = len(admin.requests())
    assert res.up(inputs(count=2)) == "same"
    assert len(admin.requests()) == before

    assert res.up(inputs(count=5)) == "update"
    five = secondary(admin)
    assert len(five) == 5
    assert five[:2] == first  # the old ones are kept
    assert res.outputs["private_ips"] == five

    assert res.up(inputs(count=1)) == "update"
    assert secondary(admin) == first[:1]  # the newest went first
    assert f"removed {', '.join(five[1:])}" in res.provider.stderr  # what went, said
    assert res.outputs["private_ips"] == first[:1]
    assert res.id == created_id  # ids stay stable across in-place updates

    assert res.refresh() == "refreshed"
    assert res.outputs["private_ips"] == first[:1]

    res.destroy()
    assert secondary(admin) == []
    # Primary address untouched throughout.
    assert admin.state()["bcc"]["instances"][INSTANCE]["primary"]


def test_preview_with_unknown_instance_id(res: EngineResource, admin: Admin) -> None:
    news = inputs(count=2)
    news["instance_id"] = UNKNOWN
    assert res.preview(news) is None  # new resource: Check only, and it passes
    res.up(inputs(count=2))
    diff = res.preview(news)
    assert diff is not None
    assert diff.changes == DIFF_SOME
    assert list(diff.replaces) == ["instance_id"]
    unknown_count = inputs(count=2)
    unknown_count["count"] = UNKNOWN
    diff = res.preview(unknown_count)
    assert diff is not None
    assert diff.changes == DIFF_SOME
    assert list(diff.replaces) == []
    assert len(secondary(admin)) == 2  # preview changed nothing
    res.destroy()


def test_explicit_list_and_count_switch(res: EngineResource, admin: Admin) -> None:
    res.up(inputs(private_ips=["192.168.0.50", "192.168.0.51"]))
    assert secondary(admin) == ["192.168.0.50", "192.168.0.51"]
    assert res.up(inputs(count=3)) == "update"
    now = secondary(admin)
    assert now[:2] == ["192.168.0.50", "192.168.0.51"]
    assert len(now) == 3
    assert res.up(inputs(private_ips=["192.168.0.51", "192.168.0.60"])) == "update"
    assert secondary(admin) == ["192.168.0.51", "192.168.0.60"]
    assert res.outputs["private_ips"] == ["192.168.0.51", "192.168.0.60"]
    assert "count" not in res.outputs
    res.destroy()
    assert secondary(admin) == []


def test_replace_on_ipv6_change(res: EngineResource, admin: Admin) -> None:
    res.up(inputs(count=2))
    assert res.up(inputs(count=2, ipv6=True)) == "replace"
    assert secondary(admin, "ipv4") == []
    v6 = secondary(admin, "ipv6")
    assert len(v6) == 2
    assert all(":" in a for a in v6)
    assert res.outputs["ipv6"] is True
    res.destroy()
    assert secondary(admin, "ipv6") == []


def test_replace_moving_explicit_addresses_deletes_first(
    provider_server: ProviderProcess, admin: Admin, emulator: RunningEmulator
) -> None:
    admin.post("bcc/instances", {"id": "i-second", "subnets": ["192.168.0.0/24"]})
    res = EngineResource(provider_server, TYPE, "mover")
    res.up(inputs(private_ips=["192.168.0.70"]))
    diff = res.preview(inputs(instance_id="i-second", private_ips=["192.168.0.70"]))
    assert diff is not None and diff.deleteBeforeReplace
    assert res.up(inputs(instance_id="i-second", private_ips=["192.168.0.70"])) == "replace"
    assert secondary(admin) == []
    assert secondary(admin, instance="i-second") == ["192.168.0.70"]
    res.destroy()
    assert secondary(admin, instance="i-second") == []


def test_refresh_after_removal_behind_our_back_then_up_restores(
    res: EngineResource, admin: Admin, emulator: RunningEmulator
) -> None:
    from pulumi_batchip.baidu.bcc import BccClient
    from pulumi_batchip.config import resolve_baidu

    from .conftest import stack_config

    res.up(inputs(count=3))
    owned = secondary(admin)
    outside = BccClient.from_settings(resolve_baidu(stack_config(emulator.url), {}))
    outside.batch_del_ip(INSTANCE, [owned[1]], client_token="behind-our-back")
    outside.close()

    assert res.refresh() == "refreshed"
    assert res.outputs["private_ips"] == [owned[0], owned[2]]
    assert res.up(inputs(count=3)) == "update"
    assert len(secondary(admin)) == 3
    res.destroy()
    assert secondary(admin) == []


def test_refresh_reports_gone_when_all_removed(
    res: EngineResource, admin: Admin, emulator: RunningEmulator
) -> None:
    res.up(inputs(private_ips=["192.168.0.80"]))
    admin.reset()  # the instance is back to no secondary addresses
    assert res.refresh() == "gone"
    assert not res.exists


def test_two_sets_on_one_instance_never_touch_each_other(
    provider_server: ProviderProcess, admin: Admin, emulator: RunningEmulator
) -> None:
    a = EngineResource(provider_server, TYPE, "a")
    b = EngineResource(provider_server, TYPE, "b")
    a.up(inputs(count=2))
    b.up(inputs(count=2))
    a_ips, b_ips = a.outputs["private_ips"], b.outputs["private_ips"]
    assert not set(a_ips) & set(b_ips)
    assert a.up(inputs(count=1)) == "update"
    assert set(b_ips) <= set(secondary(admin))
    assert b.refresh() == "refreshed"
    assert b.outputs["private_ips"] == b_ips
    a.destroy()
    assert secondary(admin) == b_ips
    b.destroy()
    assert secondary(admin) == []


def test_ipv6_explicit_addresses(res: EngineResource, admin: Admin) -> None:
    wanted = ["2400:da00:e003:0:219::2f", "2400:da00:e003:0:219::30"]
    res.up(inputs(private_ips=wanted, ipv6=True))
    assert secondary(admin, "ipv6") == wanted
    assert res.up(inputs(private_ips=wanted[:1], ipv6=True)) == "update"
    assert secondary(admin, "ipv6") == wanted[:1]
    res.destroy()


def test_throttling_and_5xx_are_retried_and_act_once(res: EngineResource, admin: Admin) -> None:
    admin.faults(
        {"operation": "BatchAddIp", "action": "throttle", "times": 2},
        {"operation": "BatchAddIp", "action": "error", "status": 503, "times": 1, "after": 2},
    )
    res.up(inputs(count=2))
    assert len(secondary(admin)) == 2
    assert successful(admin, "BatchAddIp") == 1
    assert [r["fault"] for r in admin.requests() if "fault" in r] == [
        "throttle",
        "throttle",
        "error",
    ]
    # Armed after the create, whose own GetInstance (the NIC snapshot) would take it.
    admin.faults({"operation": "GetInstance", "action": "error", "status": 500, "times": 1})
    res.up(inputs(count=1))  # GetInstance fails once with 500, then succeeds
    assert len(secondary(admin)) == 1
    res.destroy()


def test_lost_response_on_batch_add_ip_is_not_doubled(res: EngineResource, admin: Admin) -> None:
    admin.faults({"operation": "BatchAddIp", "action": "lost_response", "times": 1})
    res.up(inputs(count=3))
    held = secondary(admin)
    assert len(held) == 3  # the retry with the same clientToken replayed the answer
    assert res.outputs["private_ips"] == held
    adds = [r for r in admin.requests() if r["operation"] == "BatchAddIp"]
    assert len(adds) == 2
    res.destroy()
    assert secondary(admin) == []


def test_failed_delete_in_update_rolls_back_the_add(res: EngineResource, admin: Admin) -> None:
    res.up(inputs(private_ips=["192.168.0.90", "192.168.0.91"]))
    admin.faults(
        {
            "operation": "BatchDelIp",
            "action": "error",
            "status": 400,
            "code": "InvalidParameter",
            "message": "injected",
            "times": 1,
        }
    )
    with pytest.raises(ProviderError) as info:
        res.up(inputs(private_ips=["192.168.0.90", "192.168.0.95"]))
    details = info.value.details
    assert "BatchDelIp" in details and "InvalidParameter" in details and "request id" in details
    assert "removed again" in details
    assert secondary(admin) == ["192.168.0.90", "192.168.0.91"]  # as before the update
    res.destroy()
    assert secondary(admin) == []


def test_cloud_error_on_create_names_code_and_request_id(res: EngineResource, admin: Admin) -> None:
    with pytest.raises(ProviderError) as info:
        res.up(inputs(private_ips=["10.9.9.9"]))  # outside the instance's subnet
    assert "Baidu BCC BatchAddIp failed: HTTP 400" in info.value.details
    assert "request id" in info.value.details
    assert not res.exists
    assert secondary(admin) == []


def test_reboot_after_change_only(
    res: EngineResource, admin: Admin, provider_server: ProviderProcess
) -> None:
    res.up(inputs(count=1, reboot=True))
    assert successful(admin, "RebootInstance") == 1
    assert admin.state()["bcc"]["instances"][INSTANCE]["status"] == "Running"
    assert any("reboot i-DhjUXmSA" in line for line in provider_server.stderr_lines)
    assert res.up(inputs(count=1, reboot=True)) == "same"
    assert res.up(inputs(count=1, reboot=False)) == "update"  # reboot alone: no cloud change
    assert successful(admin, "RebootInstance") == 1
    assert successful(admin, "BatchAddIp") == 1
    res.destroy()


def test_get_reads_without_owning(
    provider_server: ProviderProcess, admin: Admin, emulator: RunningEmulator
) -> None:
    owner = EngineResource(provider_server, TYPE, "owner")
    owner.up(inputs(private_ips=["192.168.0.100", "192.168.0.101"]))
    captured = program_inputs(
        lambda: [SecondaryIpSet.get("adopted", f"{INSTANCE}/192.168.0.100,192.168.0.101")]
    )["adopted"]
    adopted = EngineResource(provider_server, TYPE, "adopted")
    assert adopted.get(f"{INSTANCE}/192.168.0.100,192.168.0.101", captured) == "read"
    assert adopted.outputs["private_ips"] == ["192.168.0.100", "192.168.0.101"]
    assert adopted.inputs["instance_id"] == INSTANCE
    # Read-only: destroying the reader deletes nothing; the owner still owns them.
    adopted.destroy()
    assert sorted(secondary(admin)) == ["192.168.0.100", "192.168.0.101"]
    owner.destroy()
    assert secondary(admin) == []


@pytest.mark.parametrize(
    ("kwargs", "prop"),
    [
        ({"count": 0}, "count"),
        ({"count": 1.5}, "count"),
        ({}, "count"),
        ({"count": 1, "private_ips": ["192.168.0.9"]}, "private_ips"),
        ({"private_ips": ["not-an-ip"]}, "private_ips"),
        ({"private_ips": ["2400::1"]}, "private_ips"),
        ({"private_ips": ["192.168.0.9", "192.168.0.9"]}, "private_ips"),
        ({"instance_id": "", "count": 1}, "instance_id"),
    ],
)
def test_bad_inputs_fail_check_before_any_call(
    res: EngineResource, admin: Admin, kwargs: dict[str, Any], prop: str
) -> None:
    with pytest.raises(CheckFailed) as info:
        res.up(inputs(**kwargs))
    assert prop in [p for p, _ in info.value.failures]
    assert admin.requests() == []


def test_destroy_when_already_gone_is_success(res: EngineResource, admin: Admin) -> None:
    res.up(inputs(count=2))
    admin.reset()
    res.destroy()
    assert not res.exists
