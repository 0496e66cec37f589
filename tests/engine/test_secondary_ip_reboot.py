"""SecondaryIpSet reboots against the emulator: after every change when asked; a
reboot that fails or misses its deadline is a warning and the change is kept."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pulumi_batchip.baidu import reboot
from pulumi_batchip.emulator import RunningEmulator

from ..conftest import Admin
from .harness import EngineResource, ProviderProcess
from .secondary_ip_support import checked, in_process, inputs, refused, resource_fixture, secondary

res = resource_fixture("hardened")


# -- reboots: after every change, and a failed one is a warning ---------------------------------
def reboots(admin: Admin) -> int:
    return sum(
        1 for r in admin.requests() if r["operation"] == "RebootInstance" and r["status"] == 200
    )


def test_every_change_reboots_when_reboot_is_true(res: EngineResource, admin: Admin) -> None:
    res.up(inputs(count=1, reboot=True))
    assert reboots(admin) == 1
    assert res.up(inputs(count=3, reboot=True)) == "update"  # adds
    assert reboots(admin) == 2
    assert res.up(inputs(count=2, reboot=True)) == "update"  # removes
    assert reboots(admin) == 3
    kept = res.outputs["private_ips"]
    assert res.up(inputs(private_ips=[kept[0], "192.168.0.99"], reboot=True)) == "update"
    assert reboots(admin) == 4  # adds and removes
    res.destroy()
    assert reboots(admin) == 5
    assert secondary(admin) == []


def test_a_failed_reboot_warns_and_keeps_the_change(
    res: EngineResource, admin: Admin, provider_server: ProviderProcess
) -> None:
    refuse_reboot = refused("RebootInstance", code="Instance.RebootInstanceOperationForbidden")
    before = len(provider_server.stderr_lines)
    admin.faults(refuse_reboot)
    assert res.up(inputs(count=2, reboot=True)) == "create"
    assert res.outputs["private_ips"] == secondary(admin)
    assert len(secondary(admin)) == 2
    assert res.up(inputs(count=1, reboot=True)) == "update"
    assert res.outputs["private_ips"] == secondary(admin)
    assert len(secondary(admin)) == 1
    res.destroy()
    assert secondary(admin) == []
    warnings = [line for line in provider_server.stderr_lines[before:] if "WARNING: reboot" in line]
    assert len(warnings) == 3, warnings
    assert all("Instance.RebootInstanceOperationForbidden" in w for w in warnings)
    assert all("address change is saved" in w for w in warnings)


def test_a_reboot_past_its_deadline_warns_and_keeps_the_change(
    emulator: RunningEmulator,
    admin: Admin,
    monkeypatch: pytest.MonkeyPatch,
    stderr: Callable[[], str],
) -> None:
    admin.post("bcc/instances", {"id": "i-slowboot", "reboot_seconds": 60})
    monkeypatch.setattr(reboot, "REBOOT_DEADLINE_SECONDS", 0.3)
    provider = in_process(emulator)
    created = provider.create(checked(instance_id="i-slowboot", count=1, reboot=True))
    assert created.outs["private_ips"] == secondary(admin, instance="i-slowboot")
    err = stderr()
    assert "WARNING: reboot i-slowboot did not complete: still Starting" in err
    assert "address change is saved" in err
