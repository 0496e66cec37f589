"""The README's performance figures are the published benchmark results: a rerun that
changes them must change the README too (and the other way round)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
HARNESS = json.loads((ROOT / "benchmarks/results/results.json").read_text())
CLI = json.loads((ROOT / "benchmarks/results/engine-cli.json").read_text())


def _run(runs: list[dict[str, Any]], resource: str | None, approach: str, n: int) -> Any:
    for run in runs:
        if (
            run["n"] == n
            and run["approach"] == approach
            and run.get("resource", resource) == (resource)
        ):
            return run
    raise AssertionError(f"no {resource} {approach} N={n} run in the results")


def _close(shown: float, measured: float) -> bool:
    """Shown rounded to 2 or 3 significant figures (21.46 shows as 21), or to 0.1 s."""
    return abs(shown - measured) <= max(0.051, 0.025 * measured)


def _section(title: str) -> str:
    start = README.index(title)
    return README[start : README.index("\n## ", start)]


HARNESS_ROW = re.compile(
    r"^\| (\d+) \| (\d+) / ([\d.]+) s \| (\d+) / ([\d.]+) s \| ([\d.]+)\u00d7 / ([\d.]+)\u00d7 \|$",
    re.M,
)


def test_the_harness_table_is_the_published_results() -> None:
    rows = HARNESS_ROW.findall(_section("## Performance"))
    assert [int(r[0]) for r in rows] == [10, 50, 200, 1000]
    for n, calls, secs, base_calls, base_secs, calls_x, time_x in rows:
        batch = _run(HARNESS["runs"], "EipBatch", "batch", int(n))
        base = _run(HARNESS["runs"], "EipBatch", "baseline", int(n))
        assert int(calls) == batch["calls"] and int(base_calls) == base["calls"], n
        assert _close(float(secs), batch["seconds"]), (n, secs, batch["seconds"])
        assert _close(float(base_secs), base["seconds"]), (n, base_secs, base["seconds"])
        assert _close(float(calls_x), base["calls"] / batch["calls"]), n
        assert _close(float(time_x), base["seconds"] / batch["seconds"]), n


CLI_ROW = re.compile(
    r"^\| (\d+) \| (\d+) / (\d+) \| ([\d.]+)\u00d7 \| ([\d.]+) / ([\d.]+) \| ([\d.]+)\u00d7 \|$",
    re.M,
)


def test_the_cli_table_is_the_published_results() -> None:
    rows = CLI_ROW.findall(_section("## Performance"))
    assert [int(r[0]) for r in rows] == CLI["settings"]["sizes"]
    for n, calls, base_calls, calls_x, secs, base_secs, time_x in rows:
        batch = _run(CLI["runs"], None, "batch", int(n))
        base = _run(CLI["runs"], None, "baseline", int(n))
        assert (int(calls), int(base_calls)) == (batch["calls"], base["calls"]), n
        assert _close(float(secs), batch["seconds"]) and _close(float(base_secs), base["seconds"])
        assert _close(float(calls_x), base["calls"] / batch["calls"]), n
        assert _close(float(time_x), base["seconds"] / batch["seconds"]), n


@pytest.mark.parametrize("n", [40])
def test_the_secondary_ip_sentence_is_the_published_results(n: int) -> None:
    match = re.search(
        rf"`SecondaryIpSet\(count={n}\)` takes (\d+) API calls and ([\d.]+) s; {n} one-address "
        r"sets take (\d+)\s+calls and ([\d.]+) s",
        README,
    )
    assert match, "the README no longer says it"
    batch = _run(HARNESS["runs"], "SecondaryIpSet", "batch", n)
    base = _run(HARNESS["runs"], "SecondaryIpSet", "baseline", n)
    assert int(match[1]) == batch["calls"] and int(match[3]) == base["calls"]
    assert _close(float(match[2]), batch["seconds"]) and _close(float(match[4]), base["seconds"])


def test_the_peak_memory_sentence_is_the_published_results() -> None:
    match = re.search(r"peaks at (\d+) MiB while creating 1000\s+EIPs \((\d+) MiB idle\)", README)
    assert match, "the README no longer says it"
    peak = _run(HARNESS["runs"], "EipBatch", "batch", 1000)["peak_rss_kib"] / 1024
    idle = HARNESS["overhead"]["rpc"]["idle_peak_rss_kib"] / 1024
    assert abs(int(match[1]) - peak) <= 1 and abs(int(match[2]) - idle) <= 1


def test_the_run_time_import_cost_and_delete_wait_are_the_published_ones() -> None:
    from pulumi_batchip.emulator import EmulatorConfig

    section = _section("## Performance")
    minutes = re.search(r"A full run takes about (\d+)\s+minutes", section)
    assert minutes and abs(int(minutes[1]) - HARNESS["total_seconds"] / 60) <= 1
    imported = re.search(r"`import pulumi_batchip` adds about (\d+) ms", section)
    measured = HARNESS["overhead"]["import"]["batchip_ms"]
    assert imported and abs(int(imported[1]) - measured) <= 0.1 * measured
    wait = re.search(r"`PENDING_DELETE` for ([\d.]+) s", section)
    assert wait and float(wait[1]) == EmulatorConfig().delete_seconds


NATIVE_ROW = re.compile(
    r"^\| (\d+) \| (\d+) / ([\d.]+) s \| (\d+) / ([\d.]+) s "
    r"\| ([\d.]+)\u00d7 / ([\d.]+)\u00d7 \| ([\d.]+)\u00d7 / ([\d.]+)\u00d7 \|$",
    re.M,
)


def test_the_native_plugin_table_is_the_published_results() -> None:
    rows = NATIVE_ROW.findall(_section("## Performance"))
    assert [int(r[0]) for r in rows] == CLI["settings"]["sizes"]
    for n, calls, secs, base_calls, base_secs, calls_x, time_x, single_x, single_time_x in rows:
        batch = _run(CLI["runs"], None, "native_batch", int(n))
        base = _run(CLI["runs"], None, "native_baseline", int(n))
        single = _run(CLI["runs"], None, "baseline", int(n))
        assert (int(calls), int(base_calls)) == (batch["calls"], base["calls"]), n
        assert _close(float(secs), batch["seconds"]) and _close(float(base_secs), base["seconds"])
        assert _close(float(calls_x), base["calls"] / batch["calls"]), n
        assert _close(float(time_x), base["seconds"] / batch["seconds"]), n
        assert _close(float(single_x), single["calls"] / batch["calls"]), n
        assert _close(float(single_time_x), single["seconds"] / batch["seconds"]), n


def test_the_cli_tables_are_the_reports_readme_tables() -> None:
    """Exactly what ``python -m benchmarks --engine cli --report-only`` prints to paste."""
    from benchmarks.engine_cli_report import readme_tables

    section = _section("## Performance")
    for line in readme_tables(CLI).splitlines():
        assert line in section, line


def test_the_cli_sentences_are_the_published_results() -> None:
    section = _section("## Performance")
    version = re.search(r"`python -m benchmarks --engine cli`: (v[\d.]+),", section)
    assert version and version[1] == CLI["pulumi"]["version"]
    cost = re.search(
        r"fixed cost of about ([\d.]+) s \(`up` of a program with no resource;\s+"
        r"([\d.]+) s for `destroy`\)\. The engine's cost per resource grows with N: about "
        r"(\d+) ms per\s+resource on `up` between 50 and 200 resources, (\d+) ms between "
        r"200 and 1000, .*?`PULUMI_SKIP_CHECKPOINTS=true`, (\d+) ms per resource from 1 "
        r"to 1000\)",
        section,
        re.S,
    )
    assert cost, "the README no longer says it"
    overhead = CLI["overhead"]
    sizes = re.search(r"the tables above\s+are from a run at ([\d, and]+)\.", section)
    assert sizes and [int(n) for n in re.findall(r"\d+", sizes[1])] == CLI["settings"]["sizes"]
    assert abs(float(cost[1]) - overhead["up"]["empty_seconds"]) <= 0.05
    assert abs(float(cost[2]) - overhead["destroy"]["empty_seconds"]) <= 0.05
    steps = {(step["from"], step["to"]): step for step in overhead["up"]["steps"]}
    assert abs(int(cost[3]) - steps[(50, 200)]["per_resource_ms"]) <= 1
    assert abs(int(cost[4]) - steps[(200, 1000)]["per_resource_ms"]) <= 1
    assert abs(int(cost[5]) - overhead["skip_checkpoints"]["up_per_resource_ms"]) <= 1
