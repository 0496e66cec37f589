"""Fault rules: what the emulator does wrong on purpose, and when.

A rule (README, "The emulator")::

    {"operation": "BatchAddIp", "action": "throttle", "times": 2, "after": 0}

matches calls of ``operation`` (or ``"*"`` for every API operation); it lets ``after``
matching calls pass, then fires on the next ``times`` (default 1; 0 means for ever).
Actions: ``throttle``, ``error`` (``status``, ``code``, ``message``), ``reset`` (drop
the connection before acting), ``lost_response`` (act, then drop the connection),
``delay`` (``seconds``, then act normally), ``job_fail`` (``created``: EIPs that exist
when the job fails; ``job_status``: the word it ends with, ``FAIL``, ``FAILED`` or
``ERROR``, else the emulator's ``job_fail_word``), ``job_hang`` (the job never finishes),
``eip_error`` (``count``: the job succeeds, and that many of its EIPs end in ``ERROR``),
``empty`` (``ListPublicips`` / ``ListPublicipsByTags`` only: HTTP 200 with an empty
list and a total of 0, as Huawei answers a caller without enough rights).

Every field is checked when the rule is armed: counts are integers within
0..``MAX_COUNT``, ``seconds`` a finite number within 0..``MAX_DELAY_SECONDS`` (600),
``probability`` within 0..1, ``status`` an integer HTTP status, ``code``/``message``
strings. NaN, infinities, booleans and numeric strings are refused.

Rules are deterministic unless they carry ``probability`` (0..1): then a random
generator seeded with the emulator's ``--seed`` decides, so soak runs are repeatable.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Mapping
from typing import Any

import attrs

from .config import JOB_FAIL_WORDS, MAX_DELAY_SECONDS

ACTIONS = frozenset(
    {
        "throttle",
        "error",
        "reset",
        "lost_response",
        "delay",
        "job_fail",
        "job_hang",
        "eip_error",
        "empty",
    }
)
# Actions the EIP job model carries out itself, instead of the HTTP layer; they only
# mean something on the call that starts jobs.
JOB_ACTIONS = frozenset({"job_fail", "job_hang", "eip_error"})
JOB_OPERATION = "BatchCreatePublicips"
# "A caller without enough rights gets HTTP 200 and an empty list from queries" (EIP API
# Reference, "Precautions for API Permissions"): `empty` answers the list queries so.
EMPTY_ACTION = "empty"
EMPTY_OPERATIONS = frozenset({"ListPublicips", "ListPublicipsByTags"})
# Actions the service's handler carries out (it finds the rule on ``Call.fault``).
HANDLER_ACTIONS = JOB_ACTIONS | {EMPTY_ACTION}


def applies(action: str, operation: str) -> bool:
    """Whether a rule with ``action`` can fire on a call of ``operation``."""
    if action in JOB_ACTIONS:
        return operation == JOB_OPERATION
    if action == EMPTY_ACTION:
        return operation in EMPTY_OPERATIONS
    return True


# Counts (`times`, `after`, `created`) stay exact in every JSON parser (below 2**53).
MAX_COUNT = 1_000_000_000


class FaultRuleError(ValueError):
    """A rule posted to the admin API is malformed."""


def _integer(
    raw: Mapping[str, Any], key: str, default: int | None, low: int, high: int
) -> int | None:
    """``raw[key]`` as an integer within low..high; integral numbers (2.0) pass, booleans,
    strings, fractions, NaN and infinities do not. Absent or null: ``default``."""
    value = raw.get(key)
    if value is None:
        return default
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultRuleError(
            f"fault rule {key!r} must be an integer within {low}..{high}, not {value!r}"
        )
    return value


def _number(
    raw: Mapping[str, Any], key: str, default: float | None, low: float, high: float
) -> float | None:
    """``raw[key]`` as a finite number within low..high (NaN and infinities refused)."""
    value = raw.get(key)
    if value is None:
        return default
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise FaultRuleError(
            f"fault rule {key!r} must be a finite number within {low:g}..{high:g}, not {value!r}"
        )
    return float(value)


def _text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None or isinstance(value, str):
        return value
    raise FaultRuleError(f"fault rule {key!r} must be a string, not {value!r}")


@attrs.define
class FaultRule:
    operation: str
    action: str
    times: int = 1
    after: int = 0
    status: int | None = None
    code: str | None = None
    message: str | None = None
    seconds: float = 0.0
    created: int = 0
    probability: float | None = None
    job_status: str | None = None  # job_fail only: FAIL | FAILED | ERROR
    seen: int = 0
    fired: int = 0

    @classmethod
    def from_json(cls, raw: object) -> FaultRule:
        """A rule from its JSON object, refused (FaultRuleError) unless every field has
        the type and range it needs: nothing malformed is left to fail at the next call."""
        if not isinstance(raw, Mapping):
            raise FaultRuleError("each fault rule must be a JSON object")
        operation, action = raw.get("operation"), raw.get("action")
        if not isinstance(operation, str) or not operation:
            raise FaultRuleError("fault rule needs an 'operation' (an operation name or '*')")
        if action not in ACTIONS:
            raise FaultRuleError(f"fault rule 'action' must be one of {sorted(ACTIONS)}")
        if action == EMPTY_ACTION and operation != "*" and operation not in EMPTY_OPERATIONS:
            raise FaultRuleError(
                f"an 'empty' rule applies to {' or '.join(sorted(EMPTY_OPERATIONS))} "
                f"(or '*'), not {operation!r}"
            )
        status = _integer(raw, "status", None, 100, 599)
        if action == "error" and (status is None or not 400 <= status <= 599):
            raise FaultRuleError("an 'error' rule needs a 'status' within 400..599")
        probability = _number(raw, "probability", None, 0.0, 1.0)
        job_status = _text(raw, "job_status")
        if job_status is not None and (action != "job_fail" or job_status not in JOB_FAIL_WORDS):
            raise FaultRuleError(
                f"fault rule 'job_status' is for job_fail rules only, one of "
                f"{', '.join(JOB_FAIL_WORDS)}; not {job_status!r}"
            )
        return cls(
            operation=operation,
            action=str(action),
            times=_integer(raw, "times", 1, 0, MAX_COUNT) or 0,
            after=_integer(raw, "after", 0, 0, MAX_COUNT) or 0,
            status=status,
            code=_text(raw, "code"),
            message=_text(raw, "message"),
            seconds=_number(raw, "seconds", 0.0, 0.0, MAX_DELAY_SECONDS) or 0.0,
            # eip_error says how many EIPs break as `count`; the job model reads both
            # from `created`.
            created=_integer(raw, "count" if action == "eip_error" else "created", 0, 0, MAX_COUNT)
            or 0,
            probability=probability,
            job_status=job_status,
        )

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @property
    def exhausted(self) -> bool:
        return self.times != 0 and self.fired >= self.times


class FaultBook:
    """The armed rules. Thread-safe; the first live rule that matches fires."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._rng = random.Random(seed)
        self.injected = 0

    def arm(self, rules: list[FaultRule]) -> None:
        with self._lock:
            self._rules.extend(rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_json() for r in self._rules]

    def take(self, operation: str) -> FaultRule | None:
        """The rule that fires on this call of ``operation``, if any. Every matching
        rule counts the call, so ``after`` counts calls since arming, whichever rule
        fired on them."""
        chosen: FaultRule | None = None
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or rule.operation not in (operation, "*"):
                    continue
                if not applies(rule.action, operation):
                    continue
                rule.seen += 1
                if chosen is not None or rule.seen <= rule.after:
                    continue
                if rule.probability is not None and self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                self.injected += 1
                chosen = attrs.evolve(rule)
            return chosen
