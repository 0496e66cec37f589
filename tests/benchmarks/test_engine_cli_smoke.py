"""``python -m benchmarks --engine cli --quick`` runs end to end through the real Pulumi
CLI (scripts/pulumi-cli.sh): API calls are counted for up and destroy, EipBatch makes
fewer than one resource per address, through the dynamic provider and through the
native plugin (this checkout's, by the benchmark's launcher), the engine really created
and deleted every resource, and the emulator is empty at the end. Results go to a
temporary folder. No timing is asserted beyond "measured": wall times vary by machine.

Skips with the script's reason when it cannot provide a CLI, unless
``BATCHIP_E2E_REQUIRED=1``: then it fails (as the e2e tests do)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _require_cli() -> None:
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "pulumi-cli.sh")],
        capture_output=True,
        text=True,
        timeout=3600,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0 or not done.stdout.strip():
        reason = f"scripts/pulumi-cli.sh failed (exit {done.returncode}): {done.stderr[-2000:]}"
        if os.environ.get("BATCHIP_E2E_REQUIRED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.mark.timeout(300)
def test_quick_cli_benchmark_counts_calls_and_batch_uses_fewer(tmp_path: Path) -> None:
    _require_cli()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--engine", "cli", "--quick", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-4000:]

    results = json.loads((tmp_path / "engine-cli.json").read_text())
    assert results["engine"] == "cli" and results["settings"]["quick"]
    runs = {(r["approach"], r["n"]): r for r in results["runs"]}
    [n] = results["settings"]["sizes"]
    assert n > 1
    batch, baseline = runs[("batch", n)], runs[("baseline", n)]

    # Calls were counted, split into up and destroy, for both approaches.
    for run in (batch, baseline):
        assert run["up_calls_total"] > 0 and run["destroy_calls_total"] > 0, run
        assert run["calls"] == run["up_calls_total"] + run["destroy_calls_total"]
        assert run["up_seconds"] > 0 and run["destroy_seconds"] > 0
    # One create and one delete per address for the baseline, one batch for EipBatch.
    assert baseline["up_calls"]["CreatePublicip"] == n
    assert baseline["destroy_calls"]["DeletePublicip"] == n
    assert batch["up_calls"]["BatchCreatePublicips"] == 1
    assert "CreatePublicip" not in batch["up_calls"]
    assert batch["calls"] < baseline["calls"], (batch, baseline)

    # The same through the plugin: one batch, against N batches of one.
    native, native_base = runs[("native_batch", n)], runs[("native_baseline", n)]
    assert native["up_calls"]["BatchCreatePublicips"] == 1
    assert native_base["up_calls"]["BatchCreatePublicips"] == n
    assert native_base["destroy_calls"]["BatchDeletePublicIp"] == n
    assert native["calls"] < native_base["calls"] and native["calls"] < baseline["calls"]
    assert native["up_seconds"] > 0 and native_base["destroy_seconds"] > 0
    assert results["native_plugin"]["launcher"] == "pulumi-resource-batchip"

    # The real engine created and deleted every resource (+ the stack), the emulator
    # held the N EIPs after up and none after destroy, and is empty at the end.
    for (approach, size), run in runs.items():
        resources = {"batch": 1, "native_batch": 1, "empty": 0}.get(approach, size)
        assert run["engine_created"] == run["engine_deleted"] == resources + 1, run
        cloud = approach in ("batch", "baseline", "native_batch", "native_baseline")
        assert run["held_after_up"] == (size if cloud else 0)
        assert run["held_after_destroy"] == 0
    assert runs[("noop", n)]["calls"] == runs[("empty", 0)]["calls"] == 0
    assert runs[("noop_skip_checkpoints", n)]["calls"] == 0
    assert results["emulator_empty_at_end"] is True

    overhead = results["overhead"]
    assert overhead["noop_sizes"] == [1, n]
    assert overhead["up"]["empty_seconds"] > 0
    assert set(overhead["skip_checkpoints"]) >= {"up_per_resource_ms", "destroy_per_resource_ms"}

    report = (tmp_path / "engine-cli.md").read_text()
    assert "EipBatch(count=N)" in report and "per resource" in report
    assert "## The same through the native provider plugin" in report
    assert "plugin: EipBatch count N" in report
    assert not (tmp_path / "results.json").exists()  # the harness mode's files: untouched
