"""pulumi_batchip.testing.BatchIpMocks: real checks, realistic offline outputs,
delegation to the user's own mocks, and real resources against the emulator."""

from __future__ import annotations

import ipaddress
from typing import Any

import pulumi
import pytest

import pulumi_batchip as batchip
from pulumi_batchip.emulator import RunningEmulator
from pulumi_batchip.testing import BatchIpMocks, InputCheckFailed

from ..conftest import Admin


def run(mocks: pulumi.runtime.Mocks, program: Any) -> dict[str, Any]:
    """Run ``program`` (returns a dict of outputs) under ``mocks``; the resolved dict."""
    pulumi.runtime.set_mocks(mocks, project="kit", stack="test", preview=False)
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[misc]
    def body() -> pulumi.Output[Any]:
        return pulumi.Output.all(**program()).apply(resolved.update)

    body()
    return resolved


def test_offline_outputs_are_realistic() -> None:
    out = run(
        BatchIpMocks(),
        lambda: {
            "v4": batchip.SecondaryIpSet("a", instance_id="i-1", count=3).private_ips,
            "v4b": batchip.SecondaryIpSet("b", instance_id="i-1", count=2).private_ips,
            "v6": batchip.SecondaryIpSet("c", instance_id="i-1", count=2, ipv6=True).private_ips,
            "fixed": batchip.SecondaryIpSet(
                "d", instance_id="i-2", private_ips=["10.0.0.7"]
            ).private_ips,
            "eips": batchip.EipBatch(
                "e", count=4, bandwidth={"size": 5, "share_type": "PER"}
            ).public_ips,
            "v6eips": batchip.EipBatch(
                "f", count=2, ip_version=6, bandwidth={"size": 5, "share_type": "PER"}
            ).public_ips,
            "whole": batchip.EipBatch(
                "g", count=2, bandwidth={"share_type": "WHOLE", "id": "bw-1"}
            ).bandwidth_ids,
            "batch": batchip.EipBatch(
                "h", count=1, bandwidth={"size": 5, "share_type": "PER"}
            ).batch_id,
        },
    )
    assert len(out["v4"]) == 3 and len(out["v4b"]) == 2
    assert not set(out["v4"]) & set(out["v4b"])  # two sets on one VM never share one
    assert all(ipaddress.ip_address(ip).version == 4 for ip in out["v4"])
    assert all(ipaddress.ip_address(ip).version == 6 for ip in out["v6"])
    assert out["fixed"] == ["10.0.0.7"]
    assert len(set(out["eips"])) == 4
    assert all(
        ipaddress.ip_address(ip) in ipaddress.ip_network("100.64.0.0/10") for ip in out["eips"]
    )
    assert all(ipaddress.ip_address(ip).version == 6 for ip in out["v6eips"])
    assert out["whole"] == ["bw-1", "bw-1"]
    assert out["batch"]


@pytest.mark.parametrize(
    ("make", "prop"),
    [
        (lambda: batchip.EipBatch("x", count=5000, bandwidth={"size": 5}), "count"),
        (
            lambda: batchip.EipBatch("x", count=1, bandwidth={"size": 5, "share_type": "NOPE"}),
            "bandwidth.share_type",
        ),
        (lambda: batchip.SecondaryIpSet("x", instance_id="i-1", count=0), "count"),
        (
            lambda: batchip.SecondaryIpSet("x", instance_id="i-1", private_ips=["2400::1"]),
            "private_ips",
        ),
    ],
)
def test_bad_input_fails_naming_the_property(make: Any, prop: str) -> None:
    with pytest.raises(InputCheckFailed) as info:
        run(BatchIpMocks(), lambda: {"x": make().id})
    assert f"resource 'x': property {prop} value " in str(info.value)
    assert "has a problem: " in str(info.value)


class Mine(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.seen.append(args.typ)
        return "mine-id", {**args.inputs, "extra": "from-mine"}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {"answer": 42}, None


class Other(pulumi.CustomResource):
    extra: pulumi.Output[str]

    def __init__(self, name: str, value: pulumi.Input[Any]) -> None:
        super().__init__("other:index:Thing", name, {"value": value, "extra": None})


def test_other_types_go_to_the_fallback_or_are_echoed() -> None:
    mine = Mine()
    out = run(
        BatchIpMocks(fallback=mine),
        lambda: {
            "extra": Other(
                "o", batchip.SecondaryIpSet("a", instance_id="i-1", count=1).private_ips
            ).extra
        },
    )
    assert out["extra"] == "from-mine"
    assert mine.seen == ["other:index:Thing"]
    echoed = run(BatchIpMocks(), lambda: {"extra": Other("o", 1).extra})
    assert echoed["extra"] is None


def test_get_reads_offline() -> None:
    out = run(
        BatchIpMocks(),
        lambda: {"ips": batchip.SecondaryIpSet.get("r", "i-1/192.168.0.7,192.168.0.8").private_ips},
    )
    assert out["ips"] == ["192.168.0.7", "192.168.0.8"]


def test_against_the_emulator_then_destroy_all(emulator: RunningEmulator, admin: Admin) -> None:
    mocks = BatchIpMocks(emulator=emulator)
    out = run(
        mocks,
        lambda: {
            "ips": batchip.SecondaryIpSet("a", instance_id="i-DhjUXmSA", count=2).private_ips,
            "eip_ids": batchip.EipBatch(
                "e", count=3, bandwidth={"size": 5, "share_type": "PER"}
            ).eip_ids,
        },
    )
    state = admin.state()
    assert sorted(out["ips"]) == sorted(
        state["bcc"]["instances"]["i-DhjUXmSA"]["secondary"]["ipv4"]
    )
    assert sorted(out["eip_ids"]) == sorted(state["eip"]["publicips"])
    mocks.destroy_all()
    state = admin.state()
    assert state["bcc"]["instances"]["i-DhjUXmSA"]["secondary"]["ipv4"] == []
    assert state["eip"]["publicips"] == {}
    mocks.destroy_all()  # nothing left: a no-op


def test_a_url_works_and_anything_else_is_refused(emulator: RunningEmulator) -> None:
    BatchIpMocks(emulator=emulator.url)
    with pytest.raises(TypeError, match="emulator must be"):
        BatchIpMocks(emulator=42)
