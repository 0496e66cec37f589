"""The fault matrix: every resource x lifecycle step x operation the step calls x
emulator fault action, through the engine-protocol harness.

A scenario: reset the lane's emulator, bring the resource to where the step starts
(no faults), arm one fault rule on one operation, run the step as the engine would,
and then:

- the invariant holds: the emulator holds exactly what the harness's state says the
  stack owns (nothing after a failed create or a destroy), nothing owned twice;
- the step succeeded exactly when it should (retries of what is safe to retry), and
  otherwise its error names the operation, the vendor code and the request id (a
  transport failure: the operation and the cause), and says what was cleaned up;
- after a failure, the same step without faults converges, as re-running
  ``pulumi up`` (or refresh, or destroy) would;
- a fault-free destroy leaves the emulator empty.

``action == "none"`` scenarios run each step fault-free and check that the step calls
exactly the operations this table lists (read from the emulator's request log), so
the table cannot drift from the code. Scenarios run on a few lanes at once (see
``lanes.py``); each one is still its own parametrized test.
"""

from __future__ import annotations

import queue
import re
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import pytest

from ..engine.harness import EngineResource, ProviderError
from .lanes import DELAY_SECONDS, EIP, KINDS, SIS, Kind, Lane, assert_exact
from .results import RECORDER, counter_dict

LANES = 6


@attrs.frozen
class Step:
    before: dict[str, Any] | None  # the resource's inputs before the step (None: absent)
    after: dict[str, Any] | None  # the program's inputs for an `up` step
    verb: str  # up | refresh | destroy
    owned_after: int  # how many addresses / EIPs the resource owns after the step


PLANS: dict[str, dict[str, Step]] = {
    "SecondaryIpSet": {
        "create": Step(None, {"count": 2}, "up", 2),
        "update_up": Step({"count": 2}, {"count": 4}, "up", 4),
        "update_down": Step({"count": 3}, {"count": 1}, "up", 1),
        "refresh": Step({"count": 2}, None, "refresh", 2),
        "delete": Step({"count": 2}, None, "destroy", 0),
    },
    "EipBatch": {
        "create": Step(None, {"count": 2}, "up", 2),
        "update_up": Step({"count": 2}, {"count": 4}, "up", 4),
        "update_down": Step({"count": 3}, {"count": 1}, "up", 1),
        "update_tags": Step(
            {"count": 2, "tags": {"env": "a"}}, {"count": 2, "tags": {"team": "b"}}, "up", 2
        ),
        "refresh": Step({"count": 2}, None, "refresh", 2),
        "delete": Step({"count": 2}, None, "destroy", 0),
    },
}

# The operations each step calls (checked against the request log by the "none" scenarios).
OPERATIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("SecondaryIpSet", "create"): ("BatchAddIp",),
    ("SecondaryIpSet", "update_up"): ("GetInstance", "BatchAddIp"),
    ("SecondaryIpSet", "update_down"): ("GetInstance", "BatchDelIp"),
    ("SecondaryIpSet", "refresh"): ("GetInstance",),
    ("SecondaryIpSet", "delete"): ("GetInstance", "BatchDelIp"),
    ("EipBatch", "create"): (
        "BatchCreatePublicips",
        "ShowResourcesJobDetail",
        "ListPublicipsByTags",
        "ListPublicips",
    ),
    ("EipBatch", "update_up"): (
        "ListPublicipsByTags",
        "ListPublicips",
        "BatchCreatePublicips",
        "ShowResourcesJobDetail",
    ),
    ("EipBatch", "update_down"): ("ListPublicipsByTags", "ListPublicips", "BatchDeletePublicIp"),
    ("EipBatch", "update_tags"): (
        "ListPublicipsByTags",
        "ListPublicips",
        "BatchDeletePublicipTags",
        "BatchCreatePublicipTags",
    ),
    ("EipBatch", "refresh"): ("ListPublicipsByTags", "ListPublicips"),
    ("EipBatch", "delete"): ("ListPublicipsByTags", "ListPublicips", "BatchDeletePublicIp"),
}

# (status, vendor code) of the injected cloud errors, per resource.
ERRORS = {
    "SecondaryIpSet": {
        "error_5xx": (503, "ServiceUnavailable"),
        "error_4xx": (400, "InvalidParameter"),
    },
    "EipBatch": {"error_5xx": (503, "VPC.0512"), "error_4xx": (400, "VPC.0501")},
}
HTTP_ACTIONS = ("throttle", "error_5xx", "error_4xx", "reset", "lost_response", "delay")
JOB_ACTIONS = ("job_fail", "job_hang")
JOB_OPERATION = "BatchCreatePublicips"
NOT_IDEMPOTENT = frozenset({JOB_OPERATION})  # never re-sent once it may have arrived


@attrs.frozen
class Scenario:
    resource: str
    step: str
    operation: str  # "*" with action "none"
    action: str

    @property
    def id(self) -> str:
        return f"{self.resource}-{self.step}-{self.operation}-{self.action}"

    @property
    def expect_success(self) -> bool:
        if self.action in ("none", "throttle", "lost_response", "delay"):
            return True
        if self.action in ("error_5xx", "reset"):
            return self.operation not in NOT_IDEMPOTENT
        return False  # error_4xx, job_fail, job_hang

    @property
    def fault_action(self) -> str:
        """The action name the emulator logs."""
        return "error" if self.action.startswith("error_") else self.action

    def rule(self) -> dict[str, Any]:
        base: dict[str, Any] = {"operation": self.operation}
        if self.action == "throttle":
            return {**base, "action": "throttle", "times": 2}  # a burst
        if self.action.startswith("error_"):
            status, code = ERRORS[self.resource][self.action]
            times = 2 if self.action == "error_5xx" else 1
            message = "injected by the fault matrix"
            return {
                **base,
                "action": "error",
                "status": status,
                "code": code,
                "message": message,
                "times": times,
            }
        if self.action == "delay":
            return {**base, "action": "delay", "seconds": DELAY_SECONDS}
        if self.action == "job_fail":
            return {**base, "action": "job_fail", "created": 1}  # a partial creation
        return {**base, "action": self.action}

    def cost(self) -> float:
        """Rough seconds, to start the slow ones first."""
        slow = {"job_hang": 4, "delay": 3, "throttle": 2.2}
        waits_for_tag = self.operation == JOB_OPERATION and self.action == "reset"
        return (
            slow.get(self.action, 0.5)
            + (3 if waits_for_tag else 0)
            + (1 if self.resource == "EipBatch" else 0)
        )


def _scenarios() -> list[Scenario]:
    found = []
    for (resource, step), operations in OPERATIONS.items():
        found.append(Scenario(resource, step, "*", "none"))
        for operation in operations:
            for action in HTTP_ACTIONS:
                found.append(Scenario(resource, step, operation, action))
            if operation == JOB_OPERATION:
                found.extend(Scenario(resource, step, operation, a) for a in JOB_ACTIONS)
    return found


SCENARIOS = _scenarios()


# -- one scenario ------------------------------------------------------------------------
def _do(res: EngineResource, kind: Kind, step: Step) -> None:
    if step.verb == "up":
        assert step.after is not None
        res.up(kind.inputs(**step.after))
    elif step.verb == "refresh":
        res.refresh()
    else:
        res.destroy()


def _message(details: str) -> str:
    """The error as the user reads it: the last line of the provider's traceback."""
    return details.strip().splitlines()[-1]


def _assert_error_quality(sc: Scenario, details: str) -> None:
    message = _message(details)
    if sc.action.startswith("error_"):
        status, code = ERRORS[sc.resource][sc.action]
        assert f"{sc.operation} failed: HTTP {status} {code}" in message, message
        assert re.search(r"\(request id [0-9a-f-]{36}\)", message), message
    elif sc.action == "reset":
        assert f"{sc.operation} failed: no response (RemoteProtocolError" in message, message
    elif sc.action == "job_fail":
        assert re.search(r"job \S+ \(1/1\) ended FAIL: \S+", message), message
    elif sc.action == "job_hang":
        assert "did not finish within 3 s" in message, message
    creating = sc.step == "create" or sc.operation in (JOB_OPERATION, "ShowResourcesJobDetail")
    if sc.resource == "EipBatch" and sc.step in ("create", "update_up") and creating:
        # A failure once EIPs may exist says what it cleaned up.
        assert "Cleaned up: deleted" in message, message


def _assert_tags(lane: Lane, res: EngineResource) -> None:
    if not res.exists:
        return
    wanted = res.outputs["tags"]
    for eip_id, eip in lane.admin.state()["eip"]["publicips"].items():
        raw = eip.get("tags")
        tags = dict(raw) if isinstance(raw, dict) else dict(t.split("*", 1) for t in raw or ())
        user = {k: v for k, v in tags.items() if not k.startswith(("managed-by", "pulumi-batchip"))}
        assert user == wanted, f"{eip_id} carries {user}, state says {wanted}"


def _check_after_step(lane: Lane, kind: Kind, res: EngineResource, step: Step) -> None:
    assert_exact(lane, kind, [res])
    assert len(kind.owned(res)) == step.owned_after
    if kind is EIP:
        _assert_tags(lane, res)


def run_scenario(lane: Lane, sc: Scenario) -> dict[str, Any]:
    started = time.monotonic()
    kind = KINDS[sc.resource]
    step = PLANS[sc.resource][sc.step]
    outcome: dict[str, Any] = {"id": sc.id, **attrs.asdict(sc), "expected": sc.expect_success}
    lane.admin.reset()
    res = lane.resource(kind)
    try:
        if step.before is not None:
            res.up(kind.inputs(**step.before))
            assert_exact(lane, kind, [res])
        before = len(lane.admin.requests())
        if sc.action != "none":
            lane.admin.faults(sc.rule())
        details = None
        try:
            _do(res, kind, step)
        except ProviderError as exc:
            details = exc.details
        lane.quiesce()
        faults = lane.fault_counts()
        outcome["faults"] = sum(faults.values())
        outcome["result"] = "succeeded" if details is None else "failed"
        lane.admin.clear_faults()
        if sc.action == "none":
            called = {r["operation"] for r in lane.admin.requests()[before:]}
            assert called == set(OPERATIONS[(sc.resource, sc.step)]), sorted(called)
        else:
            assert faults[sc.fault_action] >= 1, f"the fault never fired: {dict(faults)}"

        if details is None:
            assert sc.expect_success, "expected this fault to fail the step, it succeeded"
            _check_after_step(lane, kind, res, step)
        else:
            assert not sc.expect_success, f"unexpected failure: {_message(details)}"
            outcome["error"] = _message(details)
            assert_exact(lane, kind, [res])  # nothing leaked, nothing lost
            _assert_error_quality(sc, details)
            _do(res, kind, step)  # the user runs the same command again, no faults
            _check_after_step(lane, kind, res, step)
            outcome["retry"] = "converged"
        res.destroy()
        assert lane.held(kind) == [], f"left behind: {lane.held(kind)}"
        outcome["leaks"] = 0
    except Exception:
        outcome["failure"] = traceback.format_exc()
        outcome["leaks"] = len(lane.held(kind))
    outcome["seconds"] = round(time.monotonic() - started, 2)
    return outcome


# -- running the selected scenarios on lanes ------------------------------------------------
@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    selected = _selected(request)
    for name, plans in PLANS.items():  # Pulumi programs run in the main thread only
        for step in plans.values():
            for kwargs in (step.before, step.after):
                if kwargs is not None:
                    KINDS[name].inputs(**kwargs)
    selected.sort(key=lambda sc: -sc.cost())
    lanes: queue.Queue[Lane] = queue.Queue()
    with ThreadPoolExecutor(LANES) as pool:
        for lane in pool.map(lambda n: Lane(seed=n), range(min(LANES, len(selected)))):
            lanes.put(lane)

    def run(sc: Scenario) -> dict[str, Any]:
        lane = lanes.get()
        try:
            return run_scenario(lane, sc)
        finally:
            lanes.put(lane)

    started = time.monotonic()
    try:
        with ThreadPoolExecutor(LANES) as pool:
            results = {o["id"]: o for o in pool.map(run, selected)}
    finally:
        while not lanes.empty():
            lanes.get().close()
    _record(list(results.values()), time.monotonic() - started)
    return results


def _selected(request: pytest.FixtureRequest) -> list[Scenario]:
    found = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if getattr(item, "module", None) is request.module and callspec is not None:
            found.append(callspec.params["scenario"])
    return found


def _record(results: list[dict[str, Any]], seconds: float) -> None:
    by_action: Counter[str] = Counter()
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for o in results:
        by_action[o["action"]] += 1
        row = rows.setdefault(
            (o["resource"], o["step"]),
            {
                "resource": o["resource"],
                "step": o["step"],
                "operations": [],
                "scenarios": 0,
                "succeeded": 0,
                "failed": 0,
                "converged": 0,
                "faults": 0,
                "leaks": 0,
                "broken": 0,
            },
        )
        if o["operation"] != "*" and o["operation"] not in row["operations"]:
            row["operations"].append(o["operation"])
        row["scenarios"] += 1
        row["succeeded"] += o.get("result") == "succeeded"
        row["failed"] += o.get("result") == "failed"
        row["converged"] += o.get("retry") == "converged"
        row["faults"] += o.get("faults", 0)
        row["leaks"] += o.get("leaks", 0)
        row["broken"] += "failure" in o
    RECORDER.put("matrix", "rows", [rows[k] for k in sorted(rows, key=_row_order)])
    RECORDER.put("matrix", "scenarios", len(results))
    RECORDER.put("matrix", "by_action", counter_dict(by_action))
    RECORDER.put("matrix", "faults_injected", sum(o.get("faults", 0) for o in results))
    RECORDER.put("matrix", "leaks", sum(o.get("leaks", 0) for o in results))
    RECORDER.put("matrix", "lanes", LANES)
    RECORDER.put("matrix", "seconds", round(seconds))
    RECORDER.put("matrix", "sample_errors", _samples(results))


def _samples(results: list[dict[str, Any]]) -> dict[str, str]:
    """One error message per resource and action, as the user would read it."""
    picked: dict[str, str] = {}
    for o in sorted(results, key=lambda o: o["id"]):
        key = f"{o['resource']} / {o['action']}"
        if "error" in o and key not in picked:
            picked[key] = f"{o['step']} {o['operation']}: {_stable(o['error'])}"
    return picked


def _stable(message: str) -> str:
    """Ids differ on every run: keep the message's shape, not its ids."""
    message = re.sub(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", message
    )
    return re.sub(r"\b[0-9a-f]{32}\b", "<job id>", message)


def _row_order(key: tuple[str, str]) -> tuple[int, int]:
    steps = ["create", "update_up", "update_down", "update_tags", "refresh", "delete"]
    return (0 if key[0] == "SecondaryIpSet" else 1, steps.index(key[1]))


@pytest.mark.timeout(900)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[sc.id for sc in SCENARIOS])
def test_fault_scenario(scenario: Scenario, outcomes: dict[str, dict[str, Any]]) -> None:
    outcome = outcomes[scenario.id]
    if "failure" in outcome:
        pytest.fail(f"{scenario.id} after {outcome['seconds']} s:\n{outcome['failure']}")


def test_matrix_covers_every_step_operation_and_action() -> None:
    steps = {(sc.resource, sc.step) for sc in SCENARIOS}
    assert steps == set(OPERATIONS)
    for (resource, step), operations in OPERATIONS.items():
        for operation in operations:
            actions = {
                sc.action
                for sc in SCENARIOS
                if (sc.resource, sc.step, sc.operation) == (resource, step, operation)
            }
            assert set(HTTP_ACTIONS) <= actions
    assert {sc.action for sc in SCENARIOS if sc.operation == JOB_OPERATION} >= set(JOB_ACTIONS)
    assert SIS.name in KINDS and EIP.name in KINDS
