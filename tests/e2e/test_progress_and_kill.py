"""Progress lines in the CLI's output, and `kill -9` of `pulumi` in the middle of a
120-EIP create: what the next commands say and what is left in the cloud."""

from __future__ import annotations

import re
import time

from ..conftest import Admin
from .conftest import Stack, held

REBOOTING = """
import pulumi
import pulumi_batchip as batchip

edge = batchip.EipBatch("edge", count=60, bandwidth={"size": 5, "share_type": "PER"})
app = batchip.SecondaryIpSet("app", instance_id="i-DhjUXmSA", count=1, reboot=True)
"""


def test_progress_lines_reach_the_cli(stack: Stack, cloud: Admin) -> None:
    stack.write_program(REBOOTING)
    stack.init()
    result = stack.up()
    # EIP jobs: one line per state change of the 2 chunks' jobs, then the total.
    assert "batchip: EipBatch " in result.stdout and "creating 60 EIPs" in result.stdout
    assert "batchip: job 2/2 SUCCESS" in result.stdout
    # The reboot wait of SecondaryIpSet(reboot=True).
    assert "batchip: reboot i-DhjUXmSA: requested" in result.stdout
    assert "batchip: reboot i-DhjUXmSA: Running after" in result.stdout
    stack.destroy()
    assert held(cloud) == (0, 0)


KILLED = """
import pulumi
import pulumi_batchip as batchip

edge = batchip.EipBatch("edge", count=120, bandwidth={"size": 5, "share_type": "PER"})
pulumi.export("eip_ids", edge.eip_ids)
"""


def test_kill_9_mid_create(stack: Stack, cloud: Admin) -> None:
    """Records what happens today (the ownership work builds recovery on it): the
    EIPs created before the kill stay in the cloud, tagged with their batch id; the
    export shows the pending create; the next `up` warns about it and creates a new
    batch; `refresh` cannot see the lost batch."""
    # Slow jobs, so the kill lands while they run.
    cloud.faults({"operation": "BatchCreatePublicips", "action": "delay", "seconds": 0.5})
    stack.write_program(KILLED)
    stack.init()
    stack.config_set("batchip:eipJobTimeout", "120")
    running = stack.popen("up", "--yes", "--skip-preview")
    assert running.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and held(cloud)[1] == 0:
        time.sleep(0.05)
    assert held(cloud)[1] > 0, "no EIP appeared before the kill"
    stack.kill(running)  # pulumi, its language host and its providers
    printed = running.stdout.read()
    running.stdout.close()
    time.sleep(3)  # jobs already accepted by the cloud finish on their own
    left = cloud.state()["eip"]["publicips"]
    assert len(left) > 0
    batch_tags = {
        tag.split("*", 1)[1]
        for e in left.values()
        for tag in e["tags"]
        if tag.startswith("pulumi-batchip-batch*")
    }
    assert len(batch_tags) == 1  # every leftover EIP names the one lost batch
    # ... and that batch id reached the user's terminal before the kill.
    announced = re.findall(r"batchip: EipBatch (\S+): creating 120 EIPs", printed)
    assert announced and set(announced) == batch_tags, printed

    exported = stack.export()["deployment"]
    pending = exported.get("pending_operations") or []
    assert [p["type"] for p in pending] == ["creating"]
    assert pending[0]["resource"]["urn"].endswith("::edge")
    assert not [r for r in exported.get("resources") or [] if r["urn"].endswith("::edge")]

    # The killed `up` left the file backend's lock: every command that writes says so
    # and names the lock file to delete.
    locked = stack.refresh(check=False)
    assert locked.returncode != 0
    assert "the stack is currently locked" in locked.stderr
    locks = list((stack.state_dir / ".pulumi" / "locks").rglob("*.json"))
    assert len(locks) == 1 and str(locks[0].name) in locked.stderr
    locks[0].unlink()

    # Non-interactive `refresh` says nothing of the pending create and keeps it.
    refreshed = stack.refresh()
    assert "pending" not in refreshed.stdout.lower()
    assert [p["type"] for p in stack.export()["deployment"]["pending_operations"]] == ["creating"]

    # The next `up` knows nothing of them: it creates a whole new batch beside them.
    result = stack.up()
    assert "1 pending operations from previous deployment" in result.stdout
    assert "EipBatch::edge, interrupted while creating" in result.stdout
    assert len(stack.outputs()["eip_ids"]) == 120
    assert held(cloud)[1] == 120 + len(left)
    stack.destroy()
    assert held(cloud)[1] == len(left)  # still there: the orphans to find and release
    cloud.reset()
