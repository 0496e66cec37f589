"""Fault rules: what the emulator does wrong on purpose, and when.

A rule (README, "The emulator")::

    {"operation": "BatchAddIp", "action": "throttle", "times": 2, "after": 0}

matches calls of ``operation`` (or ``"*"`` for every API operation); it lets ``after``
matching calls pass, then fires on the next ``times`` (default 1; 0 means for ever).
Actions: ``throttle``, ``error`` (``status``, ``code``, ``message``), ``reset`` (drop
the connection before acting), ``lost_response`` (act, then drop the connection),
``delay`` (``seconds``, then act normally), ``job_fail`` (``created``: EIPs that exist
when the job fails), ``job_hang`` (the job never finishes).

Rules are deterministic unless they carry ``probability`` (0..1): then a random
generator seeded with the emulator's ``--seed`` decides, so soak runs are repeatable.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from typing import Any

import attrs

ACTIONS = frozenset(
    {"throttle", "error", "reset", "lost_response", "delay", "job_fail", "job_hang"}
)
# Actions the EIP job model carries out itself, instead of the HTTP layer; they only
# mean something on the call that starts jobs.
JOB_ACTIONS = frozenset({"job_fail", "job_hang"})
JOB_OPERATION = "BatchCreatePublicips"


class FaultRuleError(ValueError):
    """A rule posted to the admin API is malformed."""


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
    seen: int = 0
    fired: int = 0

    @classmethod
    def from_json(cls, raw: object) -> FaultRule:
        if not isinstance(raw, Mapping):
            raise FaultRuleError("each fault rule must be a JSON object")
        operation, action = raw.get("operation"), raw.get("action")
        if not isinstance(operation, str) or not operation:
            raise FaultRuleError("fault rule needs an 'operation' (an operation name or '*')")
        if action not in ACTIONS:
            raise FaultRuleError(f"fault rule 'action' must be one of {sorted(ACTIONS)}")
        try:
            rule = cls(
                operation=operation,
                action=str(action),
                times=int(raw.get("times", 1)),
                after=int(raw.get("after", 0)),
                status=int(raw["status"]) if raw.get("status") is not None else None,
                code=str(raw["code"]) if raw.get("code") is not None else None,
                message=str(raw["message"]) if raw.get("message") is not None else None,
                seconds=float(raw.get("seconds", 0.0)),
                created=int(raw.get("created", 0)),
                probability=(
                    float(raw["probability"]) if raw.get("probability") is not None else None
                ),
            )
        except (TypeError, ValueError) as exc:
            raise FaultRuleError(f"fault rule has a malformed number: {exc}") from None
        if rule.times < 0 or rule.after < 0 or rule.created < 0 or rule.seconds < 0:
            raise FaultRuleError("times, after, created and seconds must not be negative")
        if rule.probability is not None and not 0.0 <= rule.probability <= 1.0:
            raise FaultRuleError("probability must be within 0..1")
        if rule.action == "error" and (rule.status is None or not 400 <= rule.status <= 599):
            raise FaultRuleError("an 'error' rule needs a 'status' within 400..599")
        return rule

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
                if rule.action in JOB_ACTIONS and operation != JOB_OPERATION:
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
