"""engine-cli.md: the ``--engine cli`` results as Markdown tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .report import _ops, _ratio

LABEL = {"batch": "EipBatch(count=N)", "baseline": "{n} x SingleEip"}


def _label(approach: str, n: int) -> str:
    return LABEL[approach].format(n=n)


def _runs(results: Mapping[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r["approach"], r["n"]): r for r in results["runs"]}


def _harness_seconds(harness: Mapping[str, Any] | None, approach: str, n: int) -> str:
    if harness is None:
        return ""
    for r in harness["runs"]:
        if (r["resource"], r["approach"], r["n"]) == ("EipBatch", approach, n):
            return f"{r['create_seconds']:.2f} + {r['delete_seconds']:.2f} = {r['seconds']:.2f}"
    return "-"


def comparison_table(results: Mapping[str, Any], harness: Mapping[str, Any] | None) -> list[str]:
    runs = _runs(results)
    head = (
        "| N | approach | API calls: up + destroy | wall time (s): up + destroy "
        "| calls ratio | time ratio |" + (" harness mode (s): create + delete |" if harness else "")
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for n in results["settings"]["sizes"]:
        batch, base = runs[("batch", n)], runs[("baseline", n)]
        for run in (batch, base):
            is_base = run is base
            row = (
                f"| {n} | {_label(run['approach'], n)} "
                f"| {run['up_calls_total']} + {run['destroy_calls_total']} = **{run['calls']}** "
                f"| {run['up_seconds']:.2f} + {run['destroy_seconds']:.2f} = "
                f"**{run['seconds']:.2f}** "
                f"| {_ratio(base['calls'], batch['calls']) if is_base else ''} "
                f"| {_ratio(base['seconds'], batch['seconds']) if is_base else ''} |"
            )
            if harness:
                row += f" {_harness_seconds(harness, run['approach'], n)} |"
            lines.append(row)
    return lines


def operations_table(results: Mapping[str, Any]) -> list[str]:
    runs = _runs(results)
    lines = ["| N | approach | up: calls per operation | destroy: calls per operation |"]
    lines.append("|---|---|---|---|")
    for n in results["settings"]["sizes"]:
        for approach in ("batch", "baseline"):
            run = runs[(approach, n)]
            lines.append(
                f"| {n} | {_label(approach, n)} | {_ops(run['up_calls'])} "
                f"| {_ops(run['destroy_calls'])} |"
            )
    return lines


def _samples(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"**{sorted(values)[len(values) // 2]:.2f}** ({', '.join(f'{v:.2f}' for v in values)})"


def engine_tables(results: Mapping[str, Any]) -> list[str]:
    runs = _runs(results)
    o = results["overhead"]
    repeats = results["settings"]["repeats"]
    lines = [
        f"| program | up (s){', median (runs)' if repeats > 1 else ''} "
        f"| destroy (s){', median (runs)' if repeats > 1 else ''} |",
        "|---|---|---|",
        f"| empty (no resources) | {_samples(runs[('empty', 0)]['up_samples'])} "
        f"| {_samples(runs[('empty', 0)]['destroy_samples'])} |",
    ]
    for n in o["noop_sizes"]:
        run = runs[("noop", n)]
        lines.append(
            f"| {n} x NoOpEip | {_samples(run['up_samples'])} "
            f"| {_samples(run['destroy_samples'])} |"
        )
    for n in sorted(n for (a, n) in runs if a == "noop_skip_checkpoints"):
        run = runs[("noop_skip_checkpoints", n)]
        lines.append(
            f"| {n} x NoOpEip, `PULUMI_SKIP_CHECKPOINTS=true` | {_samples(run['up_samples'])} "
            f"| {_samples(run['destroy_samples'])} |"
        )
    up, down = o["up"], o["destroy"]
    sizes = ", ".join(str(n) for n in o["noop_sizes"])
    lines += [
        "",
        "| engine cost | `pulumi up` | `pulumi destroy` |",
        "|---|---|---|",
        f"| **per resource** (least-squares slope over N = {sizes}) "
        f"| **{up['per_resource_ms']:.1f} ms** | **{down['per_resource_ms']:.1f} ms** |",
    ]
    for step_up, step_down in zip(up["steps"], down["steps"], strict=True):
        lines.append(
            f"| per resource from N = {step_up['from']} to {step_up['to']} "
            f"| {step_up['per_resource_ms']:.1f} ms | {step_down['per_resource_ms']:.1f} ms |"
        )
    lines += [
        f"| fixed (the fit's intercept) | {up['intercept_seconds']:.2f} s "
        f"| {down['intercept_seconds']:.2f} s |",
        f"| the empty program | {up['empty_seconds']:.2f} s | {down['empty_seconds']:.2f} s |",
    ]
    skip = o.get("skip_checkpoints")
    if skip:
        lines.append(
            f"| per resource with `PULUMI_SKIP_CHECKPOINTS=true` (N = {skip['from']} to "
            f"{skip['to']}) | {skip['up_per_resource_ms']:.1f} ms "
            f"| {skip['destroy_per_resource_ms']:.1f} ms |"
        )
    return lines


def beyond_table(results: Mapping[str, Any]) -> list[str]:
    """Each approach's time minus the same engine work with no-op resources."""
    runs = _runs(results)
    lines = [
        "| N | N x SingleEip - N x NoOpEip (s) | EipBatch - 1 x NoOpEip (s) | ratio "
        "| the engine's share of N x SingleEip | the engine's share of EipBatch |",
        "|---|---|---|---|---|---|",
    ]
    one = runs[("noop", 1)]
    for n in results["settings"]["sizes"]:
        base, batch, noop = runs[("baseline", n)], runs[("batch", n)], runs.get(("noop", n))
        if noop is None:
            continue
        base_beyond = base["seconds"] - noop["seconds"]
        batch_beyond = batch["seconds"] - one["seconds"]
        lines.append(
            f"| {n} | {base_beyond:.2f} | {batch_beyond:.2f} | {_ratio(base_beyond, batch_beyond)} "
            f"| {noop['seconds'] / base['seconds']:.0%} | {one['seconds'] / batch['seconds']:.0%} |"
        )
    return lines


def _load(machine: Mapping[str, Any]) -> str:
    load = machine.get("load_average") or {}
    if load.get("start") is None:
        return ""
    return f" (1-minute load average {load['start']:g} at the start, {load['end']:g} at the end)"


def markdown(results: Mapping[str, Any], harness: Mapping[str, Any] | None = None) -> str:
    s = results["settings"]
    m = results["machine"]
    o = results["overhead"]
    top = max(s["sizes"])
    out = [
        "# Benchmarks through the real Pulumi CLI: batch against one request per address",
        "",
        f"`python -m benchmarks --engine cli{' --quick' if s['quick'] else ''}` on "
        f"{results['date']} ({m['platform']}, Python {m['python']}, {m['cpus']} CPUs), "
        f"Pulumi {results['pulumi']['version']} from `scripts/pulumi-cli.sh`; the whole "
        f"run took {results['total_seconds']:.0f} s{_load(m)}. The emulator was empty at "
        f"the end: {'yes' if results['emulator_empty_at_end'] else '**no**'}.",
        "",
        f"**Emulator settings: {s['latency'] * 1000:g} ms latency added to every API call; "
        f"EIP jobs (and a single EIP's `PENDING_CREATE`) last {s['job_seconds']:g} s** (as "
        "in the harness mode's `results.md`). Each figure is one real `pulumi up --yes "
        "--skip-preview` and `pulumi destroy --yes --skip-preview` of a real program, timed "
        "from the command's start to its exit: the CLI, the Python language host running "
        "the program, the dynamic-provider server (`pulumi-resource-pulumi-python`, 4 RPC "
        "threads; the engine's default `--parallel` is 8) and a local file backend, in one "
        "stack in a temporary folder. API calls come from the emulator's request log "
        "(`/_emulator/requests`), reset before each `up`; after each `up` the benchmark "
        "checks the emulator holds N EIPs and the engine reported N + 1 resources (the "
        "stack's included) created, after each `destroy` that nothing is left.",
        "",
        "## EipBatch(count=N) against N one-EIP resources",
        "",
        *comparison_table(results, harness),
        "",
        "The baseline is `benchmarks/baseline.py` `SingleEip` (one `CreatePublicip`, "
        "`ShowPublicip` until `DOWN` on EipBatch's poll schedule; `DeletePublicip` + one "
        "`ShowPublicip`), N resources in one program."
        + (
            " *harness mode*: the same runs driven over gRPC by `tests/engine/harness.py` "
            f"(`results.md`, {harness['date']}), without the CLI, language host and state."
            if harness
            else ""
        ),
        "",
        "## API calls per operation",
        "",
        *operations_table(results),
        "",
        "## The engine's own cost per resource",
        "",
        "`NoOpEip` (`benchmarks/noop.py`) has `SingleEip`'s inputs and outputs and a "
        "provider that makes no API call, so `pulumi up` of N of them is everything the "
        "engine, the language host, the SDK and the provider server spend on N resources "
        "(registration, Check and Create RPCs, a state checkpoint per step) and nothing "
        "else. The cost per resource is the least-squares slope of those times over N; "
        "the steps between successive N show whether it stays constant. Its intercept is "
        "the fixed cost (CLI start, program, provider process); the empty program has no "
        "provider process at all. Under the engine's parallelism this is throughput, not "
        "latency: with real API work most of it overlaps the waits. A command's time "
        "varies by a few tenths of a second from run to run, so the steps between small N "
        "are mostly noise; the slope rests on the larger N. The same no-op program with "
        "`PULUMI_SKIP_CHECKPOINTS=true` (the file backend then writes the state once at "
        "the end instead of after every step, each time the whole state) shows how much "
        "of the cost per resource is those writes."
        + (
            f" Each no-op and empty program ran {s['repeats']} times, interleaved "
            "(after one unrecorded warm-up); the median counts."
            if s["repeats"] > 1
            else ""
        ),
        "",
        *engine_tables(results),
        "",
        "### Time beyond the engine's own cost (up + destroy)",
        "",
        *beyond_table(results),
        "",
        f"At N = {top}, a `pulumi up` + `destroy` of {top} one-EIP resources spends "
        f"about {o['up']['per_resource_ms'] * top / 1000 + o['destroy']['per_resource_ms'] * top / 1000:.1f} s "  # noqa: E501
        "on the engine's own per-resource work; `EipBatch` is one resource whatever N.",
        "",
    ]
    return "\n".join(out)
