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

Coverage is checked against sources independent of these tables: the operation names
the emulator routes (read from its source), the ones the provider's API clients send,
and the fault actions the emulator's fault book accepts. An operation the clients can
call but no step calls is named in ``NOT_FAULTED`` with the reason, and the report
lists it.
"""

from __future__ import annotations

import ast
import queue
import re
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import pytest

import pulumi_batchip
import pulumi_batchip.emulator
from pulumi_batchip.emulator.faults import ACTIONS as FAULT_ACTIONS
from pulumi_batchip.emulator.faults import EMPTY_OPERATIONS, FaultRule, applies

from ..engine.harness import EngineResource, ProviderError
from .lanes import (
    DELAY_SECONDS,
    EIP,
    EIP_JOB_TIMEOUT_SECONDS,
    HTTP_TIMEOUT_SECONDS,
    JOB_SECONDS,
    KINDS,
    SIS,
    Kind,
    Lane,
    assert_exact,
)
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
        "update_size": Step({"count": 2}, {"count": 2, "bandwidth_size": 10}, "up", 2),
        "refresh": Step({"count": 2}, None, "refresh", 2),
        "delete": Step({"count": 2}, None, "destroy", 0),
    },
}

# The operations each step calls (checked against the request log by the "none" scenarios).
OPERATIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("SecondaryIpSet", "create"): ("GetInstance", "BatchAddIp"),
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
    ("EipBatch", "update_size"): ("ListPublicipsByTags", "ListPublicips", "UpdateBandwidth"),
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
JOB_ACTIONS = ("job_fail", "job_hang", "eip_error")
JOB_OPERATION = "BatchCreatePublicips"
# `empty` (the answer of a caller without read rights) on the list queries: the provider
# reads by id before it believes a list; a tag query answering empty is made up for by
# the list, a list answering empty stops the step with the rights to grant.
EMPTY_STOPS = frozenset({"ListPublicips"})
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
        if self.action == "empty":
            return self.operation not in EMPTY_STOPS
        return False  # error_4xx, job_fail, job_hang, eip_error

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
        if self.action == "eip_error":
            return {**base, "action": "eip_error", "count": 1}  # one new EIP in ERROR
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
            if operation in EMPTY_OPERATIONS:
                found.append(Scenario(resource, step, operation, "empty"))
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
    elif sc.action == "eip_error":
        assert "new EIPs ended broken" in message and "(ERROR)" in message, message
    elif sc.action == "empty":
        assert "vpc:publicIps:list" in message and "left out" in message, message
    creating = sc.step == "create" or sc.operation in (JOB_OPERATION, "ShowResourcesJobDetail")
    if sc.resource == "EipBatch" and sc.step in ("create", "update_up") and creating:
        if sc.operation == JOB_OPERATION and sc.action == "error_4xx":
            # Refused before it did anything: it says nothing was created.
            assert "Nothing was created" in message, message
        else:
            # A failure once EIPs may exist says what it cleaned up.
            assert "Cleaned up: deleted" in message, message


def _assert_tags_and_sizes(lane: Lane, res: EngineResource) -> None:
    if not res.exists:
        return
    wanted = res.outputs["tags"]
    size = res.outputs["bandwidth"]["size"]
    for eip_id, eip in lane.admin.state()["eip"]["publicips"].items():
        raw = eip.get("tags")
        tags = dict(raw) if isinstance(raw, dict) else dict(t.split("*", 1) for t in raw or ())
        user = {k: v for k, v in tags.items() if not k.startswith(("managed-by", "pulumi-batchip"))}
        assert user == wanted, f"{eip_id} carries {user}, state says {wanted}"
        held = eip["bandwidth_size"]
        assert held == size, f"{eip_id}: bandwidth {held} Mbit/s, state says {size}"


def _check_after_step(lane: Lane, kind: Kind, res: EngineResource, step: Step) -> None:
    assert_exact(lane, kind, [res])
    assert len(kind.owned(res)) == step.owned_after
    if kind is EIP:
        _assert_tags_and_sizes(lane, res)


def run_scenario(lane: Lane, sc: Scenario) -> dict[str, Any]:
    started = time.monotonic()
    kind = KINDS[sc.resource]
    step = PLANS[sc.resource][sc.step]
    outcome: dict[str, Any] = {"id": sc.id, **attrs.asdict(sc), "expected": sc.expect_success}
    lane.reset()
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
        lane.clear_faults()
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
    RECORDER.put("matrix", "failed_scenarios", sum(o.get("result") == "failed" for o in results))
    RECORDER.put("matrix", "lanes", LANES)
    RECORDER.put(
        "matrix",
        "parameters",
        {
            "http_timeout": HTTP_TIMEOUT_SECONDS,
            "delay_seconds": DELAY_SECONDS,
            "eip_job_timeout": EIP_JOB_TIMEOUT_SECONDS,
            "job_seconds": JOB_SECONDS,
        },
    )
    served = emulator_operations()
    RECORDER.put("matrix", "emulator_operations", sorted(set().union(*served.values())))
    RECORDER.put("matrix", "emulator_actions", sorted(FAULT_ACTIONS))
    RECORDER.put("matrix", "not_faulted", not_faulted(served))
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
    steps = [
        "create",
        "update_up",
        "update_down",
        "update_tags",
        "update_size",
        "refresh",
        "delete",
    ]
    return (0 if key[0] == "SecondaryIpSet" else 1, steps.index(key[1]))


@pytest.mark.timeout(900)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[sc.id for sc in SCENARIOS])
def test_fault_scenario(scenario: Scenario, outcomes: dict[str, dict[str, Any]]) -> None:
    outcome = outcomes[scenario.id]
    if "failure" in outcome:
        pytest.fail(f"{scenario.id} after {outcome['seconds']} s:\n{outcome['failure']}")


def test_matrix_covers_every_operation_and_action_the_emulator_has() -> None:
    """Checked against what the emulator itself defines, not against this module's
    tables: its route tables (read from its source) name the operations, its fault
    book names the actions it accepts. Every operation the provider's clients can call
    is faulted with every action in some step, unless NOT_FAULTED says why not."""
    served = emulator_operations()
    every = set().union(*served.values())
    called = client_operations()
    assert served["bcc"] and served["eip"], served
    # The clients call only what the emulator serves (else the emulator is no stand-in).
    assert called <= every, sorted(called - every)
    # Steps and scenarios: one "none" scenario per step, every listed operation is real.
    assert {(sc.resource, sc.step) for sc in SCENARIOS} == set(OPERATIONS)
    assert {(r, s) for r, steps in PLANS.items() for s in steps} == set(OPERATIONS)
    for (resource, step), operations in OPERATIONS.items():
        service = "bcc" if resource == SIS.name else "eip"
        assert set(operations) <= served[service], (resource, step, operations)
        assert Scenario(resource, step, "*", "none") in SCENARIOS
    # Actions: every action the emulator accepts is in the matrix, on every operation it
    # applies to (job actions: on the one call that starts jobs), and each rule the
    # matrix arms is one the emulator's own parser accepts.
    faulted: dict[str, set[str]] = {}
    for sc in SCENARIOS:
        if sc.action == "none":
            continue
        FaultRule.from_json(sc.rule())
        faulted.setdefault(sc.operation, set()).add(sc.fault_action)
    for operation, actions in faulted.items():
        applicable = {a for a in FAULT_ACTIONS if applies(a, operation)}
        assert actions == applicable, (operation, sorted(applicable - actions))
    assert {a for sc in SCENARIOS for a in [sc.fault_action] if sc.action != "none"} == set(
        FAULT_ACTIONS
    )
    # Operations: each one the clients call is faulted, or NOT_FAULTED says why not.
    assert not set(NOT_FAULTED) & set(faulted), sorted(set(NOT_FAULTED) & set(faulted))
    assert set(NOT_FAULTED) <= called, sorted(set(NOT_FAULTED) - called)
    assert called <= set(faulted) | set(NOT_FAULTED), sorted(called - set(faulted))
    assert set(not_faulted(served)) == every - set(faulted)


# -- what the emulator and the clients define (independent of the tables above) ------------
EMULATOR_DIR = Path(pulumi_batchip.emulator.__file__).parent
CLIENT_MODULES = (
    Path(pulumi_batchip.__file__).parent / "baidu" / "bcc.py",
    Path(pulumi_batchip.__file__).parent / "huawei" / "eip.py",
)
# Operations the provider's clients can call but no matrix step calls, and why.
NOT_FAULTED = {
    "RebootInstance": "called only by sets with reboot=True; a failed reboot is reported "
    "as a warning and never fails the step (test_concurrency reboots four sets, unfaulted)",
    "DeletePublicip": "called only when BatchDeletePublicIp answers 404 (an EIP of the "
    "batch already gone), one EIP at a time",
    "ShowPublicip": "EipBatch reads EIPs by id only when a list leaves out some that "
    "the state, a job or the batch tag says exist (the `empty` scenarios call it)",
}


def emulator_operations() -> dict[str, set[str]]:
    """The operation names the emulator's services route to (``bcc`` and ``eip``), read
    from its source: ``Route("Name", ...)`` in bcc_api.py, ``_RouteSpec(method, path,
    "Name", ...)`` and the names ``tag_operation`` returns in eip_api.py."""
    found: dict[str, set[str]] = {}
    for service, module in (("bcc", "bcc_api.py"), ("eip", "eip_api.py")):
        tree = ast.parse((EMULATOR_DIR / module).read_text())
        names = found.setdefault(service, set())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                at = {"Route": 0, "_RouteSpec": 2}.get(node.func.id)
                if at is not None and len(node.args) > at:
                    arg = node.args[at]
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        names.add(arg.value)
            if isinstance(node, ast.FunctionDef) and node.name == "tag_operation":
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and ret.value is not None:
                        names |= _returned_strings(ret.value)
    return found


def _returned_strings(value: ast.expr) -> set[str]:
    """The strings an expression can evaluate to: a constant, or either branch of
    ``a if test else b`` (never the strings of the test)."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return {value.value}
    if isinstance(value, ast.IfExp):
        return _returned_strings(value.body) | _returned_strings(value.orelse)
    return set()


def client_operations() -> set[str]:
    """The operation names the provider's API clients send: the first argument of
    ``.call("Name", ...)``, or of a method that hands its first parameter on to
    ``.call`` (``self._tag_action("BatchCreatePublicipTags", ...)``)."""
    names = set()
    for module in CLIENT_MODULES:
        tree = ast.parse(module.read_text())
        senders = {"call"}
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and len(fn.args.args) > 1:
                first = fn.args.args[1].arg  # after self
                for node in ast.walk(fn):
                    if (
                        _called_method(node) == "call"
                        and isinstance(node, ast.Call)
                        and node.args
                        and isinstance(node.args[0], ast.Name)
                        and node.args[0].id == first
                    ):
                        senders.add(fn.name)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and _called_method(node) in senders
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names.add(node.args[0].value)
    return names


def _called_method(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def not_faulted(served: dict[str, set[str]]) -> dict[str, str]:
    """Every operation the emulator serves that the matrix does not fault, and why."""
    faulted = {op for ops in OPERATIONS.values() for op in ops}
    called = client_operations()
    return {
        op: NOT_FAULTED.get(op, "the provider's clients never call it")
        if op in called
        else "the provider's clients never call it"
        for op in sorted(set().union(*served.values()) - faulted)
    }
