"""The benchmark suite runs end to end in its quick mode (small N, short emulator
jobs): one command, results written, and the batch resources use fewer API calls than
one resource per address. No timing is asserted: wall times vary by machine."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_writes_results_and_batch_uses_fewer_calls(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads((tmp_path / "results.json").read_text())
    runs = {(r["resource"], r["approach"], r["n"]): r for r in results["runs"]}
    for resource in ("EipBatch", "SecondaryIpSet"):
        largest = max(n for (res, _approach, n) in runs if res == resource)
        assert largest > 1
        batch, baseline = runs[(resource, "batch", largest)], runs[(resource, "baseline", largest)]
        assert batch["calls"] < baseline["calls"], (resource, batch, baseline)
        # Every run created and deleted through the provider: both phases made calls.
        assert all(r["create_calls"] and r["delete_calls"] for r in results["runs"])

    overhead = results["overhead"]
    assert all(0 < size < 1000 for size in overhead["provider_bytes"].values())
    assert overhead["import"]["breakdown_ms"]

    report = (tmp_path / "results.md").read_text()
    assert "## Targets" in report and "EipBatch(count=N)" in report
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
