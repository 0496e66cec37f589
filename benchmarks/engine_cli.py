"""``python -m benchmarks --engine cli``: the EipBatch comparison through the real Pulumi
CLI, and the engine's own cost per resource.

Every measurement is one real ``pulumi up --yes --skip-preview`` and one ``pulumi
destroy --yes --skip-preview`` of a real program (``scripts/pulumi-cli.sh``'s CLI, its
Python language host and dynamic-provider launcher, a local file backend in a temporary
folder), against the emulator in this process with the same settings as the harness
mode (20 ms latency per call, 1 s EIP jobs). Wall time is the whole command, as a user
waits for it; API calls come from the emulator's request log, reset before each ``up``.

Programs (one stack, reused; every run ends with the stack and the emulator empty):

* ``batch``: ``EipBatch(count=N)``;
* ``baseline``: N ``SingleEip`` (``benchmarks/baseline.py``), one EIP per resource;
* ``native_batch`` and ``native_baseline``: the same through the native provider plugin
  ``pulumi-resource-batchip`` (this checkout's ``python -m pulumi_batchip.native``, put
  first on PATH by a launcher): one ``batchip:index:EipBatch`` with ``count`` N, and N of
  them with ``count`` 1 (the plugin serves no one-EIP resource, so one batch of one is
  its one-request-per-address approach). Both are Python programs declaring the
  schema's type with ``pulumi.CustomResource``, as a program in any language does:
  the same language host and program shape as ``batch`` / ``baseline``, so only the
  provider path differs (a YAML program would add the YAML host's own, different,
  fixed cost, and that host is optional in ``scripts/pulumi-cli.sh``);
* ``noop``: N ``NoOpEip`` (``benchmarks/noop.py``): the same inputs and outputs as
  ``SingleEip`` but no API call, so its time is the engine's, the language host's, the
  SDK's and the provider server's only;
* ``empty``: no resource at all, the fixed cost of a ``pulumi up`` / ``destroy``;
* ``noop_skip_checkpoints``: ``noop`` at the smallest and largest N with
  ``PULUMI_SKIP_CHECKPOINTS=true``, which keeps the file backend from rewriting the
  whole state after every step: what remains of the cost per resource without them.

The engine's cost per resource is the least-squares slope of the ``noop`` times over N
(and the marginal cost between successive N, to show whether it stays flat).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs

from pulumi_batchip.emulator import (
    DEFAULT_HW_CREDENTIALS,
    DEFAULT_HW_PROJECT_ID,
    EmulatorConfig,
    start_emulator,
)

from .common import REPO_ROOT, RESULTS_DIR, Admin, say
from .engine_cli_report import LARGE_N, markdown, readme_tables

SIZES = (10, 50, 200, 1000)
QUICK_SIZES = (5,)  # the smallest N where EipBatch already makes fewer calls
RESULTS_JSON = "engine-cli.json"
RESULTS_MD = "engine-cli.md"
HARNESS_JSON = "results.json"
NOOP_REPEATS = 5
# No-op programs above LARGE_N (engine_cli_report) run fewer times: 1000 no-op resources
# take a minute or more, and their time varies relatively less.
LARGE_NOOP_REPEATS = 3
DYNAMIC_APPROACHES = ("batch", "baseline")
NATIVE_APPROACHES = ("native_batch", "native_baseline")
CLOUD_APPROACHES = (*DYNAMIC_APPROACHES, *NATIVE_APPROACHES)
# The approach that makes one resource (and one batch) whatever N.
BATCHED = ("batch", "native_batch")
# The plugin the native programs need, and the launcher that runs this checkout's.
PLUGIN = "pulumi-resource-batchip"
PLUGIN_TYPE = "batchip:index:EipBatch"

[(HW_AK, HW_SK)] = DEFAULT_HW_CREDENTIALS.items()

# The native plugin takes its credentials from the environment (its endpoint from the
# stack's batchip:eipEndpoint, as the dynamic provider does).
NATIVE_ENV = {
    "HW_ACCESS_KEY": HW_AK,
    "HW_SECRET_KEY": HW_SK,
    "HW_REGION_NAME": "cn-north-4",
    "HW_PROJECT_ID": DEFAULT_HW_PROJECT_ID,
}
# Extra environment per program.
PROGRAM_ENV = {
    "noop_skip_checkpoints": {"PULUMI_SKIP_CHECKPOINTS": "true"},
    **dict.fromkeys(NATIVE_APPROACHES, NATIVE_ENV),
}

PROGRAMS = {
    "batch": (
        "from pulumi_batchip import BandwidthArgs, EipBatch\n\n"
        "EipBatch(\n"
        '    "bench",\n'
        "    count={n},\n"
        '    bandwidth=BandwidthArgs(size=5, share_type="PER", name="bench-bw"),\n'
        ")\n"
    ),
    "baseline": (
        "from benchmarks.baseline import SingleEip\n\n"
        "for i in range({n}):\n"
        '    SingleEip(f"one-{{i}}", bandwidth_size=5, bandwidth_name="bench-bw")\n'
    ),
    "noop": (
        "from benchmarks.noop import NoOpEip\n\n"
        "for i in range({n}):\n"
        '    NoOpEip(f"one-{{i}}", bandwidth_size=5, bandwidth_name="bench-bw")\n'
    ),
    "noop_skip_checkpoints": (
        "from benchmarks.noop import NoOpEip\n\n"
        "for i in range({n}):\n"
        '    NoOpEip(f"one-{{i}}", bandwidth_size=5, bandwidth_name="bench-bw")\n'
    ),
    "native_batch": (
        "import pulumi\n\n"
        'BW = {{"size": 5, "shareType": "PER", "name": "bench-bw"}}\n'
        'pulumi.CustomResource("batchip:index:EipBatch", "bench", {{"count": {n}, "bandwidth": BW}})\n'  # noqa: E501
    ),
    "native_baseline": (
        "import pulumi\n\n"
        'BW = {{"size": 5, "shareType": "PER", "name": "bench-bw"}}\n'
        "for i in range({n}):\n"
        "    pulumi.CustomResource(\n"
        '        "batchip:index:EipBatch", f"one-{{i}}", {{"count": 1, "bandwidth": BW}}\n'
        "    )\n"
    ),
    "empty": "# No resources: the fixed cost of `pulumi up` and `pulumi destroy`.\n",
}


def resources_in(approach: str, n: int) -> int:
    """Resources the program registers, besides the stack."""
    return 0 if approach == "empty" else 1 if approach in BATCHED else n


def parse_sizes(text: str) -> tuple[int, ...]:
    """``--sizes 10,50,200,1000``: distinct positive N, in increasing order."""
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of N: {text!r}") from None
    if not sizes or sizes[0] < 2:
        raise argparse.ArgumentTypeError(f"sizes must be 2 or more (one N at least): {text!r}")
    return tuple(sizes)


def noop_schedule(
    sizes: Sequence[int], repeats: int, large_repeats: int
) -> list[list[tuple[str, int]]]:
    """The engine-cost programs of each round, interleaved so that drift spreads
    evenly: the empty program, the no-op one at 1 and each N, and the no-op one with
    ``PULUMI_SKIP_CHECKPOINTS`` at the smallest and largest N; those above LARGE_N
    only in the first ``large_repeats`` rounds."""
    noop_sizes = (1, *sizes)
    programs = [
        ("empty", 0),
        *(("noop", n) for n in noop_sizes),
        *(("noop_skip_checkpoints", n) for n in (min(noop_sizes), max(noop_sizes))),
    ]
    rounds = [
        [(a, n) for a, n in programs if i < (large_repeats if n > LARGE_N else repeats)]
        for i in range(max(repeats, large_repeats))
    ]
    return [r for r in rounds if r]


def plugin_launcher(folder: Path) -> Path:
    """``folder/pulumi-resource-batchip``, which runs this checkout's plugin with this
    interpreter (what ``pip install`` puts on PATH as a console script)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / PLUGIN
    script.write_text(
        "#!/bin/sh\n"
        f'PYTHONPATH="{REPO_ROOT}${{PYTHONPATH:+{os.pathsep}$PYTHONPATH}}"\n'
        "export PYTHONPATH\n"
        f'exec "{sys.executable}" -m pulumi_batchip.native "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


class ToolchainUnavailable(RuntimeError):
    pass


@attrs.frozen
class CliSettings:
    latency: float
    job_seconds: float
    sizes: tuple[int, ...]
    noop_sizes: tuple[int, ...]
    repeats: int  # of the noop and empty programs (cheap, and the base of a subtraction)
    quick: bool
    large_repeats: int = LARGE_NOOP_REPEATS  # of the noop programs above LARGE_N


@attrs.define
class CliRun:
    """One program: ``pulumi up`` then ``pulumi destroy`` (``repeats`` times)."""

    approach: str  # batch | baseline | native_* | noop | noop_skip_checkpoints | empty
    n: int
    up_samples: list[float] = attrs.field(factory=list)
    destroy_samples: list[float] = attrs.field(factory=list)
    up_calls: dict[str, int] = attrs.field(factory=dict)
    destroy_calls: dict[str, int] = attrs.field(factory=dict)
    # What the engine reported (resources created / deleted, the stack included) and
    # what the emulator held after each command.
    engine_created: int = 0
    engine_deleted: int = 0
    held_after_up: int = 0
    held_after_destroy: int = 0

    @property
    def up_seconds(self) -> float:
        return statistics.median(self.up_samples)

    @property
    def destroy_seconds(self) -> float:
        return statistics.median(self.destroy_samples)

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        up_calls, destroy_calls = sum(self.up_calls.values()), sum(self.destroy_calls.values())
        data.update(
            up_seconds=round(self.up_seconds, 4),
            destroy_seconds=round(self.destroy_seconds, 4),
            seconds=round(self.up_seconds + self.destroy_seconds, 4),
            up_calls_total=up_calls,
            destroy_calls_total=destroy_calls,
            calls=up_calls + destroy_calls,
        )
        return data


# --- the toolchain and the stack --------------------------------------------------------


def find_toolchain() -> Path:
    """The directory ``scripts/pulumi-cli.sh`` prints last (pulumi, its Python host and
    the dynamic-provider launcher); ToolchainUnavailable with the script's reason."""
    done = subprocess.run(  # noqa: S603 - our own script
        ["bash", str(REPO_ROOT / "scripts" / "pulumi-cli.sh")],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=3600,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise ToolchainUnavailable(
            f"scripts/pulumi-cli.sh failed (exit {done.returncode}): {done.stderr[-2000:]}"
        )
    return Path(lines[-1])


class CliStack:
    """One project and stack in a temporary folder, with a local file backend."""

    def __init__(self, workdir: Path, bindir: Path) -> None:
        self.dir = workdir / "project"
        self.dir.mkdir()
        state = workdir / "state"
        state.mkdir()
        # The native programs' plugin: this checkout's, first on PATH (the engine looks
        # there for plugins PULUMI_HOME does not hold; ours is a fresh, empty one).
        self.plugin = plugin_launcher(workdir / "plugin-bin")
        path = os.pathsep.join((str(self.plugin.parent), str(bindir), os.environ.get("PATH", "")))
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "BATCHIP_"))},
            "PATH": path,
            "PULUMI_HOME": str(workdir / "pulumi-home"),
            "PULUMI_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": "",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            # The program and the dynamic providers run this interpreter (which holds
            # pulumi_batchip), with the repository root on the path for the benchmarks
            # package (the providers are pickled by reference to its modules).
            "PULUMI_PYTHON_CMD": sys.executable,
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
            ),
            "NO_COLOR": "1",
        }
        (self.dir / "Pulumi.yaml").write_text(
            "name: batchip-bench\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
        )
        self.program("empty", 0)
        found = shutil.which(PLUGIN, path=path)
        if found is None or Path(found) != self.plugin:
            raise RuntimeError(f"{PLUGIN} on PATH is {found}, not the launcher {self.plugin}")

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 3600
    ) -> tuple[float, str]:
        """(seconds, stdout) of one ``pulumi`` command; RuntimeError when it fails."""
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - the toolchain's pulumi, fixed arguments
            ["pulumi", "--non-interactive", *args],  # noqa: S607 - PATH is set above
            cwd=self.dir,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(
                f"pulumi {' '.join(args)} exited {done.returncode}\n--- stdout\n"
                f"{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
            )
        return seconds, done.stdout

    def init(self, emulator_url: str) -> None:
        self.run("stack", "init", "bench")
        for key, value, secret in (
            ("huaweicloud:accessKey", HW_AK, True),
            ("huaweicloud:secretKey", HW_SK, True),
            ("huaweicloud:region", "cn-north-4", False),
            ("huaweicloud:projectId", DEFAULT_HW_PROJECT_ID, False),
            ("batchip:eipEndpoint", emulator_url, False),
        ):
            self.run("config", "set", *(["--secret"] if secret else []), key, "--", value)

    def version(self) -> str:
        return self.run("version")[1].strip()

    def program(self, approach: str, n: int) -> None:
        (self.dir / "__main__.py").write_text(PROGRAMS[approach].format(n=n))

    def up(self, env: dict[str, str] | None = None) -> tuple[float, int]:
        seconds, out = self.run("up", "--yes", "--skip-preview", env=env)
        return seconds, _summary_count(out, "created")

    def destroy(self, env: dict[str, str] | None = None) -> tuple[float, int]:
        seconds, out = self.run("destroy", "--yes", "--skip-preview", env=env)
        return seconds, _summary_count(out, "deleted")


def _summary_count(output: str, verb: str) -> int:
    """N from the engine's summary line ``+ N created`` / ``- N deleted`` (0 if none)."""
    found = re.findall(rf"(\d+) {verb}\b", output)
    return int(found[-1]) if found else 0


# --- one program ------------------------------------------------------------------------


def _held(admin: Admin) -> int:
    return len(admin.get("state")["eip"]["publicips"])


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise RuntimeError(f"benchmark check failed: {what}")


def measure(stack: CliStack, admin: Admin, approach: str, n: int, repeats: int) -> CliRun:
    run = CliRun(approach=approach, n=n)
    stack.program(approach, n)
    expected = resources_in(approach, n) + 1  # + the stack (default providers: not shown)
    cloud = approach in CLOUD_APPROACHES
    for _ in range(repeats):
        admin.reset()
        env = PROGRAM_ENV.get(approach)
        up_seconds, run.engine_created = stack.up(env)
        up_calls = admin.calls()
        run.held_after_up = _held(admin)
        destroy_seconds, run.engine_deleted = stack.destroy(env)
        after = admin.calls()
        run.held_after_destroy = _held(admin)
        run.up_samples.append(up_seconds)
        run.destroy_samples.append(destroy_seconds)
        run.up_calls = dict(up_calls)
        run.destroy_calls = {
            op: after[op] - up_calls[op] for op in after if after[op] > up_calls[op]
        }
        label = f"{approach} N={n}"
        _check(run.engine_created == expected, f"{label}: engine created {run.engine_created}")
        _check(run.engine_deleted == expected, f"{label}: engine deleted {run.engine_deleted}")
        _check(run.held_after_up == (n if cloud else 0), f"{label}: {run.held_after_up} EIPs")
        _check(run.held_after_destroy == 0, f"{label}: {run.held_after_destroy} EIPs left")
        _check(bool(run.up_calls) == cloud, f"{label}: up made calls {run.up_calls}")
        _check(bool(run.destroy_calls) == cloud, f"{label}: destroy calls {run.destroy_calls}")
    say(
        f"  {approach:<21} N={n:<4} up {run.up_seconds:6.2f} s, destroy "
        f"{run.destroy_seconds:6.2f} s, {sum(run.up_calls.values()):4d} + "
        f"{sum(run.destroy_calls.values()):4d} API calls"
        + (f" (median of {repeats})" if repeats > 1 else "")
    )
    return run


# --- the engine's own cost ----------------------------------------------------------------


def _fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares (slope, intercept)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    return slope, my - slope * mx


def engine_overhead(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per resource: the slope of the no-op program's time over N; fixed: its intercept
    and the empty program's time; and each step's marginal cost per resource."""
    noop = {r["n"]: r for r in runs if r["approach"] == "noop"}
    empty = next(r for r in runs if r["approach"] == "empty")
    sizes = sorted(noop)
    result: dict[str, Any] = {"noop_sizes": sizes}
    for phase in ("up", "destroy"):
        ys = [noop[n][f"{phase}_seconds"] for n in sizes]
        slope, intercept = _fit(sizes, ys)
        result[phase] = {
            "per_resource_ms": slope * 1000,
            "intercept_seconds": intercept,
            "empty_seconds": empty[f"{phase}_seconds"],
            "steps": [
                {"from": a, "to": b, "per_resource_ms": (yb - ya) / (b - a) * 1000}
                for (a, ya), (b, yb) in zip(
                    zip(sizes, ys, strict=True), zip(sizes[1:], ys[1:], strict=True), strict=False
                )
            ],
        }
    unsaved = {r["n"]: r for r in runs if r["approach"] == "noop_skip_checkpoints"}
    if len(unsaved) >= 2:
        low, high = min(unsaved), max(unsaved)
        result["skip_checkpoints"] = {"from": low, "to": high}
        for phase in ("up", "destroy"):
            rise = unsaved[high][f"{phase}_seconds"] - unsaved[low][f"{phase}_seconds"]
            result["skip_checkpoints"][f"{phase}_per_resource_ms"] = rise / (high - low) * 1000
    return result


# --- the whole run ----------------------------------------------------------------------


def run_all(settings: CliSettings, bindir: Path) -> dict[str, Any]:
    started = time.perf_counter()
    load_before = _load()
    config = EmulatorConfig(job_seconds=settings.job_seconds, latency_seconds=settings.latency)
    runs: list[CliRun] = []
    with (
        start_emulator(config=config) as emulator,
        tempfile.TemporaryDirectory(prefix="batchip-bench-cli-") as tmp,
    ):
        admin = Admin(emulator.url)
        try:
            stack = CliStack(Path(tmp), bindir)
            version = stack.version()
            say(
                f"pulumi {version} from {bindir}; emulator {emulator.url}: latency "
                f"{settings.latency * 1000:g} ms per call, EIP jobs {settings.job_seconds:g} s"
            )
            stack.init(emulator.url)
            # Warm-up, not recorded: the first update creates PULUMI_HOME's and the
            # backend's folders and the bytecode caches the provider process reads.
            measure(stack, admin, "noop", 1, 1)
            measure(stack, admin, "native_batch", 2, 1)  # the plugin's, too
            say("the engine's own cost (no-op resources, and no resources at all)")
            for programs in noop_schedule(settings.sizes, settings.repeats, settings.large_repeats):
                for approach, n in programs:
                    one = measure(stack, admin, approach, n, 1)
                    same = [r for r in runs if (r.approach, r.n) == (approach, n)]
                    if same:
                        same[0].up_samples += one.up_samples
                        same[0].destroy_samples += one.destroy_samples
                    else:
                        runs.append(one)
            say("EipBatch(count=N) against N one-EIP resources (dynamic, then the plugin)")
            for n in settings.sizes:
                for approach in CLOUD_APPROACHES:
                    runs.append(measure(stack, admin, approach, n, 1))
            admin.reset()
            empty_at_end = _held(admin) == 0
        finally:
            admin.close()
    as_json = [r.to_json() for r in runs]
    return {
        "engine": "cli",
        "settings": attrs.asdict(settings),
        "pulumi": {"version": version, "parallel": "default (8)", "provider_threads": 4},
        "native_plugin": {
            "launcher": PLUGIN,
            "runs": f"{Path(sys.executable).name} -m pulumi_batchip.native (this checkout)",
            # asyncio.to_thread's default executor: min(32, CPUs + 4) threads.
            "provider_threads": min(32, (os.cpu_count() or 1) + 4),
        },
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            # 1-minute load averages: anything else running skews the wall times.
            "load_average": {"start": load_before, "end": _load()},
        },
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "runs": as_json,
        "overhead": engine_overhead(as_json),
        "emulator_empty_at_end": empty_at_end,
        "total_seconds": time.perf_counter() - started,
    }


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def harness_results(out: Path, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The harness mode's results.json beside ours (else the committed one), when it was
    run with the same emulator settings: the report shows its times for comparison."""
    for folder in (out, RESULTS_DIR):
        path = folder / HARNESS_JSON
        if not path.exists():
            continue
        found = dict(json.loads(path.read_text()))
        theirs = found["settings"]
        if (theirs["latency"], theirs["job_seconds"]) == (
            settings["latency"],
            settings["job_seconds"],
        ):
            return found
    return None


def main(args: argparse.Namespace) -> int:
    out: Path | None = args.out if args.out is not None else (None if args.quick else RESULTS_DIR)
    if args.report_only:
        folder = out or RESULTS_DIR
        results = json.loads((folder / RESULTS_JSON).read_text())
        harness = harness_results(folder, results["settings"])
        (folder / RESULTS_MD).write_text(markdown(results, harness))
        print(readme_tables(results))
        return 0
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    settings = CliSettings(
        latency=args.latency if args.latency is not None else (0.005 if args.quick else 0.02),
        job_seconds=args.job_seconds
        if args.job_seconds is not None
        else (0.2 if args.quick else 1.0),
        sizes=sizes,
        noop_sizes=(1, *sizes),
        repeats=args.noop_repeats or (1 if args.quick else NOOP_REPEATS),
        quick=args.quick,
        large_repeats=args.noop_repeats_large or (1 if args.quick else LARGE_NOOP_REPEATS),
    )
    try:
        bindir = find_toolchain()
    except ToolchainUnavailable as exc:
        say(str(exc))
        return 2
    results = run_all(settings, bindir)
    harness = harness_results(out or RESULTS_DIR, results["settings"])
    report = markdown(results, harness)
    if out is None:
        print(report)
        return 0
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULTS_JSON).write_text(json.dumps(results, indent=2) + "\n")
    (out / RESULTS_MD).write_text(report)
    say(f"results in {out / RESULTS_MD} ({results['total_seconds']:.0f} s); the README's tables:")
    print(readme_tables(results))
    return 0
