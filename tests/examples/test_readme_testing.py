"""The README's "Testing your stack" code blocks, run exactly as printed by pytest in a
folder outside the repository (as a user's project would), with the installed package
and its pytest plugin. The README cannot rot: change a block and this runs the change."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def readme_blocks() -> dict[str, str]:
    """File name (from the block's first comment line) -> code, for the section's blocks."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Testing your stack", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    named = {}
    for block in blocks:
        match = re.match(r"# (test_\w+\.py)", block)
        assert match, block[:80]
        named[match.group(1)] = block
    return named


def test_the_readme_shows_a_unit_test_and_an_emulator_test() -> None:
    blocks = readme_blocks()
    assert sorted(blocks) == ["test_emulator.py", "test_unit.py"]
    assert "batchip_mocks" in blocks["test_unit.py"]
    assert "batchip_emulator" in blocks["test_emulator.py"]


def test_readme_testing_blocks_pass_outside_the_repository(tmp_path: Path) -> None:
    for name, code in readme_blocks().items():
        (tmp_path / name).write_text(code)
    result = subprocess.run(
        # One process per file: each sets its own mocks, as separate test modules
        # of a user's project would under pytest-forked or separate runs.
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_unit.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_emulator.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_both_readme_blocks_pass_in_one_run_in_either_order(tmp_path: Path) -> None:
    """The emulator test's mocks (whose emulator is gone after it) never reach the unit
    tests: each unit test sets its own with the batchip_mocks fixture."""
    for name, code in readme_blocks().items():
        (tmp_path / name).write_text(code)
    for order in (["test_unit.py", "test_emulator.py"], ["test_emulator.py", "test_unit.py"]):
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *order],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "3 passed" in result.stdout
        assert time.monotonic() - started < 60  # no connection-refused retries
