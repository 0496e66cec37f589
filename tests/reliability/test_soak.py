"""A seeded randomized soak: lifecycles of both resources while ~10 % of all API calls
fail in one transient way or another, then a fault-free cleanup. Nothing may leak.

Each run resets its lane's emulator, reseeds the emulator's fault generator with
``BATCHIP_SOAK_SEED + run`` (so a run's faults are repeatable), arms the rules below
on every operation (``"*"``, ``probability``, ``times: 0``), and drives a
SecondaryIpSet and an EipBatch through create -> count up -> count down -> refresh ->
destroy with random counts. A step may fail (that is what faults do); after every
step, failed or not, the cloud holds nothing that the state does not own (no leak),
and after a successful step it holds exactly what the state owns. Then the faults are
disarmed and a cleanup (refresh, destroy) must leave the emulator empty.

``BATCHIP_SOAK_RUNS`` runs (default 10, CI); run 200 or more locally::

    BATCHIP_SOAK_RUNS=200 python -m pytest tests/reliability/test_soak.py

The injected faults are transient ones (throttling, 5xx, dropped connections before or
after acting, delays past the client timeout, failing or hanging EIP jobs); a 4xx
refusal is not transient, and the fault matrix covers it on every operation.
"""

from __future__ import annotations

import os
import queue
import random
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ..engine.harness import EngineResource, ProviderError
from .lanes import DELAY_SECONDS, EIP, SIS, Kind, Lane, assert_exact, unowned
from .results import RECORDER, counter_dict

RUNS = int(os.environ.get("BATCHIP_SOAK_RUNS", "10"))
SEED = int(os.environ.get("BATCHIP_SOAK_SEED", "20240601"))
LANES = 4
# Checked in this order on each call: the per-call chance of some fault is about 10 %.
FAULT_RULES: list[dict[str, Any]] = [
    {"operation": "*", "action": "throttle", "probability": 0.03},
    {"operation": "*", "action": "error", "status": 500, "probability": 0.025},
    {"operation": "*", "action": "reset", "probability": 0.02},
    {"operation": "*", "action": "lost_response", "probability": 0.015},
    {"operation": "*", "action": "delay", "seconds": DELAY_SECONDS, "probability": 0.01},
    # Only BatchCreatePublicips starts jobs: these apply to it alone.
    {"operation": "*", "action": "job_fail", "created": 1, "probability": 0.05},
    {"operation": "*", "action": "job_hang", "probability": 0.02},
]
STEPS = ("create", "count_up", "count_down", "refresh", "destroy")


def plan(run: int) -> dict[str, list[dict[str, Any]]]:
    """The desired inputs of each step, per resource (None for refresh/destroy)."""
    rng = random.Random(SEED * 1000 + run)
    plans: dict[str, list[dict[str, Any]]] = {}
    for kind in (SIS, EIP):
        first = rng.randint(1, 3)
        up = first + rng.randint(1, 3)
        if kind is EIP and rng.random() < 0.15:
            up = rng.randint(51, 55)  # two create calls at once
        down = rng.randint(1, up - 1)
        tags = {"run": str(run)} if kind is EIP else None
        steps = [{"count": first}, {"count": up}, {"count": down}]
        if tags is not None:
            steps = [{**s, "tags": tags} for s in steps]
            steps[1]["tags"] = {"run": str(run), "phase": "up"}
        plans[kind.name] = steps
    return plans


def _classify(details: str) -> str:
    message = details.strip().splitlines()[-1]
    for marker, label in (
        ("ended FAIL", "EIP job FAIL"),
        ("did not finish within", "EIP job deadline"),
        ("create call(s) was lost", "lost create, EIPs never appeared"),
        ("no response", "transport error"),
        ("HTTP 5", "5xx"),
        ("HTTP 4", "4xx"),
    ):
        if marker in message:
            return label
    return "other: " + message[-120:]


def run_once(lane: Lane, run: int, plans: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "run": run,
        "steps": Counter(),
        "failures": Counter(),
        "faults": Counter(),
        "leaks": 0,
        "stale_after_failure": 0,
        "problems": [],
    }
    lane.admin.reset()
    lane.emulator.app.faults.reseed(SEED + run)
    for kind in (SIS, EIP):
        res = lane.resource(kind, f"soak-{run}")
        lane.admin.faults(*({**r, "times": 0} for r in FAULT_RULES))
        try:
            _lifecycle(lane, kind, res, plans[kind.name], result)
        except Exception:  # a broken check, not a fault: report it
            result["problems"].append(f"{kind.name}: {traceback.format_exc()}")
        lane.quiesce()
        result["faults"].update(lane.fault_counts() - result["faults"])
        lane.admin.clear_faults()
        _cleanup(lane, kind, res, result)
    return result


def _lifecycle(
    lane: Lane, kind: Kind, res: EngineResource, steps: list[dict[str, Any]], result: dict[str, Any]
) -> None:
    for step in STEPS:
        if step in ("refresh", "destroy") and not res.exists:
            continue
        error = None
        try:
            if step == "refresh":
                res.refresh()
            elif step == "destroy":
                res.destroy()
            else:
                res.up(kind.inputs(**steps[STEPS.index(step)]))
        except ProviderError as exc:
            error = exc.details
        lane.quiesce()
        label = f"{kind.name} {step}"
        result["steps"][f"{label} {'ok' if error is None else 'failed'}"] += 1
        leaked = unowned(lane, kind, [res])
        if leaked:
            result["leaks"] += len(leaked)
            result["problems"].append(f"{label}: leaked {leaked} ({_brief(error)})")
        if error is None:
            try:
                assert_exact(lane, kind, [res])
            except AssertionError as exc:
                result["problems"].append(f"{label}: {exc}")
        else:
            result["failures"][f"{kind.name}: {_classify(error)}"] += 1
            owned = set(kind.owned(res))
            result["stale_after_failure"] += len(owned - set(lane.held(kind)))


def _cleanup(lane: Lane, kind: Kind, res: EngineResource, result: dict[str, Any]) -> None:
    """Fault-free: what a user does after all that (refresh, then destroy)."""
    try:
        if res.exists:
            res.refresh()
        res.destroy()
    except ProviderError as exc:
        result["problems"].append(f"{kind.name} cleanup failed: {_brief(exc.details)}")
    left = lane.held(kind)
    if left:
        result["leaks"] += len(left)
        result["problems"].append(f"{kind.name}: {len(left)} left after the cleanup: {left}")


def _brief(details: str | None) -> str:
    return "no error" if details is None else details.strip().splitlines()[-1][-300:]


@pytest.mark.timeout(3600)
def test_soak() -> None:
    plans = {run: plan(run) for run in range(RUNS)}
    for per_run in plans.values():  # Pulumi programs run in the main thread only
        for kind in (SIS, EIP):
            for kwargs in per_run[kind.name]:
                kind.inputs(**kwargs)
    lanes: queue.Queue[Lane] = queue.Queue()
    with ThreadPoolExecutor(LANES) as pool:
        for lane in pool.map(lambda n: Lane(seed=SEED + n), range(min(LANES, RUNS))):
            lanes.put(lane)

    def one(run: int) -> dict[str, Any]:
        lane = lanes.get()
        try:
            return run_once(lane, run, plans[run])
        finally:
            lanes.put(lane)

    started = time.monotonic()
    try:
        with ThreadPoolExecutor(LANES) as pool:
            results = list(pool.map(one, range(RUNS)))
    finally:
        while not lanes.empty():
            lanes.get().close()
    seconds = time.monotonic() - started

    steps: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    faults: Counter[str] = Counter()
    for r in results:
        steps.update(r["steps"])
        failures.update(r["failures"])
        faults.update(r["faults"])
    problems = [p for r in results for p in r["problems"]]
    leaks = sum(r["leaks"] for r in results)
    calls = sum(steps.values())
    RECORDER.put(
        "soak",
        "summary",
        {
            "runs": RUNS,
            "seed": SEED,
            "lanes": LANES,
            "seconds": round(seconds),
            "steps": calls,
            "faults_injected": sum(faults.values()),
            "leaks": leaks,
            "problems": len(problems),
            "runs_clean_after_cleanup": sum(1 for r in results if not r["problems"]),
            "stale_after_failure": sum(r["stale_after_failure"] for r in results),
        },
    )
    RECORDER.put("soak", "runs", RUNS)
    RECORDER.put("soak", "steps", counter_dict(steps))
    RECORDER.put("soak", "failures", counter_dict(failures))
    RECORDER.put("soak", "faults", counter_dict(faults))
    RECORDER.put("soak", "fault_rules", FAULT_RULES)
    assert leaks == 0, "\n".join(problems)
    assert not problems, "\n".join(problems)
