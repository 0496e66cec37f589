"""The real-CLI benchmark's pieces that need no CLI: the ``--sizes`` and repeat flags,
the no-op schedule (fewer runs above N = 500), the native plugin's launcher and the
report of the plugin path. Fast: nothing here runs ``pulumi``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from benchmarks import engine_cli, run
from benchmarks.engine_cli import (
    CLOUD_APPROACHES,
    LARGE_N,
    PROGRAMS,
    SIZES,
    CliSettings,
    engine_overhead,
    noop_schedule,
    parse_sizes,
    plugin_launcher,
    resources_in,
)
from benchmarks.engine_cli_report import markdown, readme_tables


def test_the_default_sizes_reach_1000() -> None:
    assert SIZES == (10, 50, 200, 1000)


def test_sizes_flag() -> None:
    assert parse_sizes("10,50,200,1000") == (10, 50, 200, 1000)
    assert parse_sizes("200, 10,10,") == (10, 200)
    for bad in ("", "1", "10,x", "0,5"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_sizes(bad)


def test_cli_only_flags_are_refused_for_the_harness(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run.main(["--sizes", "10,50"])
    assert exited.value.code == 2
    assert "--engine cli" in capsys.readouterr().err


class _Ran(Exception):
    pass


def _settings_from(monkeypatch: pytest.MonkeyPatch, *argv: str) -> CliSettings:
    """The settings ``python -m benchmarks --engine cli ARGV`` would run with."""
    seen: list[CliSettings] = []

    def fake_run_all(settings: CliSettings, bindir: Path) -> dict[str, Any]:
        seen.append(settings)
        raise _Ran

    monkeypatch.setattr(engine_cli, "find_toolchain", lambda: Path("/nowhere"))
    monkeypatch.setattr(engine_cli, "run_all", fake_run_all)
    with pytest.raises(_Ran):
        run.main(["--engine", "cli", *argv])
    [settings] = seen
    return settings


def test_flags_make_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    full = _settings_from(monkeypatch)
    assert full.sizes == SIZES and full.noop_sizes == (1, *SIZES)
    assert (full.repeats, full.large_repeats, full.latency, full.job_seconds) == (5, 3, 0.02, 1.0)

    chosen = _settings_from(
        monkeypatch, "--sizes", "10,50,200,1000", "--noop-repeats", "4", "--noop-repeats-large", "2"
    )
    assert chosen.sizes == (10, 50, 200, 1000) and (chosen.repeats, chosen.large_repeats) == (4, 2)

    quick = _settings_from(monkeypatch, "--quick")
    assert quick.sizes == (5,) and (quick.repeats, quick.large_repeats) == (1, 1)
    assert _settings_from(monkeypatch, "--quick", "--sizes", "5,10").sizes == (5, 10)


def test_noop_schedule_runs_the_large_n_fewer_times() -> None:
    rounds = noop_schedule((10, 50, 200, 1000), repeats=5, large_repeats=3)
    assert len(rounds) == 5
    counted = Counter(program for one in rounds for program in one)
    assert counted[("empty", 0)] == 5
    assert [counted[("noop", n)] for n in (1, 10, 50, 200, 1000)] == [5, 5, 5, 5, 3]
    assert counted[("noop_skip_checkpoints", 1)] == 5
    assert counted[("noop_skip_checkpoints", 1000)] == 3
    assert len(counted) == 8
    assert all(("noop", 1000) not in one for one in rounds[3:])
    # Every round in the same order: interleaved, so drift spreads evenly.
    assert rounds[0][:2] == [("empty", 0), ("noop", 1)]

    small = noop_schedule((10, 50, 200), repeats=5, large_repeats=3)
    assert [len(one) for one in small] == [7] * 5  # LARGE_N is not reached: all 5 times
    assert max(n for one in small for _, n in one) <= LARGE_N

    # More large runs than small ones: the last rounds hold only the large N.
    assert noop_schedule((10, 1000), repeats=1, large_repeats=2)[1] == [
        ("noop", 1000),
        ("noop_skip_checkpoints", 1000),
    ]


def test_native_programs_declare_the_plugin_type() -> None:
    for approach in ("native_batch", "native_baseline"):
        program = PROGRAMS[approach].format(n=3)
        compile(program, approach, "exec")
        assert '"batchip:index:EipBatch"' in program and "pulumi_batchip" not in program
    assert '"count": 3' in PROGRAMS["native_batch"].format(n=3)
    assert "range(3)" in PROGRAMS["native_baseline"].format(n=3)
    assert '"count": 1' in PROGRAMS["native_baseline"].format(n=3)
    assert [resources_in(a, 7) for a in CLOUD_APPROACHES] == [1, 7, 1, 7]


def test_the_launcher_runs_this_checkouts_plugin(tmp_path: Path) -> None:
    """From anywhere, with no PYTHONPATH: the plugin of this checkout (first on the
    path the launcher sets: an installed pulumi_batchip may be another checkout's)
    starts and prints its port, as the engine expects of a plugin it starts with its
    address (nothing answers there: the plugin is killed before it would notice)."""
    launcher = plugin_launcher(tmp_path / "bin")
    assert launcher.name == "pulumi-resource-batchip" and os.access(launcher, os.X_OK)
    text = launcher.read_text()
    assert sys.executable in text
    assert f'PYTHONPATH="{engine_cli.REPO_ROOT}' in text  # this checkout first
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    plugin = subprocess.Popen(
        [str(launcher), "127.0.0.1:1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert plugin.stdout is not None
        port = plugin.stdout.readline().strip()
        assert port.isdigit(), (port, plugin.stderr.read() if plugin.poll() is not None else "")
    finally:
        plugin.kill()
        plugin.wait(timeout=30)


def _run(approach: str, n: int, calls: tuple[int, int], seconds: tuple[float, float]) -> Any:
    up, down = seconds
    return {
        "approach": approach,
        "n": n,
        "up_samples": [up],
        "destroy_samples": [down],
        "up_calls": {"Op": calls[0]} if calls[0] else {},
        "destroy_calls": {"Op": calls[1]} if calls[1] else {},
        "up_seconds": up,
        "destroy_seconds": down,
        "seconds": up + down,
        "up_calls_total": calls[0],
        "destroy_calls_total": calls[1],
        "calls": sum(calls),
    }


def _results(sizes: tuple[int, ...], native: bool) -> dict[str, Any]:
    runs = [_run("empty", 0, (0, 0), (1.5, 0.8))]
    for n in (1, *sizes):
        runs.append(_run("noop", n, (0, 0), (2 + n * 0.03, 1 + n * 0.02)))
    for n in (1, max(sizes)):
        runs.append(_run("noop_skip_checkpoints", n, (0, 0), (1.5 + n * 0.008, 1.0)))
    for n in sizes:
        runs.append(_run("batch", n, (7, 6), (3.0, 2.0)))
        runs.append(_run("baseline", n, (4 * n, 4 * n), (0.35 * n, 0.2 * n)))
        if native:
            runs.append(_run("native_batch", n, (7, 6), (2.5, 1.5)))
            runs.append(_run("native_baseline", n, (7 * n, 6 * n), (0.4 * n, 0.1 * n)))
    settings = CliSettings(0.02, 1.0, sizes, (1, *sizes), repeats=5, quick=False, large_repeats=3)
    return {
        "settings": {
            "latency": settings.latency,
            "job_seconds": settings.job_seconds,
            "sizes": list(sizes),
            "noop_sizes": [1, *sizes],
            "repeats": settings.repeats,
            "large_repeats": settings.large_repeats,
            "quick": False,
        },
        "pulumi": {"version": "v3.260.0"},
        "native_plugin": {"provider_threads": 6},
        "machine": {"python": "3.11", "platform": "Linux", "cpus": 2},
        "date": "2026-12-03",
        "runs": runs,
        "overhead": engine_overhead(runs),
        "emulator_empty_at_end": True,
        "total_seconds": 100.0,
    }


def test_the_report_shows_the_plugin_path() -> None:
    results = _results((10, 1000), native=True)
    report = markdown(results)
    assert "## The same through the native provider plugin" in report
    assert "| 1000 | plugin: 1000 x EipBatch count 1 | 7000 + 6000 = **13000** |" in report
    # Against the one-request-per-address approach: 8000 calls / 550 s, plugin batch 13 / 4 s.
    assert "| 1000 | 8000 / 550.00 s | 13000 / 500.00 s | 13 / 5.00 s | 13 / 4.00 s " in report
    assert "| 615.4x / 110.0x | 615.4x / 137.5x |" in report
    assert "Those at N = 1000 ran 3 times only." in report
    tables = readme_tables(results)
    assert "| 1000 | 13 / 8000 | 615\u00d7 | 5.00 / 550.00 | 110\u00d7 |" in tables
    assert (
        "| 1000 | 13 / 4.00 s | 13000 / 500.00 s | 1000\u00d7 / 125\u00d7 | 615\u00d7 / 138\u00d7 |"
        in (tables)
    )
    assert "| 10 | 13 / 4.00 s | 130 / 5.00 s | 10\u00d7 / 1.2\u00d7 | 6.2\u00d7 / 1.4\u00d7 |" in (
        tables
    )


def test_the_report_of_a_run_without_the_plugin_path() -> None:
    """Results from before the plugin path (the committed ones may be) still render."""
    results = _results((10, 50), native=False)
    report = markdown(results)
    assert "native provider plugin" not in report and "plugin:" not in report
    assert "ran 3 times" not in report  # no N above LARGE_N
    assert "plugin" not in readme_tables(results)
