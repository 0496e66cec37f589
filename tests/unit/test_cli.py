"""`python -m pulumi_batchip`: commands with help, and a clear word for a typo."""

from __future__ import annotations

import subprocess
import sys


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pulumi_batchip", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_help_lists_the_commands() -> None:
    shown = cli("--help")
    assert shown.returncode == 0
    assert "<command>" in shown.stdout and "orphans" in shown.stdout
    assert "what pulumi-batchip made" in shown.stdout  # what the command is for


def test_a_command_has_its_own_help() -> None:
    shown = cli("orphans", "--help")
    assert shown.returncode == 0
    assert "--state STATE" in shown.stdout and "--release" in shown.stdout


def test_a_typo_is_named_with_the_command_it_resembles() -> None:
    typo = cli("orphan")
    assert typo.returncode == 2
    assert "unknown command 'orphan'; did you mean 'orphans'?" in typo.stderr


def test_no_command_prints_the_help() -> None:
    bare = cli()
    assert bare.returncode == 2 and "orphans" in bare.stderr
