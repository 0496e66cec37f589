"""engine-cli.md: the ``--engine cli`` results as Markdown tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .report import _ops, _ratio

LARGE_N = 500  # the no-op programs above it run fewer times (engine_cli)

LABEL = {
    "batch": "EipBatch(count=N)",
    "baseline": "{n} x SingleEip",
    "native_batch": "plugin: EipBatch count N",
    "native_baseline": "plugin: {n} x EipBatch count 1",
}
# (batched, one resource per address) through each provider path.
PAIRS = {"dynamic": ("batch", "baseline"), "native": ("native_batch", "native_baseline")}


def has_native(results: Mapping[str, Any]) -> bool:
    """Whether the run measured the plugin path (runs before it did not)."""
    return any(r["approach"] == "native_batch" for r in results["runs"])


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


def comparison_table(
    results: Mapping[str, Any], harness: Mapping[str, Any] | None, path: str = "dynamic"
) -> list[str]:
    """Batched against one resource per address, through one provider path: each
    approach's calls and time, and the second's over the first's."""
    runs = _runs(results)
    harness = harness if path == "dynamic" else None
    head = (
        "| N | approach | API calls: up + destroy | wall time (s): up + destroy "
        "| calls ratio | time ratio |" + (" harness mode (s): create + delete |" if harness else "")
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    batched, single = PAIRS[path]
    for n in results["settings"]["sizes"]:
        batch, base = runs[(batched, n)], runs[(single, n)]
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


def _cell(run: Mapping[str, Any]) -> str:
    return f"{run['calls']} / {run['seconds']:.2f} s"


def paths_table(results: Mapping[str, Any]) -> list[str]:
    """Calls / time (up + destroy) of the four approaches, and each EipBatch against the
    one-request-per-address approach, N x SingleEip."""
    runs = _runs(results)
    lines = [
        "| N | N x SingleEip (dynamic) | N x EipBatch count 1 (plugin) "
        "| EipBatch count N (dynamic) | EipBatch count N (plugin) "
        "| dynamic EipBatch against N x SingleEip: fewer calls / faster "
        "| plugin EipBatch against N x SingleEip: fewer calls / faster |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in results["settings"]["sizes"]:
        base, nbase = runs[("baseline", n)], runs[("native_baseline", n)]
        batch, nbatch = runs[("batch", n)], runs[("native_batch", n)]
        lines.append(
            f"| {n} | {_cell(base)} | {_cell(nbase)} | {_cell(batch)} | {_cell(nbatch)} "
            f"| {_ratio(base['calls'], batch['calls'])} / "
            f"{_ratio(base['seconds'], batch['seconds'])} "
            f"| {_ratio(base['calls'], nbatch['calls'])} / "
            f"{_ratio(base['seconds'], nbatch['seconds'])} |"
        )
    return lines


def operations_table(results: Mapping[str, Any]) -> list[str]:
    runs = _runs(results)
    lines = ["| N | approach | up: calls per operation | destroy: calls per operation |"]
    lines.append("|---|---|---|---|")
    approaches = [*PAIRS["dynamic"], *(PAIRS["native"] if has_native(results) else ())]
    for n in results["settings"]["sizes"]:
        for approach in approaches:
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


def _times(ratio: float) -> str:
    """A ratio as the README shows it: 2 significant figures below 10, whole above."""
    return f"{ratio:.1f}\u00d7" if ratio < 10 else f"{ratio:.0f}\u00d7"


def readme_tables(results: Mapping[str, Any]) -> str:
    """The README's real-CLI tables from the results: `tests/benchmarks/
    test_readme_numbers.py` holds the README to them, so paste these after a run."""
    runs = _runs(results)
    sizes = results["settings"]["sizes"]
    lines = [
        "| N EIPs | API calls: `EipBatch` / N one-EIP resources | fewer calls "
        "| wall time (s): `EipBatch` / N one-EIP resources | faster |",
        "|---|---|---|---|---|",
    ]
    for n in sizes:
        batch, base = runs[("batch", n)], runs[("baseline", n)]
        lines.append(
            f"| {n} | {batch['calls']} / {base['calls']} "
            f"| {_times(base['calls'] / batch['calls'])} "
            f"| {batch['seconds']:.2f} / {base['seconds']:.2f} "
            f"| {_times(base['seconds'] / batch['seconds'])} |"
        )
    if has_native(results):
        lines += [
            "",
            "| N EIPs | plugin `EipBatch(count=N)`: calls / time | N plugin `EipBatch(count=1)` "
            "| fewer calls / faster | against N one-EIP dynamic resources: fewer calls / faster |",
            "|---|---|---|---|---|",
        ]
        for n in sizes:
            batch, base = runs[("native_batch", n)], runs[("native_baseline", n)]
            single = runs[("baseline", n)]
            lines.append(
                f"| {n} | {batch['calls']} / {batch['seconds']:.2f} s "
                f"| {base['calls']} / {base['seconds']:.2f} s "
                f"| {_times(base['calls'] / batch['calls'])} / "
                f"{_times(base['seconds'] / batch['seconds'])} "
                f"| {_times(single['calls'] / batch['calls'])} / "
                f"{_times(single['seconds'] / batch['seconds'])} |"
            )
    return "\n".join(lines) + "\n"


def _large_repeats(s: Mapping[str, Any]) -> str:
    large = [n for n in s["sizes"] if n > LARGE_N]
    wanted = s.get("large_repeats", s["repeats"])
    if not large or wanted >= s["repeats"]:
        return ""
    sizes = ", ".join(str(n) for n in large)
    return f" Those at N = {sizes} ran {wanted} {'time' if wanted == 1 else 'times'} only."


def native_section(results: Mapping[str, Any]) -> list[str]:
    if not has_native(results):
        return []
    plugin = results.get("native_plugin") or {}
    threads = plugin.get("provider_threads")
    return [
        "## The same through the native provider plugin",
        "",
        "`pulumi-resource-batchip` (this checkout's `python -m pulumi_batchip.native`, run "
        "by a launcher first on PATH, as `pip install` puts its console script there) "
        "serving `batchip:index:EipBatch` to a Python program that declares it with "
        "`pulumi.CustomResource`, as a program in any language would: the same language "
        "host, stack and emulator as above, so only the provider path differs. The "
        "plugin serves no one-EIP resource, so its one-request-per-address approach is N "
        "`EipBatch` of `count` 1 (each a batch of one: more calls per address than "
        "`SingleEip`, which makes one create and one delete without tags or a batch job). "
        "The plugin runs the provider's blocking work in asyncio's default thread pool"
        + (f" ({threads} threads here)" if threads else "")
        + "; the dynamic provider's server, 4 threads.",
        "",
        *comparison_table(results, None, "native"),
        "",
        "### The plugin against the dynamic provider",
        "",
        "API calls / wall time, `pulumi up` + `pulumi destroy`; the ratios are against "
        "the one-request-per-address approach, N x `SingleEip` (one create and one delete "
        "per EIP).",
        "",
        *paths_table(results),
        "",
    ]


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
        *native_section(results),
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
        )
        + _large_repeats(s),
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
