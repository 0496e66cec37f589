"""results.md (Markdown tables, targets) and results.png (log-scale plot) from a run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

TARGET_N = 200
TARGET_CALL_RATIO = 20.0
TARGET_TIME_RATIO = 5.0
TARGET_PROVIDER_BYTES = 200
TARGET_IMPORT_MS = 100.0

BASELINE_NAME = {"EipBatch": "SingleEip", "SecondaryIpSet": "SecondaryIpSet(count=1)"}
BATCH_NAME = {"EipBatch": "EipBatch(count=N)", "SecondaryIpSet": "SecondaryIpSet(count=N)"}


def _runs(results: Mapping[str, Any], resource: str) -> dict[tuple[int, str], dict[str, Any]]:
    return {(r["n"], r["approach"]): r for r in results["runs"] if r["resource"] == resource}


def _sizes(results: Mapping[str, Any], resource: str) -> list[int]:
    return sorted({r["n"] for r in results["runs"] if r["resource"] == resource})


def _ratio(baseline: float, batch: float) -> str:
    return f"{baseline / batch:.1f}x" if batch else "-"


def _ops(calls: Mapping[str, int]) -> str:
    return ", ".join(f"{op} {n}" for op, n in sorted(calls.items(), key=lambda kv: -kv[1])) or "-"


def _mib(kib: int | None) -> str:
    return f"{kib / 1024:.0f}" if kib else "-"


def comparison_table(results: Mapping[str, Any], resource: str) -> list[str]:
    runs = _runs(results, resource)
    eip = resource == "EipBatch"
    head = (
        "| N | approach | API calls: create + delete | wall time (s): create + delete "
        "| calls ratio | time ratio |"
        + (" beyond job end (s) |" if eip else "")
        + " peak RSS (MiB) |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for n in _sizes(results, resource):
        batch, base = runs[(n, "batch")], runs[(n, "baseline")]
        for run, label in (
            (batch, BATCH_NAME[resource]),
            (base, f"{n} x {BASELINE_NAME[resource]}"),
        ):
            creates, deletes = sum(run["create_calls"].values()), sum(run["delete_calls"].values())
            is_base = run is base
            row = (
                f"| {n} | {label} | {creates} + {deletes} = **{run['calls']}** "
                f"| {run['create_seconds']:.2f} + {run['delete_seconds']:.2f} = "
                f"**{run['seconds']:.2f}** "
                f"| {_ratio(base['calls'], batch['calls']) if is_base else ''} "
                f"| {_ratio(base['seconds'], batch['seconds']) if is_base else ''} |"
            )
            if eip:
                beyond = ""
                if run["beyond_job_seconds"] is not None:
                    beyond = f"{run['beyond_job_seconds']:.2f}"
                row += f" {beyond} |"
            row += f" {_mib(run['peak_rss_kib'])} |"
            lines.append(row)
    return lines


def beyond_table(results: Mapping[str, Any]) -> list[str]:
    """EipBatch: the time from the last job's end to the Create RPC's answer, split."""
    rows = [
        r
        for r in results["runs"]
        if r["resource"] == "EipBatch" and r["approach"] == "batch" and r.get("beyond_parts")
    ]
    if not rows:
        return []
    lines = [
        "| N | job end -> the poll that saw it | -> last API call (collecting the EIPs) "
        "| -> Create answered | **beyond job end** | poll rounds | sleep before the last "
        "round (the poll interval) | observed period between a job's last two polls |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: r["n"]):
        parts = r["beyond_parts"]
        period = r["poll_period_seconds"]
        lines.append(
            f"| {r['n']} | {parts['to_poll']:.2f} s | {parts['collect']:.2f} s "
            f"| {parts['answer']:.2f} s | **{r['beyond_job_seconds']:.2f} s** "
            f"| {r['poll_rounds']} | {r['poll_interval_seconds']:.2f} s "
            f"| {'-' if period is None else f'{period:.2f} s'} |"
        )
    lines += [
        "",
        "A poll round reads only the newest unfinished 50-EIP job. Once it has succeeded, "
        "one `ListPublicipsByTags` finds the batch: when every EIP is there, the other "
        "jobs are not read (else one sweep reads them, 4 at a time). The records then come "
        "from one `ListPublicips`: filtered by id for up to 50 ids, else one unfiltered "
        "page of up to 2000. A delete is confirmed the same way, one list call per poll "
        "round.",
    ]
    return ["", *lines]


def operations_table(results: Mapping[str, Any], resource: str) -> list[str]:
    runs = _runs(results, resource)
    lines = [
        "| N | approach | create: calls per operation | delete: calls per operation |",
        "|---|---|---|---|",
    ]
    for n in _sizes(results, resource):
        for approach in ("batch", "baseline"):
            run = runs[(n, approach)]
            label = (
                BATCH_NAME[resource] if approach == "batch" else f"{n} x {BASELINE_NAME[resource]}"
            )
            lines.append(
                f"| {n} | {label} | {_ops(run['create_calls'])} | {_ops(run['delete_calls'])} |"
            )
    return lines


def targets(results: Mapping[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each target of the issue; met None when not measured."""
    rows: list[tuple[str, str, bool | None]] = []
    runs = _runs(results, "EipBatch")
    batch, base = runs.get((TARGET_N, "batch")), runs.get((TARGET_N, "baseline"))
    if batch and base:
        calls = base["calls"] / batch["calls"]
        rows.append(
            (
                f"≥ {TARGET_CALL_RATIO:.0f}x fewer API calls at N = {TARGET_N} EIPs",
                f"{calls:.1f}x ({batch['calls']} vs {base['calls']})",
                calls >= TARGET_CALL_RATIO,
            )
        )
        seconds = base["seconds"] / batch["seconds"]
        rows.append(
            (
                f"≥ {TARGET_TIME_RATIO:.0f}x less wall time at N = {TARGET_N} EIPs",
                f"{seconds:.1f}x ({batch['seconds']:.2f} s vs {base['seconds']:.2f} s)",
                seconds >= TARGET_TIME_RATIO,
            )
        )
    else:
        rows.append((f"ratios at N = {TARGET_N} EIPs", "not run (--quick)", None))
    beyond = [r for r in results["runs"] if r.get("poll_interval_seconds") is not None]
    if beyond:
        worst = max(beyond, key=lambda r: r["beyond_job_seconds"] - r["poll_interval_seconds"])
        rows.append(
            (
                "Create returns at most one poll interval (the sleep before the last poll "
                "round) after the emulator's job end",
                "; ".join(
                    f"N={r['n']}: {r['beyond_job_seconds']:.2f} s "
                    f"(interval {r['poll_interval_seconds']:.2f} s)"
                    for r in beyond
                ),
                worst["beyond_job_seconds"] <= worst["poll_interval_seconds"],
            )
        )
    overhead = results["overhead"]
    sizes = overhead["provider_bytes"]
    biggest = max(sizes["EipBatch"], sizes["SecondaryIpSet"])
    rows.append(
        (
            f"`__provider` under {TARGET_PROVIDER_BYTES} bytes",
            f"EipBatch {sizes['EipBatch']}, SecondaryIpSet {sizes['SecondaryIpSet']}",
            biggest < TARGET_PROVIDER_BYTES,
        )
    )
    added = overhead["import"]["batchip_ms"]
    rows.append(
        (
            f"`import pulumi_batchip` adds under {TARGET_IMPORT_MS:.0f} ms to `import pulumi`",
            f"{added:.0f} ms (median of {overhead['import']['runs']})",
            added < TARGET_IMPORT_MS,
        )
    )
    return rows


def markdown(results: Mapping[str, Any]) -> str:
    s = results["settings"]
    m = results["machine"]
    o = results["overhead"]
    latency_ms = s["latency"] * 1000
    out = [
        "# Benchmarks: batch against one request per address",
        "",
        f"`python -m benchmarks{' --quick' if s['quick'] else ''}` on {results['date']} "
        f"({m['platform']}, Python {m['python']}, {m['cpus']} CPUs); the whole run took "
        f"{results['total_seconds']:.0f} s.",
        "",
        f"**Emulator settings: {latency_ms:g} ms latency added to every API call; EIP jobs "
        f"(and a single EIP's `PENDING_CREATE`) last {s['job_seconds']:g} s.** The emulator "
        "runs in the benchmark's process over loopback; the SDK's provider server "
        "(`python -m pulumi.dynamic`, a fresh process per run) is driven over gRPC by "
        "`tests/engine/harness.py`, replaying `pulumi up` (Check, Create) and `pulumi "
        "destroy` (Delete). The server runs at most 4 RPCs at once, as under `pulumi up`, "
        "so N one-address resources are driven 4 at a time. API calls come from the "
        "emulator's request log (`/_emulator/requests`); wall time is create (Check + "
        "Create RPCs) + delete (Delete RPCs) as the engine sees them.",
        "",
        "Baselines: `benchmarks/baseline.py` `SingleEip`, one EIP per resource (one "
        "`CreatePublicip`, then `ShowPublicip` until `DOWN` on EipBatch's poll schedule, "
        "0.25 s x1.5; `DeletePublicip` + one `ShowPublicip` to confirm), using the "
        "package's signer and keep-alive HTTP client; and N `SecondaryIpSet(count=1)` on "
        "one VM.",
        "",
        "## EipBatch(count=N) against N one-EIP resources",
        "",
        *comparison_table(results, "EipBatch"),
        "",
        "*beyond job end*: when the Create RPC returned, after the end time of the "
        "batch's last job in `/_emulator/state`; split below with the request log's times. "
        "*peak RSS*: the provider server process's VmHWM.",
        *beyond_table(results),
        "",
        "## SecondaryIpSet(count=N) against N one-address sets",
        "",
        *comparison_table(results, "SecondaryIpSet"),
        "",
        "The N one-address sets run 4 RPCs at once, but the provider serialises changes to "
        "one VM (a lock per instance, so that changes and reboots of a VM never interleave).",
        "",
        "## API calls per operation",
        "",
        *operations_table(results, "EipBatch"),
        *operations_table(results, "SecondaryIpSet")[2:],
        "",
        "## Provider overhead",
        "",
        "| measure | value |",
        "|---|---|",
        "| `__provider` (base64 characters in every resource's state) | "
        + ", ".join(f"{k} {v}" for k, v in o["provider_bytes"].items())
        + " |",
        f"| `import pulumi` (fresh interpreter, median of {o['import']['runs']}) "
        f"| {o['import']['pulumi_ms']:.0f} ms |",
        f"| `import pulumi_batchip` after it (median of {o['import']['runs']}) "
        f"| **{o['import']['batchip_ms']:.0f} ms** |",
        "| … of which, by package first imported (`-X importtime`, one run, cumulative) | "
        + ", ".join(f"{k} {v:g} ms" for k, v in list(o["import"]["breakdown_ms"].items())[:8])
        + " |",
    ]
    for name, times in o["check_diff"].items():
        out.append(
            f"| {name} `check` / `diff` per call, in-process (diff olds: {times['olds_size']} "
            f"addresses) | {times['check_us']:.0f} µs / {times['diff_us']:.0f} µs |"
        )
    out.append(
        f"| Check RPC round trip through the provider server (EipBatch) "
        f"| {o['rpc']['check_rpc_us'] / 1000:.2f} ms |"
    )
    runs = _runs(results, "EipBatch")
    top = max(_sizes(results, "EipBatch"))
    out.append(
        "| provider server peak RSS (VmHWM): idle (provider loaded) / "
        f"EipBatch N={top} / {top} x SingleEip | {_mib(o['rpc']['idle_peak_rss_kib'])} / "
        f"{_mib(runs[(top, 'batch')]['peak_rss_kib'])} / "
        f"{_mib(runs[(top, 'baseline')]['peak_rss_kib'])} MiB |"
    )
    out += ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for target, measured, met in targets(results):
        out.append(
            f"| {target} | {measured} | {'-' if met is None else ('yes' if met else '**no**')} |"
        )
    out.append("")
    return "\n".join(out)


def plot(results: Mapping[str, Any], path: Path) -> None:
    """API calls and wall time against N, both approaches, log-log. Needs matplotlib."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = results["settings"]
    fig, (calls_ax, time_ax) = plt.subplots(1, 2, figsize=(12, 5.2))
    styles = {"EipBatch": "tab:blue", "SecondaryIpSet": "tab:orange"}
    for resource, colour in styles.items():
        runs = _runs(results, resource)
        sizes = _sizes(results, resource)
        for approach, line, marker in (("batch", "-", "o"), ("baseline", "--", "s")):
            label = (
                BATCH_NAME[resource] if approach == "batch" else f"N x {BASELINE_NAME[resource]}"
            )
            _series(
                calls_ax,
                sizes,
                [runs[(n, approach)]["calls"] for n in sizes],
                colour,
                line,
                marker,
                label,
            )
            _series(
                time_ax,
                sizes,
                [runs[(n, approach)]["seconds"] for n in sizes],
                colour,
                line,
                marker,
                label,
            )
        # The ratio at the largest N, next to the baseline's last point.
        top = sizes[-1]
        base, batch = runs[(top, "baseline")], runs[(top, "batch")]
        for ax, key in ((calls_ax, "calls"), (time_ax, "seconds")):
            ax.annotate(
                f"{base[key] / batch[key]:.0f}x",
                (top, base[key]),
                textcoords="offset points",
                xytext=(6, -4),
                color=colour,
                fontsize=9,
                fontweight="bold",
            )
    ticks = _sizes(results, "EipBatch")  # 1, 10, 50, 200, 1000 (8 and 40 would crowd)
    for ax, title, unit in (
        (calls_ax, "API calls (create + delete)", "calls"),
        (time_ax, "Wall time (create + delete)", "seconds"),
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: f"{v:g}"))
        ax.set_xlim(0.8, max(ticks) * 2.2)
        ax.set_xlabel("N addresses (log)")
        ax.set_ylabel(f"{unit} (log)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    calls_ax.legend(loc="upper left", fontsize=9)
    fig.suptitle(
        f"pulumi-batchip: batch vs one resource per address — emulator latency "
        f"{s['latency'] * 1000:g} ms/call, EIP job {s['job_seconds']:g} s, 4 RPCs at once"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _series(
    ax: Any, xs: Sequence[int], ys: Sequence[float], colour: str, line: str, marker: str, label: str
) -> None:
    ax.plot(xs, ys, linestyle=line, marker=marker, color=colour, label=label)
