"""In-place updates, replacements and out-of-band changes, through `pulumi config
set` + `pulumi up` / `refresh`, judged by the engine's output, the state and the
emulator's request log."""

from __future__ import annotations

import re
import time
from typing import Any

from pulumi_batchip.config import Credentials, HuaweiSettings
from pulumi_batchip.emulator import DEFAULT_HW_PROJECT_ID
from pulumi_batchip.huawei.eip import EipClient

from ..conftest import Admin
from .conftest import HW_AK, HW_SK, Stack, held, mutating_calls

PROGRAM = """
import pulumi
import pulumi_batchip as batchip

cfg = pulumi.Config()
edge = batchip.EipBatch(
    "edge",
    count=cfg.require_int("eips"),
    bandwidth={"size": 5, "share_type": "PER"},
    tags={"env": "e2e"},
)
app = batchip.SecondaryIpSet(
    "app",
    instance_id=cfg.get("instance") or "i-DhjUXmSA",
    count=cfg.require_int("ips"),
    ipv6=cfg.get_bool("ipv6") or False,
)
pulumi.export("batch_id", edge.batch_id)
pulumi.export("eip_ids", edge.eip_ids)
pulumi.export("public_ips", edge.public_ips)
pulumi.export("app_id", app.id)
pulumi.export("private_ips", app.private_ips)
"""


def ids_of(stack: Stack) -> dict[str, str]:
    return {r["urn"].rsplit("::", 1)[1]: r["id"] for r in stack.resources() if r.get("id")}


def added_count(calls: list[dict[str, Any]]) -> int:
    return sum(
        len(c["body"].get("privateIps") or []) or c["body"].get("secondaryPrivateIpAddressCount", 0)
        for c in calls
        if c["operation"] == "BatchAddIp"
    )


def test_counts_change_in_place(stack: Stack, cloud: Admin) -> None:
    stack.write_program(PROGRAM)
    stack.init({"eips": "120", "ips": "2"})
    stack.up()
    first = stack.outputs()
    ids = ids_of(stack)
    assert len(first["eip_ids"]) == 120 and len(first["private_ips"]) == 2
    assert held(cloud) == (2, 120)

    # 120 -> 130 EIPs, 2 -> 5 addresses: only the delta is created, same resources.
    stack.config_set("eips", "130")
    stack.config_set("ips", "5")
    before = len(cloud.requests())
    result = stack.up()
    calls = mutating_calls(cloud.requests()[before:])
    assert "replace" not in result.stdout
    assert re.search(r"~ 2 updated", result.stdout), result.stdout
    creates = [c for c in calls if c["operation"] == "BatchCreatePublicips"]
    assert sum(c["body"]["publicip_number"] for c in creates) == 10
    assert added_count(calls) == 3
    assert {c["operation"] for c in calls} == {"BatchCreatePublicips", "BatchAddIp"}
    second = stack.outputs()
    assert ids_of(stack) == ids
    assert second["batch_id"] == first["batch_id"]
    assert second["eip_ids"][:120] == first["eip_ids"]  # the old ones keep their place
    assert second["private_ips"][:2] == first["private_ips"]
    assert held(cloud) == (5, 130)

    # 130 -> 60 EIPs, 5 -> 1 address: the newest go, nothing is created.
    stack.config_set("eips", "60")
    stack.config_set("ips", "1")
    before = len(cloud.requests())
    result = stack.up()
    calls = mutating_calls(cloud.requests()[before:])
    assert "replace" not in result.stdout
    releases = {"BatchDeletePublicIp", "DeletePublicip", "BatchDelIp"}
    assert {c["operation"] for c in calls} <= releases
    deleted_eips = [
        i
        for c in calls
        if c["operation"] == "BatchDeletePublicIp"
        for i in c["body"]["publicip_ids"]
    ]
    assert sorted(deleted_eips) == sorted(second["eip_ids"][60:])
    [del_ip] = [c for c in calls if c["operation"] == "BatchDelIp"]
    assert sorted(del_ip["body"]["privateIps"]) == sorted(second["private_ips"][1:])
    third = stack.outputs()
    assert ids_of(stack) == ids
    assert third["eip_ids"] == second["eip_ids"][:60]
    assert third["private_ips"] == second["private_ips"][:1]
    assert held(cloud) == (1, 60)

    stack.destroy()
    assert held(cloud) == (0, 0)


def test_ip_version_change_replaces_create_before_delete(stack: Stack, cloud: Admin) -> None:
    """`ipv6` replaces the set; with a count (no fixed addresses) Pulumi's default
    order applies: the new set is created before the old one is deleted."""
    stack.write_program(PROGRAM)
    stack.init({"eips": "1", "ips": "2"})
    stack.up()
    old = stack.outputs()
    stack.config_set("ipv6", "true")
    before = len(cloud.requests())
    result = stack.up()
    assert "replaced" in result.stdout
    calls = [c["operation"] for c in mutating_calls(cloud.requests()[before:])]
    assert calls == ["BatchAddIp", "BatchDelIp"]
    new = stack.outputs()
    assert new["app_id"] != old["app_id"]
    assert all(":" in ip for ip in new["private_ips"])
    stack.destroy()
    assert held(cloud) == (0, 0)


FIXED = """
import pulumi
import pulumi_batchip as batchip

cfg = pulumi.Config()
app = batchip.SecondaryIpSet(
    "app",
    instance_id=cfg.require("instance"),
    private_ips=["10.9.0.20", "10.9.0.21"],
)
pulumi.export("app_id", app.id)
"""


def test_fixed_addresses_moving_vm_delete_before_create(stack: Stack, cloud: Admin) -> None:
    """Explicit addresses moving to another VM: the old set is deleted first (the
    addresses must be free before the other VM can take them)."""
    for vm in ("i-vmA", "i-vmB"):
        cloud.post(
            "bcc/instances",
            {"id": vm, "status": "Running", "memory": 8, "subnets": ["10.9.0.0/24"]},
        )
    stack.write_program(FIXED)
    stack.init({"instance": "i-vmA"})
    stack.up()
    stack.config_set("instance", "i-vmB")
    before = len(cloud.requests())
    result = stack.up()
    assert "replaced" in result.stdout
    calls = mutating_calls(cloud.requests()[before:])
    assert [(c["operation"], c["body"]["instanceId"]) for c in calls] == [
        ("BatchDelIp", "i-vmA"),
        ("BatchAddIp", "i-vmB"),
    ]
    vms = cloud.state()["bcc"]["instances"]
    assert vms["i-vmA"]["secondary"]["ipv4"] == []
    assert sorted(vms["i-vmB"]["secondary"]["ipv4"]) == ["10.9.0.20", "10.9.0.21"]
    stack.destroy()
    assert held(cloud) == (0, 0)


def test_out_of_band_delete_refresh_then_up_repairs(stack: Stack, cloud: Admin) -> None:
    stack.write_program(PROGRAM)
    stack.init({"eips": "5", "ips": "2"})
    stack.up()
    before_ids = stack.outputs()["eip_ids"]

    # An operator releases two EIPs behind Pulumi's back.
    settings = HuaweiSettings(
        Credentials(HW_AK, HW_SK), "cn-north-4", DEFAULT_HW_PROJECT_ID, cloud.url
    )
    client = EipClient.from_settings(settings)
    try:
        client.batch_delete_publicips(before_ids[:2])
    finally:
        client.close()
    deadline = time.monotonic() + 10  # deletes are asynchronous (PENDING_DELETE first)
    while held(cloud)[1] != 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert held(cloud)[1] == 3

    refreshed = stack.refresh()
    assert "~ 1 updated" in refreshed.stdout or "updated" in refreshed.stdout, refreshed.stdout
    assert stack.outputs()["eip_ids"] == before_ids  # outputs change only on the next up
    [edge] = [r for r in stack.resources() if r["urn"].endswith("::edge")]
    assert edge["outputs"]["eip_ids"] == before_ids[2:]

    # `preview` now shows the repair, `up` makes it: 2 new EIPs in the same batch.
    preview = stack.preview(check=False)
    assert "update" in preview.stdout
    before = len(cloud.requests())
    stack.up()
    calls = mutating_calls(cloud.requests()[before:])
    assert sum(c["body"]["publicip_number"] for c in calls) == 2
    after = stack.outputs()["eip_ids"]
    assert after[:3] == before_ids[2:] and len(after) == 5
    assert held(cloud) == (2, 5)
    stack.destroy()
    assert held(cloud) == (0, 0)
