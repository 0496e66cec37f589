"""Benchmarks: batch resources against one-request-per-address, and the provider's own
overhead. Run from the repository root::

    python -m benchmarks            # the full run (a few minutes); writes benchmarks/results/
    python -m benchmarks --quick    # small N only (the test suite's smoke test)
    python -m benchmarks --engine cli [--quick] [--sizes 10,50,200,1000]
                                    # through the real Pulumi CLI instead
                                    # (engine_cli.py; writes results/engine-cli.{md,json})

Everything goes through the engine protocol: the emulator runs in this process over
loopback, the SDK's provider server (``python -m pulumi.dynamic``) in a subprocess, and
``tests/engine/harness.py`` replays ``pulumi up`` / ``pulumi destroy`` over gRPC. The
server runs at most four RPCs at once, as under ``pulumi up``; N one-address resources
are therefore driven four at a time. API calls are counted from the emulator's request
log; each run gets a fresh provider process (so its peak memory is its own) and a reset
emulator.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import attrs
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_batchip import BandwidthArgs, EipBatch, SecondaryIpSet
from pulumi_batchip.eip_batch import EipBatchProvider
from pulumi_batchip.emulator import EmulatorConfig, RunningEmulator, start_emulator
from pulumi_batchip.resilience import POLL_FIRST, POLL_GROWTH, POLL_MAX
from pulumi_batchip.secondary_ip_set import SecondaryIpSetProvider
from tests.engine import harness
from tests.engine.harness import (
    PROVIDER_KEY,
    EngineResource,
    ProviderProcess,
    _deserialize,
    _serialize,
    program_inputs,
    stack_config,
)

from .baseline import SingleEip
from .common import REPO_ROOT, RESULTS_DIR, Admin, say
from .report import markdown, plot

EIP_SIZES = (1, 10, 50, 200, 1000)
BCC_SIZES = (1, 8, 40)
QUICK_EIP_SIZES = (1, 10)
QUICK_BCC_SIZES = (1, 8)
RPC_CONCURRENCY = 4  # the provider server's thread pool, as under `pulumi up`
INSTANCE = "i-DhjUXmSA"

EIP_TYPE = "pulumi-python:dynamic/batchip:EipBatch"
SINGLE_EIP_TYPE = "pulumi-python:dynamic/bench:SingleEip"
BCC_TYPE = "pulumi-python:dynamic/batchip:SecondaryIpSet"


@attrs.frozen
class Settings:
    latency: float
    job_seconds: float
    eip_sizes: tuple[int, ...]
    bcc_sizes: tuple[int, ...]
    import_runs: int
    micro_iterations: int
    quick: bool


@attrs.define
class Run:
    """One approach at one N: create everything, then delete everything."""

    resource: str  # EipBatch | SecondaryIpSet
    approach: str  # batch | baseline
    n: int
    create_seconds: float = 0.0
    delete_seconds: float = 0.0
    create_calls: dict[str, int] = attrs.field(factory=dict)
    delete_calls: dict[str, int] = attrs.field(factory=dict)
    peak_rss_kib: int | None = None
    # EipBatch only: the Create RPC's return after the emulator's last job end.
    beyond_job_seconds: float | None = None
    # From the timestamped request log: ``beyond_job_seconds`` split into job end -> the
    # poll that saw the last job finished -> the last call (collecting the EIPs) -> the
    # RPC's answer; the poll rounds, the sleep before the last round (EipBatch's poll
    # interval then) and the observed period between the last two polls of a job.
    beyond_parts: dict[str, float] | None = None
    poll_rounds: int | None = None
    poll_interval_seconds: float | None = None
    poll_period_seconds: float | None = None

    @property
    def calls(self) -> int:
        return sum(self.create_calls.values()) + sum(self.delete_calls.values())

    @property
    def seconds(self) -> float:
        return self.create_seconds + self.delete_seconds

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data.update(calls=self.calls, seconds=round(self.seconds, 4))
        return data


class _NoLedger:
    """Stands in for the harness's secret ledger (a test-suite check that records every
    RPC message and state as JSON): its bookkeeping is not the provider's cost."""

    def __getattr__(self, _name: str) -> Callable[..., None]:
        return lambda *_args, **_kwargs: None


def _quiet_harness() -> None:
    if hasattr(harness, "LEDGER"):
        setattr(harness, "LEDGER", _NoLedger())  # noqa: B010 - any future ledger type


@contextmanager
def provider_process(url: str) -> Iterator[ProviderProcess]:
    with ProviderProcess() as server:
        server.get_plugin_info()
        server.configure(stack_config(url))
        yield server


def peak_rss_kib(pid: int) -> int | None:
    """The process's peak resident set size (VmHWM), in KiB; None where /proc is absent."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def _parse_job_time(value: str) -> float:
    moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return moment.timestamp()


def sleep_before_round(rounds: int) -> float:
    """EipBatch's sleep before its poll round number ``rounds`` (1-based)."""
    if rounds < 2:
        return 0.0
    return float(min(POLL_FIRST * POLL_GROWTH ** (rounds - 2), POLL_MAX))


# --- one run ----------------------------------------------------------------------------


def eip_inputs(n: int) -> dict[str, Any]:
    bandwidth = BandwidthArgs(size=5, share_type="PER", name="bench-bw")
    return program_inputs(lambda: [EipBatch("bench", count=n, bandwidth=bandwidth)])["bench"]


def single_eip_inputs() -> dict[str, Any]:
    return program_inputs(lambda: [SingleEip("one", bandwidth_size=5, bandwidth_name="bench-bw")])[
        "one"
    ]


def bcc_inputs(n: int) -> dict[str, Any]:
    return program_inputs(lambda: [SecondaryIpSet("bench", instance_id=INSTANCE, count=n)])["bench"]


def run_once(
    emulator: RunningEmulator,
    resource: str,
    approach: str,
    n: int,
) -> tuple[Run, list[dict[str, Any]]]:
    admin = Admin(emulator.url)
    admin.reset()
    run = Run(resource=resource, approach=approach, n=n)
    if approach == "batch":
        type_token, names = (EIP_TYPE if resource == "EipBatch" else BCC_TYPE), ["bench"]
        inputs = eip_inputs(n) if resource == "EipBatch" else bcc_inputs(n)
    else:
        type_token = SINGLE_EIP_TYPE if resource == "EipBatch" else BCC_TYPE
        names = [f"one-{i}" for i in range(n)]
        inputs = single_eip_inputs() if resource == "EipBatch" else bcc_inputs(1)
    try:
        with provider_process(emulator.url) as server:
            resources = [EngineResource(server, type_token, name) for name in names]
            with ThreadPoolExecutor(max_workers=RPC_CONCURRENCY) as pool:
                started = time.perf_counter()
                list(pool.map(lambda r: r.up(inputs), resources))
                run.create_seconds = time.perf_counter() - started
                returned_wall = time.time()
                run.create_calls = dict(admin.calls())
                if resource == "EipBatch" and approach == "batch":
                    jobs = admin.get("state")["eip"]["jobs"].values()
                    last_end = max(_parse_job_time(j["end_time"]) for j in jobs)
                    run.beyond_job_seconds = returned_wall - last_end
                    _job_polls(run, admin.requests(), last_end, returned_wall)
                held = _held(admin, resource)
                assert held == _owned(resources, resource), "the cloud differs from the state"
                outputs = [dict(r.outputs) for r in resources]
                started = time.perf_counter()
                list(pool.map(lambda r: r.destroy(), resources))
                run.delete_seconds = time.perf_counter() - started
            after = admin.calls()
            run.delete_calls = {
                op: after[op] - run.create_calls.get(op, 0)
                for op in after
                if after[op] - run.create_calls.get(op, 0)
            }
            assert not _held(admin, resource), "something was left behind"
            run.peak_rss_kib = peak_rss_kib(server.proc.pid)
    finally:
        admin.close()
    say(
        f"  {resource:<14} {approach:<8} N={n:<5} create {run.create_seconds:7.2f} s, "
        f"delete {run.delete_seconds:6.2f} s, {run.calls:5d} API calls"
    )
    return run, outputs


def _job_polls(run: Run, log: Sequence[dict[str, Any]], job_end: float, returned: float) -> None:
    """Where the time after the last job's end went, from the request log's times."""
    polls = [r for r in log if r["operation"] == "ShowResourcesJobDetail" and "t" in r]
    if not polls:
        return
    by_job: dict[str, list[float]] = {}
    for entry in polls:
        by_job.setdefault(entry["path"], []).append(entry["t"])
    slowest = max(by_job.values(), key=len)  # polled in every round
    last_call = max(r["t"] for r in log if "t" in r)
    run.beyond_parts = {
        "to_poll": polls[-1]["t"] - job_end,
        "collect": last_call - polls[-1]["t"],
        "answer": returned - last_call,
    }
    run.poll_rounds = len(slowest)
    run.poll_interval_seconds = sleep_before_round(len(slowest))
    if len(slowest) >= 2:
        run.poll_period_seconds = slowest[-1] - slowest[-2]


def _time_the_request_log(emulator: RunningEmulator) -> None:
    """Benchmark-only instrumentation: stamp each request-log entry with the time it was
    recorded (after its answer was made), for the split of the time after a job ended."""
    app: Any = emulator.app
    record = getattr(app, "_record", None)
    if record is None:
        return

    def timed(entry: dict[str, Any]) -> None:
        record({**entry, "t": time.time()})

    app._record = timed


def _held(admin: Admin, resource: str) -> set[str]:
    state = admin.get("state")
    if resource == "EipBatch":
        return set(state["eip"]["publicips"])
    secondary = state["bcc"]["instances"][INSTANCE]["secondary"]
    return set(secondary["ipv4"]) | set(secondary["ipv6"])


def _owned(resources: Sequence[EngineResource], resource: str) -> set[str]:
    owned: set[str] = set()
    for res in resources:
        if resource == "SecondaryIpSet":
            owned.update(res.outputs["private_ips"])
        elif "eip_ids" in res.outputs:
            owned.update(res.outputs["eip_ids"])
        else:
            owned.add(res.outputs["eip_id"])
    return owned


# --- provider overhead ------------------------------------------------------------------

IMPORT_SNIPPET = (
    "import time; t0 = time.perf_counter(); import pulumi; t1 = time.perf_counter(); "
    "import pulumi_batchip; t2 = time.perf_counter(); print(t1 - t0, t2 - t1)"
)
IMPORTTIME_SNIPPET = "import pulumi, sys; sys.stderr.write('@@mark\\n'); import pulumi_batchip"


def _python(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPROFILEIMPORTTIME"}
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
    )


def import_times(runs: int) -> dict[str, Any]:
    """Median seconds of ``import pulumi`` and of ``import pulumi_batchip`` after it,
    each in a fresh interpreter (one warm-up run first, for the bytecode caches)."""
    _python(["-c", IMPORT_SNIPPET])
    samples = [
        tuple(map(float, _python(["-c", IMPORT_SNIPPET]).stdout.split())) for _ in range(runs)
    ]
    return {
        "runs": runs,
        "pulumi_ms": statistics.median(s[0] for s in samples) * 1000,
        "batchip_ms": statistics.median(s[1] for s in samples) * 1000,
        "breakdown_ms": import_breakdown(),
    }


def import_breakdown() -> dict[str, float]:
    """What ``import pulumi_batchip`` spends its time on after ``import pulumi``:
    cumulative ms per package it is the first to import (``python -X importtime``),
    plus its own modules' time."""
    stderr = _python(["-X", "importtime", "-c", IMPORTTIME_SNIPPET]).stderr
    lines = stderr.split("@@mark\n", 1)[1].splitlines()
    nodes: list[tuple[int, str, int, list[Any]]] = []  # (depth, name, cumulative us, kids)
    for line in lines:
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line[len("import time:") :].split("|")
        if not cumulative.strip().isdigit():
            continue  # the header line
        depth = (len(name) - len(name.lstrip(" "))) // 2
        kids: list[Any] = []
        while nodes and nodes[-1][0] > depth:
            kids.insert(0, nodes.pop())
        nodes.append((depth, name.strip(), int(cumulative), kids))
    totals: Counter[str] = Counter()

    def walk(node: tuple[int, str, int, list[Any]]) -> None:
        _depth, name, cumulative, kids = node
        if name.split(".")[0] != "pulumi_batchip":
            totals[_package_of(name)] += cumulative
            return
        own = cumulative - sum(k[2] for k in kids)
        totals["pulumi_batchip (own modules)"] += own
        for kid in kids:
            walk(kid)

    for node in nodes:
        walk(node)
    return {name: round(us / 1000, 1) for name, us in totals.most_common()}


def _package_of(module: str) -> str:
    parts = module.split(".")
    # pulumi.* submodules that `import pulumi` does not load are worth naming precisely.
    return ".".join(parts[:2]) if parts[0] == "pulumi" else parts[0]


def micro(fn: Callable[[], object], iterations: int) -> float:
    """Microseconds per call: the best of five repeats of ``iterations`` calls."""
    fn()
    best = min(timeit.repeat(fn, number=iterations, repeat=5))
    return best / iterations * 1e6


def check_diff_times(
    url: str, eip_outputs: dict[str, Any], bcc_outputs: dict[str, Any], iterations: int
) -> dict[str, Any]:
    """``check`` and ``diff`` per call, in-process on the provider objects, with inputs
    as the engine sends them (numbers as floats) and the olds of the largest runs."""
    request = ConfigureRequest(Config(raw_config=stack_config(url), project_name="bench"))
    results: dict[str, Any] = {}
    for name, provider, inputs, olds in (
        ("EipBatch", EipBatchProvider(), eip_inputs(len(eip_outputs["eip_ids"])), eip_outputs),
        (
            "SecondaryIpSet",
            SecondaryIpSetProvider(),
            bcc_inputs(len(bcc_outputs["private_ips"])),
            bcc_outputs,
        ),
    ):
        provider.configure(request)
        news = _deserialize(_serialize(inputs))
        checked = provider.check({}, news)
        assert not checked.failures, checked.failures
        checked_inputs = dict(checked.inputs or {})
        id_ = str(olds.get("batch_id") or "id")
        diff = provider.diff(id_, olds, checked_inputs)
        assert not diff.changes, f"{name}: a spurious diff {diff.replaces}"
        results[name] = {
            "check_us": micro(partial(provider.check, {}, news), iterations),
            "diff_us": micro(partial(provider.diff, id_, olds, checked_inputs), iterations),
            "olds_size": len(olds.get("eip_ids") or olds.get("private_ips") or ()),
        }
    return results


def rpc_overhead(url: str, iterations: int) -> dict[str, Any]:
    """A Check RPC's round trip through the provider server, and its idle peak memory."""
    inputs = eip_inputs(3)
    urn = "urn:pulumi:test::harness::" + EIP_TYPE + "::bench"
    with provider_process(url) as server:
        server.check(urn, {}, inputs)  # loads and configures the provider
        started = time.perf_counter()
        for _ in range(iterations):
            server.check(urn, {}, inputs)
        per_call = (time.perf_counter() - started) / iterations
        idle = peak_rss_kib(server.proc.pid)
    return {"check_rpc_us": per_call * 1e6, "idle_peak_rss_kib": idle}


def provider_sizes() -> dict[str, int]:
    return {
        "EipBatch": len(eip_inputs(1)[PROVIDER_KEY]),
        "SecondaryIpSet": len(bcc_inputs(1)[PROVIDER_KEY]),
        "SingleEip (baseline)": len(single_eip_inputs()[PROVIDER_KEY]),
    }


# --- the whole run ----------------------------------------------------------------------


def run_all(settings: Settings) -> dict[str, Any]:
    _quiet_harness()
    config = EmulatorConfig(job_seconds=settings.job_seconds, latency_seconds=settings.latency)
    started = time.perf_counter()
    runs: list[Run] = []
    with start_emulator(config=config) as emulator:
        _time_the_request_log(emulator)
        say(
            f"emulator {emulator.url}: latency {settings.latency * 1000:.0f} ms per call, "
            f"EIP jobs {settings.job_seconds:g} s"
        )
        largest: dict[str, dict[str, Any]] = {}
        for resource, sizes in (
            ("EipBatch", settings.eip_sizes),
            ("SecondaryIpSet", settings.bcc_sizes),
        ):
            for n in sizes:
                for approach in ("batch", "baseline"):
                    run, outputs = run_once(emulator, resource, approach, n)
                    runs.append(run)
                    if approach == "batch":
                        largest[resource] = outputs[0]
        say("provider overhead")
        overhead = {
            "provider_bytes": provider_sizes(),
            "import": import_times(settings.import_runs),
            "check_diff": check_diff_times(
                emulator.url,
                largest["EipBatch"],
                largest["SecondaryIpSet"],
                settings.micro_iterations,
            ),
            "rpc": rpc_overhead(emulator.url, max(50, settings.micro_iterations // 10)),
        }
    return {
        "settings": attrs.asdict(settings),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "runs": [r.to_json() for r in runs],
        "overhead": overhead,
        "total_seconds": time.perf_counter() - started,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Batch resources against one request per address, and provider overhead.",
    )
    parser.add_argument(
        "--engine",
        choices=("harness", "cli"),
        default="harness",
        help="harness: the provider server over gRPC (tests/engine/harness.py), results.*; "
        "cli: real `pulumi up` / `pulumi destroy` (scripts/pulumi-cli.sh), engine-cli.*",
    )
    parser.add_argument("--quick", action="store_true", help="small N only (a smoke test)")
    parser.add_argument(
        "--out",
        type=Path,
        help=f"results directory (default {RESULTS_DIR}; --quick writes none unless given)",
    )
    parser.add_argument(
        "--sizes",
        type=_parse_sizes,
        help="cli: the N to compare, comma-separated (default 10,50,200,1000; --quick: 5)",
    )
    parser.add_argument(
        "--noop-repeats",
        type=int,
        help="cli: runs of each no-op and empty program, the median counts (5; --quick: 1)",
    )
    parser.add_argument(
        "--noop-repeats-large",
        type=int,
        help="cli: runs of the no-op programs above N = 500 (3; --quick: 1)",
    )
    parser.add_argument("--latency", type=float, help="emulator latency per call, s (0.02)")
    parser.add_argument("--job-seconds", type=float, help="emulator EIP job duration, s (1.0)")
    parser.add_argument("--no-plot", action="store_true", help="skip results.png (harness)")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite results.md and results.png (cli: engine-cli.md) from the JSON in --out; "
        "run nothing",
    )
    args = parser.parse_args(argv)
    cli_only = ("sizes", "noop_repeats", "noop_repeats_large")
    if args.engine != "cli" and any(getattr(args, name) is not None for name in cli_only):
        parser.error("--sizes and --noop-repeats* are for --engine cli")
    if args.engine == "cli":
        from . import engine_cli  # the real-CLI benchmark: needs no harness

        return engine_cli.main(args)
    if args.report_only:
        out = args.out or RESULTS_DIR
        write_report(json.loads((out / "results.json").read_text()), out, plot_it=not args.no_plot)
        return 0
    settings = Settings(
        latency=args.latency if args.latency is not None else (0.005 if args.quick else 0.02),
        job_seconds=args.job_seconds
        if args.job_seconds is not None
        else (0.2 if args.quick else 1.0),
        eip_sizes=QUICK_EIP_SIZES if args.quick else EIP_SIZES,
        bcc_sizes=QUICK_BCC_SIZES if args.quick else BCC_SIZES,
        import_runs=3 if args.quick else 9,
        micro_iterations=200 if args.quick else 2000,
        quick=args.quick,
    )
    results = run_all(settings)
    out = args.out if args.out is not None else (None if args.quick else RESULTS_DIR)
    if out is None:
        print(markdown(results))
        return 0
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    write_report(results, out, plot_it=not args.no_plot)
    say(f"results in {out} ({results['total_seconds']:.0f} s)")
    return 0


def _parse_sizes(text: str) -> tuple[int, ...]:
    from .engine_cli import parse_sizes

    return parse_sizes(text)


def write_report(results: dict[str, Any], out: Path, *, plot_it: bool) -> None:
    (out / "results.md").write_text(markdown(results))
    if not plot_it:
        return
    try:
        plot(results, out / "results.png")
    except ImportError:
        say("matplotlib is not installed: no results.png (pip install 'pulumi-batchip[bench]')")
