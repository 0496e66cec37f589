"""Recovering from an interrupted `pulumi up` (README "Recovering from an interrupted
`pulumi up`"): `kill -9` mid-create, then `python -m pulumi_batchip orphans`, then
adopt or release, and the stack matches the cloud. Also: adoption of what was made
outside Pulumi, and two sets on one VM."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pulumi_batchip.baidu.bcc import BccClient
from pulumi_batchip.config import BaiduSettings, Credentials, HuaweiSettings
from pulumi_batchip.emulator import DEFAULT_HW_PROJECT_ID
from pulumi_batchip.huawei.eip import BandwidthSpec, BatchCreateRequest, EipClient
from pulumi_batchip.orphans import run as run_orphans

from ..conftest import Admin
from .conftest import BCE_AK, BCE_SK, HW_AK, HW_SK, Stack, held

BATCH = """
import pulumi
import pulumi_batchip as batchip

cfg = pulumi.Config()
edge = batchip.EipBatch(
    "edge",
    count=cfg.get_int("count") or 120,
    bandwidth={"size": 5, "share_type": "PER"},
    adopt_batch_id=cfg.get("adopt"),
)
pulumi.export("eip_ids", edge.eip_ids)
"""


def batch_of(eip: dict[str, Any]) -> str:
    [batch] = [t.split("*", 1)[1] for t in eip["tags"] if t.startswith("pulumi-batchip-batch*")]
    return batch


def kill_mid_up(stack: Stack, cloud: Admin, appeared: Any) -> str:
    """`pulumi up` killed with SIGKILL (with its plugins) once ``appeared()``; the
    lock file it leaves is removed as its error message says. Returns its output."""
    running = stack.popen("up", "--yes", "--skip-preview")
    assert running.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not appeared():
        time.sleep(0.05)
    assert appeared(), "nothing happened before the kill"
    stack.kill(running)
    printed = running.stdout.read()
    running.stdout.close()
    for lock in (stack.state_dir / ".pulumi" / "locks").rglob("*.json"):
        lock.unlink()
    return printed


CREDENTIAL_ENV = {
    "HW_ACCESS_KEY": HW_AK,
    "HW_SECRET_KEY": HW_SK,
    "BAIDUCLOUD_ACCESS_KEY": BCE_AK,
    "BAIDUCLOUD_SECRET_KEY": BCE_SK,
}


def orphans(
    stack: Stack,
    *args: str,
    show_secrets: bool = False,
    via_stdin: bool = False,
    credentials: bool = True,
) -> subprocess.CompletedProcess[str]:
    """The orphans command as a user runs it on a fresh export: credentials from the
    environment, or (``show_secrets``) from an export made with --show-secrets, or
    (``credentials=False``) from nowhere."""
    export = stack.dir / "export.json"
    flags = ["--show-secrets"] if show_secrets else []
    export.write_text(stack.run("stack", "export", *flags).stdout)
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_ENV}
    if credentials and not show_secrets:
        env.update(CREDENTIAL_ENV)
    state = "-" if via_stdin else str(export)
    with export.open() as stdin:
        return subprocess.run(
            [sys.executable, "-m", "pulumi_batchip", "orphans", "--state", state, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=stdin if via_stdin else subprocess.DEVNULL,
        )


def neighbour_stack(stack: Stack) -> list[str]:
    """Another stack of the same project, with EIPs of its own: never an orphan of ours."""
    config = json.loads(stack.run("config", "--json", "--show-secrets").stdout)
    stack.run("stack", "init", "neighbour")
    for key, entry in config.items():
        stack.config_set(key, str(entry["value"]), secret=bool(entry.get("secret")))
    stack.config_set("count", "2")
    stack.up()
    ids = list(stack.outputs()["eip_ids"])
    stack.run("stack", "select", "e2e")
    return ids


def lost_batch(stack: Stack, cloud: Admin) -> tuple[str, set[str]]:
    stack.write_program(BATCH)
    stack.init()
    neighbours = neighbour_stack(stack)
    cloud.faults({"operation": "BatchCreatePublicips", "action": "delay", "seconds": 0.5})
    printed = kill_mid_up(stack, cloud, lambda: held(cloud)[1] > len(neighbours))
    time.sleep(3)  # jobs the cloud accepted finish on their own
    cloud.clear_faults()
    ours = {i: e for i, e in cloud.state()["eip"]["publicips"].items() if i not in set(neighbours)}
    [batch] = {batch_of(e) for e in ours.values()}
    assert f"batchip: EipBatch {batch}: creating 120 EIPs" in printed
    return batch, set(ours)


def listed_eips(output: str) -> set[str]:
    return {line.split()[1] for line in output.splitlines() if line.startswith("EIP ")}


def test_kill_then_orphans_then_adopt(stack: Stack, cloud: Admin) -> None:
    batch, left = lost_batch(stack, cloud)
    found = orphans(stack)
    assert found.returncode == 0, found.stderr
    assert listed_eips(found.stdout) == left  # exactly the leftovers, no neighbour's
    assert f'adopt_batch_id="{batch}"' in found.stdout
    assert "interrupted: urn:pulumi:e2e::batchip-e2e::" in found.stdout
    assert f"orphans of stack batchip-e2e/e2e: {len(left)} EIP(s) in 1 batch(es)" in found.stdout

    # Adopt them: the next `up` makes them the batch's members and tops up to 120.
    stack.config_set("adopt", batch)
    before = len(cloud.requests())
    stack.up()
    created = sum(
        r["body"]["publicip_number"]
        for r in cloud.requests()[before:]
        if r["operation"] == "BatchCreatePublicips"
    )
    assert created == 120 - len(left)
    eip_ids = set(stack.outputs()["eip_ids"])
    assert left <= eip_ids and len(eip_ids) == 120
    # The engine keeps the interrupted create in pending_operations even after a
    # successful `up`; `refresh --clear-pending-creates` drops it.
    assert stack.export()["deployment"].get("pending_operations")
    stack.refresh("--clear-pending-creates")
    assert not stack.export()["deployment"].get("pending_operations")
    again = orphans(stack)
    assert listed_eips(again.stdout) == set()
    assert "0 EIP(s)" in again.stdout and "interrupted:" not in again.stdout
    stack.destroy()
    assert held(cloud)[1] == 2  # the neighbour's
    stack.run("stack", "select", "neighbour")
    stack.destroy()
    stack.run("stack", "select", "e2e")
    assert held(cloud) == (0, 0)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_kill_then_orphans_release(stack: Stack, cloud: Admin) -> None:
    _batch, left = lost_batch(stack, cloud)
    # Credentials from an export made with --show-secrets; the state read from stdin.
    listed = orphans(stack, show_secrets=True, via_stdin=True)
    assert listed.returncode == 0, listed.stderr
    assert listed_eips(listed.stdout) == left
    # Without the credentials anywhere: a clear error naming where to put them.
    export = stack.dir / "plain.json"
    export.write_text(stack.run("stack", "export").stdout)
    bare = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_ENV}
    no_keys = subprocess.run(
        [sys.executable, "-m", "pulumi_batchip", "orphans", "--state", str(export)],
        env=bare, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert no_keys.returncode == 2
    assert "HW_SECRET_KEY" in no_keys.stderr and "huaweicloud:secretKey" in no_keys.stderr

    refused = orphans(stack, "--release")  # no terminal to ask on, no --yes
    assert refused.returncode == 2 and "refusing to release without --yes" in refused.stdout
    assert held(cloud)[1] == len(left) + 2
    # On a terminal it asks first; "n" releases nothing.
    out = io.StringIO()
    code = run_orphans(
        str(export), do_release=True, yes=False, stdin=Terminal(), out=out,
        ask=lambda _question: "n", env=CREDENTIAL_ENV,
    )  # fmt: skip
    assert code == 0 and "nothing released" in out.getvalue()
    assert held(cloud)[1] == len(left) + 2
    # A bound EIP is skipped (its delete would be refused), the rest released.
    bound = sorted(left)[0]
    cloud.post("eip/bind", {"publicip_id": bound, "port_id": "port-1"})
    partial = orphans(stack, "--release", "--yes")
    assert partial.returncode == 1
    assert f"skipped EIP {bound}: bound to port port-1" in partial.stdout
    assert f"released {len(left) - 1} EIP(s); 1 skipped" in partial.stdout
    cloud.post("eip/unbind", {"publicip_id": bound})
    released = orphans(stack, "--release", "--yes")
    assert released.returncode == 0, released.stderr
    assert "released 1 EIP(s); 0 skipped" in released.stdout
    assert held(cloud)[1] == 2  # only the neighbour's remain
    # The stack drops the interrupted create, and matches the cloud: nothing of ours.
    stack.refresh("--clear-pending-creates")
    assert not stack.export()["deployment"].get("pending_operations")
    assert listed_eips(orphans(stack).stdout) == set()
    stack.run("stack", "select", "neighbour")
    stack.destroy()
    stack.run("stack", "select", "e2e")
    assert held(cloud) == (0, 0)


def test_orphans_never_releases_a_same_named_stack_of_another_backend(
    stack: Stack, cloud: Admin, tmp_path: Path, pulumi_bin: Path
) -> None:
    """Two backends each hold a stack batchip-e2e/e2e, so their EIPs carry the same
    stack tag. One's batch is live; the other's create was killed. `orphans` on the
    other's export lists and releases only the batch its state records (the killed
    create's, in pending_operations); one's live EIPs are only counted, and stay."""
    stack.write_program(BATCH)
    stack.init({"count": "2"})
    stack.up()
    live = set(stack.outputs()["eip_ids"])
    other = Stack(tmp_path / "other", pulumi_bin, cloud.url)
    other.write_program(BATCH)
    other.init()
    try:
        cloud.faults({"operation": "BatchCreatePublicips", "action": "delay", "seconds": 0.5})
        kill_mid_up(other, cloud, lambda: held(cloud)[1] > len(live))
        time.sleep(3)  # jobs the cloud accepted finish on their own
        cloud.clear_faults()
        left = set(cloud.state()["eip"]["publicips"]) - live
        [pending] = other.export()["deployment"]["pending_operations"]
        recorded = pending["resource"]["inputs"]["batch_id"]
        assert {batch_of(cloud.state()["eip"]["publicips"][i]) for i in left} == {recorded}
        found = orphans(other)
        assert found.returncode == 0, found.stderr
        assert listed_eips(found.stdout) == left
        [live_batch] = [r["id"] for r in stack.resources() if r["type"].endswith("EipBatch")]
        assert f"not listed: 2 EIP(s) in 1 batch(es) ({live_batch})" in found.stdout
        assert "recorded nowhere in this state" in found.stdout
        released = orphans(other, "--release", "--yes")
        assert released.returncode == 0, released.stderr
        assert f"released {len(left)} EIP(s); 0 skipped" in released.stdout
        assert set(cloud.state()["eip"]["publicips"]) == live
        # From the live stack's side the other's leftovers are gone, and nothing of
        # its own is an orphan.
        mine = orphans(stack)
        assert listed_eips(mine.stdout) == set() and "not listed" not in mine.stdout
    finally:
        other.run("cancel", "--yes", check=False)
        shutil.rmtree(tmp_path / "other", ignore_errors=True)
    stack.destroy()
    assert held(cloud) == (0, 0)


ADOPTING = """
import pulumi
import pulumi_batchip as batchip

cfg = pulumi.Config()
edge = batchip.EipBatch(
    "edge",
    count=2,
    publicip_type=cfg.get("type") or "5_bgp",
    bandwidth={"size": 5, "share_type": "PER"},
    adopt_eip_ids=cfg.get_object("adopt"),
)
pulumi.export("eip_ids", edge.eip_ids)
"""


def test_adoption_inputs_left_in_the_program_never_act_on_a_replacement(
    stack: Stack, cloud: Admin
) -> None:
    """An EIP made by hand is adopted; the program keeps adopt_eip_ids; a publicip_type
    change replaces the batch. The engine checks the old inputs first, so the provider
    knows these adoption inputs acted already: the new batch is created whole, the old
    one (the adopted EIP with it) released, and the state lists what exists."""
    client = EipClient.from_settings(
        HuaweiSettings(Credentials(HW_AK, HW_SK), "cn-north-4", DEFAULT_HW_PROJECT_ID, cloud.url)
    )
    try:
        client.batch_create_publicips(
            BatchCreateRequest(
                count=1, publicip_type="5_bgp", ip_version=4,
                bandwidth=BandwidthSpec(size=5, share_type="PER", name="by-hand"),
            )
        )  # fmt: skip
    finally:
        client.close()
    deadline = time.monotonic() + 10
    while not cloud.state()["eip"]["publicips"] and time.monotonic() < deadline:
        time.sleep(0.1)
    [by_hand] = cloud.state()["eip"]["publicips"]
    stack.write_program(ADOPTING)
    stack.init({"adopt": json.dumps([by_hand])})
    stack.up()
    first = set(stack.outputs()["eip_ids"])
    assert by_hand in first and len(first) == 2
    stack.config_set("type", "5_sbgp")
    replaced = stack.up()
    assert f"not adopting {by_hand} again" in replaced.stdout
    now = set(stack.outputs()["eip_ids"])
    assert len(now) == 2 and not now & first
    assert set(cloud.state()["eip"]["publicips"]) == now
    stack.destroy()
    assert held(cloud) == (0, 0)


FIXED = """
import pulumi
import pulumi_batchip as batchip

cfg = pulumi.Config()
app = batchip.SecondaryIpSet(
    "app",
    instance_id="i-DhjUXmSA",
    private_ips=["192.168.0.50", "192.168.0.51"],
    reboot=True,
    adopt=cfg.get_bool("adopt") or False,
)
pulumi.export("ips", app.private_ips)
"""


def test_secondary_ips_left_by_a_kill_are_named_then_adopted(stack: Stack, cloud: Admin) -> None:
    stack.write_program(FIXED)
    stack.init()
    # The reboot wait is where a kill lands: the addresses are added and announced.
    printed = kill_mid_up(stack, cloud, lambda: held(cloud)[0] == 2)
    assert "added 192.168.0.50, 192.168.0.51" in printed
    found = orphans(stack)
    assert found.returncode == 0, found.stderr
    for ip in ("192.168.0.50", "192.168.0.51"):
        assert f"secondary IP {ip} on i-DhjUXmSA" in found.stdout
    assert "named by the interrupted operation" in found.stdout
    assert "never removes secondary IPs" in found.stdout
    released = orphans(stack, "--release", "--yes")
    assert "nothing to release" in released.stdout
    assert held(cloud)[0] == 2

    failed = stack.up(check=False)  # the addresses are taken: a clear way out
    assert failed.returncode != 0
    assert "PrivateIpInUseException" in failed.stdout and "adopt=True" in failed.stdout
    stack.config_set("adopt", "true")
    before = len(cloud.requests())
    stack.up()
    assert not [r for r in cloud.requests()[before:] if r["operation"] == "BatchAddIp"]
    assert stack.outputs()["ips"] == ["192.168.0.50", "192.168.0.51"]
    stack.destroy()
    assert held(cloud) == (0, 0)


def test_adopting_addresses_made_outside_pulumi(stack: Stack, cloud: Admin) -> None:
    settings = BaiduSettings(Credentials(BCE_AK, BCE_SK), "bj", cloud.url)
    client = BccClient.from_settings(settings)
    try:
        client.batch_add_ip("i-DhjUXmSA", client_token="outside-1", private_ips=["192.168.0.50"])
    finally:
        client.close()
    stack.write_program(FIXED.replace("reboot=True", "reboot=False"))
    stack.init({"adopt": "true"})
    before = len(cloud.requests())
    stack.up()
    [add] = [r for r in cloud.requests()[before:] if r["operation"] == "BatchAddIp"]
    assert add["body"]["privateIps"] == ["192.168.0.51"]  # only the missing one
    assert stack.outputs()["ips"] == ["192.168.0.50", "192.168.0.51"]
    stack.destroy()
    assert held(cloud) == (0, 0)


TWO_SETS = """
import pulumi
import pulumi_batchip as batchip

cfg = pulumi.Config()
if cfg.get_bool("a"):
    a = batchip.SecondaryIpSet(
        "a", instance_id="i-DhjUXmSA", private_ips=["192.168.0.5", "192.168.0.6", "192.168.0.7"]
    )
if cfg.get_bool("b"):
    b = batchip.SecondaryIpSet("b", instance_id="i-DhjUXmSA", count=1)
    pulumi.export("b", b.private_ips)
"""


def test_a_set_never_deletes_an_address_another_set_took(stack: Stack, cloud: Admin) -> None:
    """A owns .5 .6 .7; an operator removes .6 by hand; B is created and BCC gives it
    .6; A (not refreshed, so still claiming .6) is then removed from the program: its
    delete leaves .6 to B."""
    stack.write_program(TWO_SETS)
    stack.init({"a": "true", "b": "false"})
    stack.up()
    settings = BaiduSettings(Credentials(BCE_AK, BCE_SK), "bj", cloud.url)
    client = BccClient.from_settings(settings)
    try:
        client.batch_del_ip("i-DhjUXmSA", ["192.168.0.6"], client_token="by-hand")
    finally:
        client.close()
    stack.config_set("b", "true")
    stack.up()
    assert stack.outputs()["b"] == ["192.168.0.6"]  # the emulator hands out the lowest free
    stack.config_set("a", "false")
    result = stack.up()
    assert "not deleting 192.168.0.6: another set now owns it" in result.stdout
    vm = cloud.state()["bcc"]["instances"]["i-DhjUXmSA"]["secondary"]["ipv4"]
    assert vm == ["192.168.0.6"]
    stack.destroy()
    assert held(cloud) == (0, 0)


def test_orphans_refuses_what_is_not_a_stack_export(tmp_path: Path) -> None:
    bad = tmp_path / "not-an-export.json"
    bad.write_text("{}")
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_batchip", "orphans", "--state", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "orphans: the state file is not `pulumi stack export` output (no deployment)"
    )


def test_orphans_on_an_export_without_secrets_says_how_to_read_them(
    stack: Stack, cloud: Admin
) -> None:
    """The secret key is in the export, encrypted: the error says to export again with
    --show-secrets or to set the environment, instead of only 'missing'."""
    stack.write_program(
        "import pulumi_batchip as batchip\n"
        'batchip.EipBatch("edge", count=1, bandwidth={"size": 5, "share_type": "PER"})\n'
    )
    stack.init()
    stack.up()
    result = orphans(stack, credentials=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "missing Huawei secret key" in result.stderr
    assert "The export holds " in result.stderr and "huaweicloud:secretKey" in result.stderr
    assert "pulumi stack export --show-secrets" in result.stderr
    assert HW_SK not in result.stderr
    stack.destroy()
    assert held(cloud) == (0, 0)


GROWING = """
import pulumi
import pulumi_batchip as batchip

cfg = pulumi.Config()
ips = cfg.get_object("ips")
app = batchip.SecondaryIpSet(
    "app",
    instance_id="i-DhjUXmSA",
    count=None if ips else (cfg.get_int("count") or 3),
    private_ips=ips,
    reboot=cfg.get_bool("reboot") or False,
    adopt=cfg.get_bool("adopt") or False,
)
pulumi.export("ips", app.private_ips)
"""


def on_vm(cloud: Admin) -> list[str]:
    return list(cloud.state()["bcc"]["instances"]["i-DhjUXmSA"]["secondary"]["ipv4"])


def advice(addresses: list[str]) -> str:
    listed = ", ".join(f'"{a}"' for a in addresses)
    return f'SecondaryIpSet("app", ..., private_ips=[{listed}], adopt=True) in place of count'


def test_an_interrupted_count_increase_is_listed_then_adopted_by_update(
    stack: Stack, cloud: Admin
) -> None:
    """`kill -9` during count 3 -> 6: `orphans` lists the 3 leftovers, and its advice,
    followed as printed, makes the existing set own all 6 by an update."""
    stack.write_program(GROWING)
    stack.init()
    stack.up()
    three = list(stack.outputs()["ips"])
    assert len(three) == 3
    stack.config_set("count", "6")
    stack.config_set("reboot", "true")
    # The reboot after the add is where the kill lands: the 3 are added, in no state.
    cloud.faults({"operation": "RebootInstance", "action": "delay", "seconds": 5, "times": 1})
    printed = kill_mid_up(stack, cloud, lambda: held(cloud)[0] == 6)
    cloud.clear_faults()
    six = on_vm(cloud)
    left = [a for a in six if a not in three]
    assert len(left) == 3 and f"added {', '.join(left)}" in printed

    found = orphans(stack)
    assert found.returncode == 0, found.stderr
    assert "interrupted: urn:pulumi:e2e::batchip-e2e::" in found.stdout
    listed = [line for line in found.stdout.splitlines() if line.startswith("secondary IP ")]
    assert [line.split()[2] for line in listed] == left
    for line in listed:
        assert "maybe the interrupted operation's" in line
    [vm_line] = [line for line in found.stdout.splitlines() if line.startswith("  VM ")]
    assert f"Adopt: {advice(three + left)}, then `pulumi up`" in vm_line
    assert "3 secondary IP(s) that no set owns" in found.stdout

    # Following the advice as printed: an update of the existing set claims the 3.
    stack.config_set("ips", json.dumps(three + left))
    stack.config_set("adopt", "true")
    before = len(cloud.requests())
    stack.up()
    assert not [r for r in cloud.requests()[before:] if r["operation"] == "BatchAddIp"]
    assert stack.outputs()["ips"] == three + left
    assert on_vm(cloud) == six
    again = orphans(stack)
    assert "secondary IP " not in again.stdout and "0 secondary IP(s)" in again.stdout
    stack.destroy()
    assert held(cloud) == (0, 0)


def test_leftovers_stay_findable_after_a_later_successful_update(
    stack: Stack, cloud: Admin
) -> None:
    """Addresses left on a set's VM (as by an interrupted increase), then an `up` that
    allocates fresh ones and leaves no pending operation: `orphans` still lists the
    leftovers, saying it cannot tell whose they are, and its advice works."""
    stack.write_program(GROWING)
    stack.init()
    stack.up()
    three = list(stack.outputs()["ips"])
    settings = BaiduSettings(Credentials(BCE_AK, BCE_SK), "bj", cloud.url)
    client = BccClient.from_settings(settings)
    try:
        client.batch_add_ip("i-DhjUXmSA", client_token="left", count=3)
    finally:
        client.close()
    left = [a for a in on_vm(cloud) if a not in three]
    stack.config_set("count", "6")
    stack.up()
    six = list(stack.outputs()["ips"])
    assert len(six) == 6 and not set(left) & set(six)
    assert not stack.export()["deployment"].get("pending_operations")

    found = orphans(stack)
    assert found.returncode == 0, found.stderr
    assert "interrupted:" not in found.stdout
    listed = [line for line in found.stdout.splitlines() if line.startswith("secondary IP ")]
    assert [line.split()[2] for line in listed] == left
    for line in listed:
        assert "maybe an earlier interrupted `pulumi up`'s" in line
        assert len(line) < 120  # short: the advice comes once per VM
    [vm_line] = [line for line in found.stdout.splitlines() if line.startswith("  VM ")]
    assert vm_line.startswith("  VM i-DhjUXmSA: 3 secondary IP(s) owned by no SecondaryIpSet")
    assert "BCC does not say whose" in vm_line and "never removes secondary IPs" in vm_line
    assert f"Adopt: {advice(six + left)}, then `pulumi up`" in vm_line
    released = orphans(stack, "--release", "--yes")
    assert "nothing to release" in released.stdout
    assert len(on_vm(cloud)) == 9

    stack.config_set("ips", json.dumps(six + left))
    failed = stack.up(check=False)  # without adopt: taken, and the way out named
    assert failed.returncode != 0 and "PrivateIpInUseException" in failed.stdout
    assert "set adopt=True on this set, keeping these private_ips" in failed.stdout
    stack.config_set("adopt", "true")
    stack.up()
    assert stack.outputs()["ips"] == six + left
    assert "0 secondary IP(s)" in orphans(stack).stdout
    stack.destroy()
    assert held(cloud) == (0, 0)
