"""Recovering from an interrupted `pulumi up` of a stack that uses the native plugin
(``batchip:index:EipBatch``, camelCase names, the ``batchip:`` settings): `kill -9`
once the batch's EIPs exist, then `python -m pulumi_batchip orphans` finds them, says
how to adopt them in the plugin's spelling, and the adoption works."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_batchip.emulator import (
    DEFAULT_HW_PROJECT_ID,
    EmulatorConfig,
    RunningEmulator,
    start_emulator,
)

from ..conftest import Admin
from .conftest import HW_AK, HW_SK, Stack, held, native_stack
from .test_recovery import batch_of, kill_mid_up, listed_eips, orphans

PROGRAM = """
import pulumi

cfg = pulumi.Config()
props = {"count": 3, "bandwidth": {"size": 5, "shareType": "PER"}, "eipIds": None}
if cfg.get("adopt"):
    props["adoptBatchId"] = cfg.get("adopt")
edge = pulumi.CustomResource("batchip:index:EipBatch", "edge", props)
pulumi.export("eip_ids", edge.eipIds)
"""


@pytest.fixture(scope="module")
def e2e_emulator() -> Iterator[RunningEmulator]:
    """Slow EIP jobs: the kill lands after the EIPs exist, before the job ends."""
    with start_emulator(config=EmulatorConfig(job_seconds=6)) as running:
        yield running


def test_kill_then_orphans_then_adopt_with_the_plugin(
    stack: Stack, cloud: Admin, tmp_path: Path
) -> None:
    # Every setting as a `batchip:` key (the credentials secret), none in the
    # environment: orphans reads them from the plugin provider's inputs in the export.
    native_stack(stack, tmp_path, environment=False)
    stack.write_program(PROGRAM)
    stack.init(
        {
            "batchip:huaweiRegion": "cn-north-4",
            "batchip:huaweiProjectId": DEFAULT_HW_PROJECT_ID,
        }
    )
    stack.config_set("batchip:huaweiAccessKey", HW_AK, secret=True)
    stack.config_set("batchip:huaweiSecretKey", HW_SK, secret=True)
    kill_mid_up(stack, cloud, lambda: held(cloud)[1] >= 3)
    left = cloud.state()["eip"]["publicips"]
    [batch] = {batch_of(e) for e in left.values()}
    pending = stack.export()["deployment"]["pending_operations"]
    assert [p["resource"]["inputs"]["batchId"] for p in pending] == [batch]

    found = orphans(stack, show_secrets=True)
    assert found.returncode == 0, found.stderr
    assert listed_eips(found.stdout) == set(left)
    assert "interrupted: urn:pulumi:e2e::batchip-e2e::batchip:index:EipBatch::edge" in found.stdout
    assert "orphans of stack batchip-e2e/e2e: 3 EIP(s) in 1 batch(es)" in found.stdout
    assert f'give the batchip:index:EipBatch the input adoptBatchId: "{batch}"' in found.stdout
    assert "adopt_batch_id" not in found.stdout

    # Without --show-secrets and no variable: the error names the plugin's key.
    sealed = orphans(stack, credentials=False)
    assert sealed.returncode == 2
    assert "batchip:huaweiAccessKey" in sealed.stderr and "HW_ACCESS_KEY" in sealed.stderr
    assert "--show-secrets" in sealed.stderr
    # The variables work whatever the export holds.
    assert listed_eips(orphans(stack).stdout) == set(left)

    time.sleep(6)  # the killed create's job finishes on its own
    stack.config_set("adopt", batch)
    stack.up()
    assert set(stack.outputs()["eip_ids"]) == set(left)
    assert held(cloud)[1] == 3  # nothing created beside them
    stack.refresh("--clear-pending-creates")
    again = orphans(stack, show_secrets=True)
    assert listed_eips(again.stdout) == set() and "0 EIP(s)" in again.stdout
    stack.destroy()
    assert held(cloud) == (0, 0)
