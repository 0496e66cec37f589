"""A seeded randomized soak: lifecycles of both resources under one kind of fault per
run, each step judged on its own, then a fault-free cleanup.

Each run resets its lane's emulator with the seed ``BATCHIP_SOAK_SEED + run`` (so its
probabilistic faults are repeatable), takes a *fault profile* (run number modulo the
number of profiles, so even a short soak runs every profile), and drives a
SecondaryIpSet and then an EipBatch through create -> count up (EipBatch: new tags, a
bigger bandwidth) -> count down (the old tags and size) -> refresh -> destroy, with
random counts (sometimes more than 50 EIPs: two create calls at once). The profiles:

- ``transient``: throttling, 5xx, dropped connections before or after acting and
  delays past the client timeout on ~20 % of all calls, for the whole lifecycle;
- ``job_fail`` / ``job_hang``: about half of the EIP batch-create jobs end ``FAIL``
  (with a few EIPs created) or never end; the lanes' ``batchip:eipJobTimeout`` is
  short (``SOAK_JOB_TIMEOUT``), so a hung job costs seconds, not minutes;
- ``throttle_burst`` / ``error_burst``: before some steps, one operation the step
  calls is throttled or answered 503 as many times in a row as the provider's retry
  budget (``RetryPolicy.max_attempts``): the call that meets it fails for real (or
  runs out of its deadline first).

Every step, failed or not, is judged when it ends (after waiting for delayed requests
and running jobs):

- nothing leaked: the cloud holds no address or EIP that the state does not own;
- after a success, the cloud holds exactly what the state owns (for EipBatch also
  with the batch tag, the user's tags and the bandwidth size the state records), as
  many as asked for;
- after a failure, an address or EIP in state but gone from the cloud is tolerated
  only when the error says the state is out of date until a refresh;
- a failure's message tells the truth: no "none of them is left" / "none carries the
  tag now" while EIPs with that batch tag exist, no "Nothing was created" when the
  step created some, no "only the batch's own remain" while others carry its tag;
- a step during which no fault fired succeeds; a step hit by ``job_fail`` or
  ``job_hang`` fails and says so;
- per profile: transient faults leave at least ``MIN_TRANSIENT_SUCCESS`` of the
  steps they hit succeeding, and each burst profile fails at least one step.

Then the faults are cleared and a cleanup (refresh, destroy) must leave the emulator
empty. ``BATCHIP_SOAK_RUNS`` runs (default ``CI_RUNS``, what CI runs); more locally::

    BATCHIP_SOAK_RUNS=200 python -m pytest tests/reliability/test_soak.py
"""

from __future__ import annotations

import os
import queue
import random
import re
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import pytest

from pulumi_batchip.eip_operations import BATCH_TAG_KEY, MANAGED_TAG, STACK_TAG_KEY
from pulumi_batchip.http import RetryPolicy

from ..engine.harness import EngineResource, ProviderError
from .lanes import (
    DELAY_SECONDS,
    EIP,
    HTTP_TIMEOUT_SECONDS,
    JOB_SECONDS,
    SIS,
    Kind,
    Lane,
)
from .results import RECORDER, counter_dict
from .test_fault_matrix import ERRORS, OPERATIONS

CI_RUNS = 10  # scripts/test.sh runs tests/reliability without BATCHIP_SOAK_RUNS
RUNS = int(os.environ.get("BATCHIP_SOAK_RUNS", str(CI_RUNS)))
SEED = int(os.environ.get("BATCHIP_SOAK_SEED", "20240601"))
# Lanes run at once; they mostly wait (retry back-offs, job deadlines), not compute.
LANES = int(os.environ.get("BATCHIP_SOAK_LANES", "5"))
SOAK_JOB_TIMEOUT = 2.0
SOAK_STACK = {"batchip:eipJobTimeout": f"{SOAK_JOB_TIMEOUT:g}"}
# Attempts per call before a retryable error is raised: a burst this long exhausts it.
RETRY_BUDGET = RetryPolicy().max_attempts

# Checked in this order on each call: the per-call chance of some fault is about 20 %.
TRANSIENT_RULES: list[dict[str, Any]] = [
    {"operation": "*", "action": "throttle", "probability": 0.06},
    {"operation": "*", "action": "error", "status": 500, "probability": 0.05},
    {"operation": "*", "action": "reset", "probability": 0.04},
    {"operation": "*", "action": "lost_response", "probability": 0.03},
    {"operation": "*", "action": "delay", "seconds": DELAY_SECONDS, "probability": 0.02},
]
JOB_FAULT_PROBABILITY = 0.5
PROFILES = ("transient", "job_fail", "job_hang", "throttle_burst", "error_burst")
BURSTS_PER_RESOURCE = {"throttle_burst": 2, "error_burst": 1}
# Of the steps that transient faults hit, at least this share must succeed: every one
# of those faults is retryable or resolvable, except where a create's deadline runs out.
MIN_TRANSIENT_SUCCESS = 0.5
# A job fault makes the step fail; these say why.
MUST_FAIL = {
    "job_fail": re.compile(r"job \S+ \(\d+/\d+\) ended FAIL"),
    "job_hang": re.compile(rf"did not finish within {SOAK_JOB_TIMEOUT:.0f} s"),
}
STEPS = ("create", "count_up", "count_down", "refresh", "destroy")
UP_BANDWIDTH_SIZE = 10  # Mbit/s at count up (resized in place); back to the default after
MATRIX_STEP = {
    "create": "create",
    "count_up": "update_up",
    "count_down": "update_down",
    "refresh": "refresh",
    "destroy": "delete",
}
# Kinds of problem the judge reports.
TAGS_DIFFER = "tags in the cloud differ from the state"
SIZE_DIFFERS = "bandwidth size in the cloud differs from the state"
# What a failed EipBatch create or grow may claim about its cleanup.
NONE_LEFT_CLAIMS = ("none of them is left", "none carries the tag now")
OWN_LEFT_CLAIM = "only the batch's own remain"
NOTHING_CREATED_CLAIM = "Nothing was created"
STATE_STALE_NOTICE = re.compile(r"pulumi refresh|state still lists", re.IGNORECASE)
BATCH_IN_MESSAGE = re.compile(rf"{re.escape(BATCH_TAG_KEY)}\*([0-9a-f-]{{36}})")
RESERVED_TAGS = (MANAGED_TAG[0], BATCH_TAG_KEY, STACK_TAG_KEY)


@attrs.frozen
class RunPlan:
    run: int
    profile: str
    inputs: dict[str, list[dict[str, Any]]]  # per resource: create, count up, count down
    run_rules: dict[str, list[dict[str, Any]]]  # per resource: armed for its lifecycle
    step_rules: dict[str, dict[str, list[dict[str, Any]]]]  # per resource and step


def plan(run: int) -> RunPlan:
    """Everything random about a run, decided up front from its seed."""
    rng = random.Random(SEED * 1000 + run)
    profile = PROFILES[run % len(PROFILES)]
    inputs: dict[str, list[dict[str, Any]]] = {}
    run_rules: dict[str, list[dict[str, Any]]] = {}
    step_rules: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for kind in (SIS, EIP):
        first = rng.randint(1, 3)
        up = first + rng.randint(1, 3)
        if kind is EIP and rng.random() < 0.15:
            up = rng.randint(51, 55)  # two create calls at once
        down = rng.randint(1, up - 1)
        steps = [{"count": first}, {"count": up}, {"count": down}]
        if kind is EIP:
            steps = [{**s, "tags": {"run": str(run)}} for s in steps]
            steps[1]["tags"] = {"run": str(run), "phase": "up"}
            steps[1]["bandwidth_size"] = UP_BANDWIDTH_SIZE
        inputs[kind.name] = steps
        run_rules[kind.name] = []
        step_rules[kind.name] = {}
        if profile == "transient":
            run_rules[kind.name] = [{**r, "times": 0} for r in TRANSIENT_RULES]
        elif profile in MUST_FAIL and kind is EIP:
            rule: dict[str, Any] = {
                "operation": "BatchCreatePublicips",
                "action": profile,
                "probability": JOB_FAULT_PROBABILITY,
                "times": 0,
            }
            if profile == "job_fail":
                rule["created"] = rng.randint(0, 2)  # a partial creation, or none
            run_rules[kind.name] = [rule]
        elif profile in BURSTS_PER_RESOURCE:
            for step in rng.sample(STEPS, BURSTS_PER_RESOURCE[profile]):
                operation = rng.choice(OPERATIONS[(kind.name, MATRIX_STEP[step])])
                step_rules[kind.name][step] = [_burst(profile, kind, operation)]
    return RunPlan(run, profile, inputs, run_rules, step_rules)


def _burst(profile: str, kind: Kind, operation: str) -> dict[str, Any]:
    if profile == "throttle_burst":
        return {"operation": operation, "action": "throttle", "times": RETRY_BUDGET}
    status, code = ERRORS[kind.name]["error_5xx"]
    return {
        "operation": operation,
        "action": "error",
        "status": status,
        "code": code,
        "message": "injected by the soak",
        "times": RETRY_BUDGET,
    }


def _classify(message: str) -> str:
    for marker, label in (
        ("then failed:", "cleanup failed"),
        ("ended FAIL", "EIP job FAIL"),
        ("did not finish within", "EIP job deadline"),
        ("create call(s) was lost", "lost create, EIPs never appeared"),
        ("deadline passed", "deadline passed"),
        ("no response", "transport error"),
        ("HTTP 429", "throttled"),
        ("HTTP 5", "5xx"),
        ("HTTP 4", "4xx"),
    ):
        if marker in message:
            return label
    return "other: " + message[-120:]


def _message(details: str | None) -> str:
    return "" if details is None else details.strip().splitlines()[-1]


# -- what the cloud holds ------------------------------------------------------------------
@attrs.frozen
class Cloud:
    """The emulator's state for one resource type: ids, and each EIP's tags and
    bandwidth size."""

    held: list[str]
    tags: dict[str, dict[str, str]]
    sizes: dict[str, int | None] = attrs.field(factory=dict)

    @classmethod
    def read(cls, lane: Lane, kind: Kind) -> Cloud:
        state = lane.admin.state()
        if kind is SIS:
            held = [
                address
                for instance in state["bcc"]["instances"].values()
                for family in ("ipv4", "ipv6")
                for address in instance["secondary"][family]
            ]
            return cls(held, {})
        eips = state["eip"]["publicips"]
        tags = {i: dict(t.split("*", 1) for t in eip.get("tags") or ()) for i, eip in eips.items()}
        return cls(list(tags), tags, {i: eip.get("bandwidth_size") for i, eip in eips.items()})

    def tagged(self, batch_id: str) -> list[str]:
        return sorted(i for i, t in self.tags.items() if t.get(BATCH_TAG_KEY) == batch_id)


# -- one step, judged ----------------------------------------------------------------------
@attrs.define
class StepResult:
    kind: str
    step: str
    ok: bool
    fired: Counter[str]
    message: str = ""
    problems: list[tuple[str, str]] = attrs.field(factory=list)  # (kind, what)
    leaked: list[str] = attrs.field(factory=list)
    stale_announced: int = 0

    def flag(self, kind: str, what: str) -> None:
        self.problems.append((kind, what))

    @property
    def must_fail(self) -> bool:
        return any(self.fired[a] for a in MUST_FAIL)


def judge(
    kind: Kind,
    res: EngineResource,
    step: str,
    wanted: int | None,
    result: StepResult,
    before: Cloud,
    after: Cloud,
) -> None:
    """Every rule of the module docstring for one step; breaches go to result.problems."""
    owned = kind.owned(res)
    held = set(after.held)
    if len(owned) != len(set(owned)):
        result.flag("owned twice", f"owned twice: {sorted(owned)}")
    if leaked := sorted(held - set(owned)):
        result.leaked = leaked
        result.flag("leak", f"leaked (in the cloud, in no state): {leaked}")
    stale = sorted(set(owned) - held)
    if result.ok:
        if stale:
            result.flag("stale after a success", f"state owns {stale}, gone from the cloud")
        if step == "destroy" and res.exists:
            result.flag("destroy kept state", "destroy succeeded, the resource is still in state")
        if wanted is not None and len(owned) != wanted:
            result.flag("wrong count", f"asked for {wanted}, state owns {len(owned)}")
        if kind is EIP and res.exists:
            want_tags = dict(res.outputs.get("tags") or {})
            _judge_sizes(res, step, owned, after, result)
            for eip_id in owned:
                tags = after.tags.get(eip_id, {})
                if tags.get(BATCH_TAG_KEY) != res.id:
                    result.flag("batch tag missing", f"{eip_id} lacks tag {res.id}: {tags}")
                user = {k: v for k, v in tags.items() if k not in RESERVED_TAGS}
                if eip_id in after.tags and user != want_tags:
                    result.flag(TAGS_DIFFER, f"{eip_id} carries {user}, state says {want_tags}")
        return
    # A failure.
    if stale:
        if STATE_STALE_NOTICE.search(result.message):
            result.stale_announced += len(stale)
        else:
            result.flag(
                "stale, not announced",
                f"state owns {stale}, gone from the cloud, and the error does not say so",
            )
    if not result.fired:
        result.flag("failed without a fault", "failed though no fault fired during the step")
    for action, pattern in MUST_FAIL.items():
        if result.fired[action] and not pattern.search(result.message):
            result.flag("job fault unreported", f"{action} fired but the error does not say so")
    if kind is not EIP:
        return
    batch = BATCH_IN_MESSAGE.search(result.message)
    if any(claim in result.message for claim in NONE_LEFT_CLAIMS):
        tagged = after.tagged(batch.group(1)) if batch else []
        if batch is None or tagged:
            result.flag("false claim", f"claims none is left, yet {tagged} carry the batch tag")
    if OWN_LEFT_CLAIM in result.message:
        strangers = sorted(set(after.tagged(batch.group(1)) if batch else []) - set(owned))
        if batch is None or strangers:
            result.flag("false claim", f"claims only its own remain, yet {strangers} carry its tag")
    created = sorted(held - set(before.held))
    if NOTHING_CREATED_CLAIM in result.message and created:
        result.flag("false claim", f"claims nothing was created, yet {created} are new")


def _judge_sizes(
    res: EngineResource, step: str, owned: list[str], after: Cloud, result: StepResult
) -> None:
    """The bandwidth sizes in the cloud are the one the state records. A refresh that
    finds them mixed (one field cannot say so) must record a size that differs from
    the program's, so that the next `up` resizes them all."""
    size = (res.outputs.get("bandwidth") or {}).get("size")
    sizes = {after.sizes[i] for i in owned if i in after.sizes}
    if step == "refresh" and len(sizes) > 1:
        asked = (res.inputs.get("bandwidth") or {}).get("size")
        if size not in sizes or size == asked:
            result.flag(
                "refresh hides a size drift",
                f"refresh found bandwidths of {sorted(sizes, key=str)} Mbit/s and recorded "
                f"{size} (the program asks for {asked}): the next up changes nothing",
            )
        return
    for eip_id in owned:
        if eip_id in after.sizes and after.sizes[eip_id] != size:
            result.flag(
                SIZE_DIFFERS,
                f"{eip_id} has a {after.sizes[eip_id]} Mbit/s bandwidth, state says {size}",
            )


def run_step(
    lane: Lane, kind: Kind, res: EngineResource, step: str, plan_: RunPlan
) -> StepResult | None:
    if step in ("refresh", "destroy") and not res.exists:
        return None
    inputs = plan_.inputs[kind.name]
    wanted = inputs[STEPS.index(step)]["count"] if step in STEPS[:3] else None
    step_rules = plan_.step_rules[kind.name].get(step, [])
    before = Cloud.read(lane, kind)
    start = len(lane.admin.requests())
    if step_rules:
        lane.admin.faults(*step_rules)
    details = None
    try:
        if step == "refresh":
            res.refresh()
        elif step == "destroy":
            res.destroy()
        else:
            res.up(kind.inputs(**inputs[STEPS.index(step)]))
    except ProviderError as exc:
        details = exc.details
    lane.quiesce()
    fired = Counter(r["fault"] for r in lane.admin.requests()[start:] if "fault" in r)
    if step_rules:
        lane.clear_faults()
    result = StepResult(kind.name, step, details is None, fired, _message(details))
    if step == "refresh" and result.ok and not res.exists:
        wanted = None  # read found nothing: the resource is gone from state
    judge(kind, res, step, wanted, result, before, Cloud.read(lane, kind))
    return result


def run_once(lane: Lane, plan_: RunPlan) -> dict[str, Any]:
    """One run: both lifecycles and their cleanups. ``problems`` are (kind, text);
    ``leaked`` every address or EIP found in the cloud but in no state, once."""
    started = time.monotonic()
    where = f"run {plan_.run} (seed {SEED + plan_.run}, {plan_.profile})"
    out: dict[str, Any] = {"run": plan_.run, "profile": plan_.profile, "steps": []}
    problems: list[tuple[str, str]] = []
    leaked: set[str] = set()
    lane.reset(seed=SEED + plan_.run)
    for kind in (SIS, EIP):
        res = lane.resource(kind, f"soak-{plan_.run}")
        last_failure = ""  # the lifecycle's latest failed step, for context
        if plan_.run_rules[kind.name]:
            lane.admin.faults(*plan_.run_rules[kind.name])
        try:
            for step in STEPS:
                result = run_step(lane, kind, res, step, plan_)
                if result is None:
                    continue
                out["steps"].append(result)
                leaked.update(result.leaked)
                said = f" -- error: {_brief(result.message)}" if result.message else last_failure
                if not result.ok:
                    last_failure = f" -- after {step} failed: {_brief(result.message)}"
                problems += [
                    (
                        problem_kind,
                        f"{where}, {kind.name} {step} {'ok' if result.ok else 'failed'}, "
                        f"faults {dict(result.fired) or 'none'}: {what}{said}",
                    )
                    for problem_kind, what in result.problems
                ]
        except Exception:  # a broken check, not a fault: report it
            problems.append(("broken check", f"{where} {kind.name}: {traceback.format_exc()}"))
        lane.quiesce()
        lane.clear_faults()
        try:
            if res.exists:  # fault-free: what a user does after all that
                res.refresh()
            res.destroy()
        except ProviderError as exc:
            problems.append(
                ("cleanup failed", f"{where} {kind.name} cleanup: {_brief(_message(exc.details))}")
            )
        lane.quiesce()
        if left := Cloud.read(lane, kind).held:
            leaked.update(left)
            problems.append(("leak", f"{where} {kind.name}: left after the cleanup: {left}"))
    out["problems"] = problems
    out["leaked"] = sorted(leaked)
    out["seconds"] = time.monotonic() - started
    return out


def _brief(message: str) -> str:
    """A long error's start (what failed) and end (what it did about it)."""
    return message if len(message) <= 700 else f"{message[:300]} [...] {message[-400:]}"


# -- the soak --------------------------------------------------------------------------------
def _summarize(results: list[dict[str, Any]], plans: dict[int, RunPlan]) -> dict[str, Any]:
    profiles: dict[str, dict[str, Any]] = {}
    for name in PROFILES:
        runs = [r for r in results if r["profile"] == name]
        steps: list[StepResult] = [s for r in runs for s in r["steps"]]
        faulted = [s for s in steps if s.fired]
        possible = [s for s in faulted if not s.must_fail]
        rules = [
            rule
            for r in runs
            for kind in (SIS, EIP)
            for rule in (
                plans[r["run"]].run_rules[kind.name]
                + [x for xs in plans[r["run"]].step_rules[kind.name].values() for x in xs]
            )
        ]
        profiles[name] = {
            "runs": len(runs),
            "seconds": round(sum(r["seconds"] for r in runs)),
            "steps": len(steps),
            "steps_ok": sum(s.ok for s in steps),
            "steps_failed": sum(not s.ok for s in steps),
            "steps_without_faults": len(steps) - len(faulted),
            "steps_hit": len(faulted),
            "steps_hit_ok": sum(s.ok for s in faulted),
            "steps_hit_must_fail": sum(s.must_fail for s in faulted),
            "hit_success_possible": len(possible),
            "hit_success_possible_ok": sum(s.ok for s in possible),
            "rules_armed": len(rules),
            "faults": counter_dict(sum((s.fired for s in steps), Counter())),
            "failures": counter_dict(
                Counter(f"{s.kind}: {_classify(s.message)}" for s in steps if not s.ok)
            ),
            "outcomes": counter_dict(
                Counter(f"{s.kind} {s.step} {'ok' if s.ok else 'failed'}" for s in steps)
            ),
            "stale_announced": sum(s.stale_announced for s in steps),
            "problems": sum(len(r["problems"]) for r in runs),
            "leaked": sum(len(r["leaked"]) for r in runs),
        }
    return profiles


def _profile_problems(profiles: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    problems = []
    transient = profiles["transient"]
    if transient["hit_success_possible"]:
        ratio = transient["hit_success_possible_ok"] / transient["hit_success_possible"]
        if ratio < MIN_TRANSIENT_SUCCESS:
            problems.append(
                f"transient faults: only {transient['hit_success_possible_ok']} of the "
                f"{transient['hit_success_possible']} steps they hit succeeded "
                f"({ratio:.0%} < {MIN_TRANSIENT_SUCCESS:.0%})"
            )
    for name in BURSTS_PER_RESOURCE:
        p = profiles[name]
        if p["runs"] and p["steps_hit"] and not p["steps_failed"]:
            problems.append(
                f"{name}: {p['steps_hit']} steps hit by bursts of {RETRY_BUDGET}, none failed: "
                "the bursts no longer exhaust the retry budget"
            )
        if p["runs"] and not p["steps_hit"]:
            problems.append(f"{name}: no burst ever fired")
    for name in MUST_FAIL:
        p = profiles[name]
        # Half of the creates, two or more per run: never in five runs is no chance.
        if p["runs"] >= 5 and not p["steps_hit_must_fail"]:
            problems.append(f"{name}: armed in {p['runs']} runs, never fired")
    return [("profile", text) for text in problems]


def _problem_kinds(results: list[dict[str, Any]], extra: list[tuple[str, str]]) -> dict[str, Any]:
    """Per kind of problem: in how many runs, how many observations (one per step that
    showed it), and the first one seen."""
    kinds: dict[str, dict[str, Any]] = {}
    for r in [*results, {"problems": extra}]:
        for kind in {k for k, _ in r["problems"]}:
            kinds.setdefault(kind, {"runs": 0, "observations": 0, "first": ""})["runs"] += 1
        for kind, text in r["problems"]:
            kinds[kind]["observations"] += 1
            kinds[kind]["first"] = kinds[kind]["first"] or text
    return dict(sorted(kinds.items()))


@pytest.mark.timeout(3600)
def test_soak() -> None:
    plans = {run: plan(run) for run in range(RUNS)}
    for p in plans.values():  # Pulumi programs run in the main thread only
        for kind in (SIS, EIP):
            for kwargs in p.inputs[kind.name]:
                kind.inputs(**kwargs)
    lanes: queue.Queue[Lane] = queue.Queue()
    with ThreadPoolExecutor(LANES) as pool:
        made = pool.map(lambda n: Lane(seed=SEED + n, stack=SOAK_STACK), range(min(LANES, RUNS)))
        for lane in made:
            lanes.put(lane)

    def one(run: int) -> dict[str, Any]:
        lane = lanes.get()
        try:
            return run_once(lane, plans[run])
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

    profiles = _summarize(results, plans)
    extra = _profile_problems(profiles)
    problems = [text for r in results for _, text in r["problems"]] + [t for _, t in extra]
    steps: list[StepResult] = [s for r in results for s in r["steps"]]
    # Addresses or EIPs found in the cloud but in no state (after a step or the
    # cleanup), each counted once however many steps saw it.
    leaks = sum(len(r["leaked"]) for r in results)
    RECORDER.put(
        "soak",
        "summary",
        {
            "runs": RUNS,
            "ci_runs": CI_RUNS,
            "seed": SEED,
            "lanes": LANES,
            "seconds": round(seconds),
            "steps": len(steps),
            "steps_failed": sum(not s.ok for s in steps),
            "steps_judged": len(steps),
            "faults_injected": sum(sum(s.fired.values()) for s in steps),
            "leaks": leaks,
            "problems": len(problems),
            "runs_with_problems": sum(1 for r in results if r["problems"]),
            "runs_without_problems": sum(1 for r in results if not r["problems"]),
            "stale_announced": sum(s.stale_announced for s in steps),
            "http_timeout": HTTP_TIMEOUT_SECONDS,
            "eip_job_timeout": SOAK_JOB_TIMEOUT,
            "delay_seconds": DELAY_SECONDS,
            "job_seconds": JOB_SECONDS,
            "retry_budget": RETRY_BUDGET,
            "job_fault_probability": JOB_FAULT_PROBABILITY,
            "min_transient_success": MIN_TRANSIENT_SUCCESS,
            "transient_rules": TRANSIENT_RULES,
        },
    )
    RECORDER.put("soak", "profiles", profiles)
    kinds = _problem_kinds(results, extra)
    RECORDER.put("soak", "problem_kinds", kinds)
    assert not problems, (
        f"{len(problems)} problem(s) of {len(kinds)} kind(s): "
        + "; ".join(f"{k} in {v['runs']} run(s)" for k, v in kinds.items())
        + "\n"
        + "\n".join(problems)
    )
