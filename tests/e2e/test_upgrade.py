"""Upgrading under an existing stack: state written by the previous release (its
``__provider`` is a pickled class reference) keeps working with the code in this work
tree, through the real CLI: preview and refresh see no change, counts and the
bandwidth change in place, destroy releases everything."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ..conftest import Admin
from .conftest import REPO, Stack, held, mutating_calls
from .test_lifecycle import ids_of

# The previous release: the last commit landed before the redesign (resilience core,
# inputs declaration). State written by it is what users upgrade from.
PREVIOUS_RELEASE = "dfa8261e269bfdd3f932c3e4d6e08de9ad3f927f"

VM = "i-DhjUXmSA"  # the emulator's default VM (192.168.0.0/24)
FIXED_IPS = ["192.168.0.200", "192.168.0.201"]

PROGRAM = f"""
import pulumi
import pulumi_batchip as batchip

cfg = pulumi.Config()
edge = batchip.EipBatch(
    "edge",
    count=cfg.require_int("eips"),
    bandwidth={{"size": cfg.require_int("mbits"), "share_type": "PER"}},
    tags={{"env": "e2e", "team": "edge"}},
)
app = batchip.SecondaryIpSet("app", instance_id="{VM}", count=cfg.require_int("ips"))
fixed = batchip.SecondaryIpSet("fixed", instance_id="{VM}", private_ips={FIXED_IPS!r})
pulumi.export("package", batchip.__file__)
pulumi.export("eip_ids", edge.eip_ids)
pulumi.export("public_ips", edge.public_ips)
pulumi.export("app_ips", app.private_ips)
pulumi.export("fixed_ips", fixed.private_ips)
"""

# Appended to the extracted release's __init__.py: each process that imports that copy
# notes its sys.argv[0] (the dynamic provider's is .../pulumi/dynamic/__main__.py).
IMPORT_MARKER = """
import sys as _sys

with open({path!r}, "a", encoding="utf-8") as _marker:
    _marker.write(_sys.argv[0] + "\\n")
"""

# What the engine prints for a resource step other than "same" (the summary and the
# per-resource lines of --diff).
CHANGED = re.compile(r"to (create|update|replace|delete)|\b(created|updated|replaced|deleted)\b")


def extract_release(commit: str, into: Path) -> Path:
    """``pulumi_batchip`` as of ``commit``, under ``into`` (a folder for PYTHONPATH)."""
    known = subprocess.run(
        ["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if known.returncode != 0:
        pytest.fail(
            f"commit {commit} (the previous release) is not in the clone at {REPO}: "
            "a shallow clone? `git fetch --unshallow` (or a deeper fetch) brings it. "
            f"git: {known.stderr.strip()}"
        )
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit, "pulumi_batchip"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def vm_secondary(cloud: Admin) -> list[str]:
    return sorted(cloud.state()["bcc"]["instances"][VM]["secondary"]["ipv4"])


def eips(cloud: Admin) -> dict[str, dict[str, Any]]:
    return dict(cloud.state()["eip"]["publicips"])


def test_state_from_previous_release_keeps_working(
    stack: Stack, cloud: Admin, tmp_path: Path
) -> None:
    old = extract_release(PREVIOUS_RELEASE, tmp_path / "previous")
    importers = tmp_path / "imported-previous.txt"
    init = old / "pulumi_batchip" / "__init__.py"
    init.write_text(init.read_text() + IMPORT_MARKER.format(path=str(importers)))
    shared_bandwidths = set(cloud.state()["eip"]["bandwidths"])  # the emulator's own

    # -- the previous release writes the state ------------------------------------------
    stack.write_program(PROGRAM)
    stack.init({"eips": "3", "mbits": "5", "ips": "2"})
    stack.python_path(old)
    stack.up()
    first = stack.outputs()
    assert Path(first["package"]).is_relative_to(old), first["package"]
    argv0s = importers.read_text().splitlines()
    assert any(a.endswith("pulumi/dynamic/__main__.py") for a in argv0s), argv0s
    ids = ids_of(stack)
    assert set(ids) >= {"edge", "app", "fixed"}, ids

    assert sorted(first["fixed_ips"]) == FIXED_IPS and len(first["app_ips"]) == 2
    assert vm_secondary(cloud) == sorted(first["app_ips"] + FIXED_IPS)
    made = eips(cloud)
    assert sorted(made) == sorted(first["eip_ids"]) and len(made) == 3
    assert sorted(e["public_ip_address"] for e in made.values()) == sorted(first["public_ips"])
    assert {e["bandwidth_size"] for e in made.values()} == {5}
    assert all({"env*e2e", "team*edge"} <= set(e["tags"]) for e in made.values())

    # -- the work tree's code from here on -------------------------------------------
    stack.python_path()
    imported_before = importers.read_text()
    before = len(cloud.requests())
    # (The stack output `package` changes; outputs are not resource changes.)
    preview = stack.preview("--expect-no-changes", "--diff")
    assert str(REPO / "pulumi_batchip") in preview.stdout, preview.stdout
    assert re.search(r"Resources:\s+4 unchanged\s*$", preview.stdout), preview.stdout
    assert not CHANGED.search(preview.stdout), preview.stdout
    refreshed = stack.refresh("--expect-no-changes")
    assert re.search(r"Resources:\s+4 unchanged", refreshed.stdout), refreshed.stdout
    assert not CHANGED.search(refreshed.stdout), refreshed.stdout
    assert mutating_calls(cloud.requests()[before:]) == []
    assert ids_of(stack) == ids

    # 3 -> 5 EIPs on a 5 -> 10 Mbit/s bandwidth, 2 -> 3 addresses: all in place.
    stack.config_set("eips", "5")
    stack.config_set("mbits", "10")
    stack.config_set("ips", "3")
    before = len(cloud.requests())
    result = stack.up()
    assert "replace" not in result.stdout, result.stdout
    assert re.search(r"~ 2 updated", result.stdout), result.stdout
    calls = mutating_calls(cloud.requests()[before:])
    released = {"BatchDelIp", "BatchDeletePublicIp", "DeletePublicip"}
    assert not released & {c["operation"] for c in calls}, calls
    assert (
        sum(c["body"]["publicip_number"] for c in calls if c["operation"] == "BatchCreatePublicips")
        == 2
    )
    second = stack.outputs()
    assert Path(second["package"]).is_relative_to(REPO), second["package"]
    assert ids_of(stack) == ids
    assert second["eip_ids"][:3] == first["eip_ids"]
    assert second["app_ips"][:2] == first["app_ips"] and len(second["app_ips"]) == 3
    assert second["fixed_ips"] == first["fixed_ips"]
    assert vm_secondary(cloud) == sorted(second["app_ips"] + FIXED_IPS)
    resized = [c for c in calls if c["operation"] == "UpdateBandwidth"]
    assert len(resized) == 3, calls  # each old EIP's dedicated bandwidth, in place
    grown = eips(cloud)
    assert sorted(grown) == sorted(second["eip_ids"])
    assert {e["bandwidth_size"] for e in grown.values()} == {10}
    assert {i: grown[i]["bandwidth_id"] for i in made} == {
        i: e["bandwidth_id"] for i, e in made.items()
    }
    assert all({"env*e2e", "team*edge"} <= set(e["tags"]) for e in grown.values())

    stack.destroy()
    assert held(cloud) == (0, 0)
    assert vm_secondary(cloud) == []
    assert set(cloud.state()["eip"]["bandwidths"]) == shared_bandwidths
    assert stack.resources() == []
    assert importers.read_text() == imported_before  # the old copy was not used again
