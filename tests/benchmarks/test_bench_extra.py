"""`python -m benchmarks` needs only the `bench` extra: no pytest, no hypothesis
(issue 23, item 6). Run in a subprocess where importing them fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WITHOUT_TEST_TOOLS = """
import builtins, runpy, sys
real = builtins.__import__
def guard(name, *args, **kwargs):
    if name.split(".")[0] in ("pytest", "_pytest", "hypothesis"):
        raise ModuleNotFoundError(f"No module named {name!r}")
    return real(name, *args, **kwargs)
builtins.__import__ = guard
sys.argv = ["benchmarks", "--help"]
runpy.run_module("benchmarks", run_name="__main__")
"""


def test_benchmarks_start_without_the_test_tools() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", WITHOUT_TEST_TOOLS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    assert "--report-only" in ran.stdout
