"""The one resilience core both resources lean on.

- an operation's *deadline*, carried in a context variable: every call made under it
  stops retrying, and times out, by then (``operation_deadline``);
- a deadline-aware *wait*: refresh, check for the target, back off, give up at the
  deadline, in the manner of terraform's ``StateChangeConf`` (``Waiter``);
- a *parallel map* whose threads keep the caller's context, so the deadline holds in
  them too (``parallel_map``);
- whether a failed call *might have acted* (``outcome_unknown``).

Nothing here knows a cloud or Pulumi. ``clock`` and ``sleep`` are injectable: the unit
tests run every wait on a fake clock.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

import attrs

from .errors import (
    AuthError,
    BatchIpError,
    ClientError,
    CloudApiError,
    ConfigError,
    NotFoundError,
    OperationTimeoutError,
    RefusedError,
    ThrottledError,
    TransportError,
    ValidationError,
)

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")

Clock = Callable[[], float]
Sleep = Callable[[float], None]

POLL_FIRST = 0.25  # the first pause of a wait, seconds
POLL_MAX = 5.0  # the longest pause: a round every 5 s at most
POLL_GROWTH = 1.5
REPORT_EVERY = 10.0  # an unchanged progress line is said again after this long
CONCURRENCY = 4  # in-flight calls per operation: gentle on API gateway throttling

# The deadline (time.monotonic) of the operation a call belongs to, if any: no retry
# wait and no single request goes past it. ``parallel_map`` copies it into its threads.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "batchip_deadline", default=None
)


@contextlib.contextmanager
def operation_deadline(deadline: float) -> Iterator[None]:
    """Calls made inside (in this context) stop retrying, and time out, by ``deadline``.
    It replaces any outer deadline: an operation sets its own, and cleanup after a
    failure gets its own time even when the operation ran out of its."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


@contextlib.contextmanager
def step_deadline(deadline: float) -> Iterator[None]:
    """A deadline for one step of an operation: the earlier of ``deadline`` and the
    operation's own (a step never extends its operation)."""
    current = _DEADLINE.get()
    with operation_deadline(deadline if current is None else min(current, deadline)):
        yield


def remaining_time(clock: Clock = time.monotonic) -> float | None:
    """Seconds left before the current operation's deadline, or None without one."""
    deadline = _DEADLINE.get()
    return None if deadline is None else deadline - clock()


def deadline_in(timeout: float, clock: Clock = time.monotonic) -> float:
    """``timeout`` seconds from now, but never past the current operation's deadline."""
    left = remaining_time(clock)
    return clock() + (timeout if left is None else min(timeout, left))


def parallel_map(fn: Callable[[T], R], items: Sequence[T], workers: int = CONCURRENCY) -> list[R]:
    """``fn`` over ``items`` in up to ``workers`` threads that see the caller's context
    (the deadline); results in the order of ``items``, the first failure raised."""
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        futures = [pool.submit(contextvars.copy_context().run, fn, item) for item in items]
        return [future.result() for future in futures]


def outcome_unknown(exc: BaseException, *, retried_with_token: bool = False) -> bool:
    """Whether a call that failed with ``exc`` may still have acted.

    A refusal the cloud answered (4xx, auth, not found, a business refusal documented
    with a 5xx) or a call that never left did nothing. No answer after sending, a 5xx
    or a timeout leaves it open. A throttle is the gateway's refusal, but a call
    retried with an idempotency token (``retried_with_token``: BCC's clientToken) may
    have acted on an earlier attempt whose answer was lost before the throttled one."""
    if isinstance(exc, TransportError):
        return exc.sent
    definite = (ClientError, AuthError, NotFoundError, ValidationError, ConfigError, RefusedError)
    if isinstance(exc, definite):
        return False
    if isinstance(exc, ThrottledError):
        return retried_with_token
    if isinstance(exc, CloudApiError):
        return exc.status is None or exc.status >= 500
    return isinstance(exc, BatchIpError | TimeoutError)


class WaitTimeout(OperationTimeoutError):
    """A wait reached its deadline; ``last`` is the last state it saw."""

    def __init__(self, message: str, last: object) -> None:
        super().__init__(message)
        self.last = last


@attrs.define
class Pacer:
    """The rounds of a wait: ``for _ in pacer`` runs the body, then pauses with
    growing intervals (capped at ``longest`` and at the time left), until the deadline
    has passed; the body ends the wait early with ``break`` or ``return``. The round
    that starts at or after the deadline is the last one, so a wait always looks once
    more after its last pause."""

    timeout: float
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    first: float = POLL_FIRST
    longest: float = POLL_MAX
    started: float = attrs.field(init=False)
    deadline: float = attrs.field(init=False)
    rounds: int = attrs.field(init=False, default=0)
    _said: tuple[str, float] | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        self.started = self.clock()
        left = remaining_time(self.clock)
        budget = self.timeout if left is None else min(self.timeout, max(0.0, left))
        self.deadline = self.started + budget

    def __iter__(self) -> Iterator[int]:
        interval = self.first
        while True:
            self.rounds += 1
            yield self.rounds
            now = self.clock()
            if now >= self.deadline:
                return
            self.sleep(min(interval, self.deadline - now))
            interval = min(interval * POLL_GROWTH, self.longest)

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    @property
    def left(self) -> float:
        return max(0.0, self.deadline - self.clock())

    @property
    def expired(self) -> bool:
        return self.clock() >= self.deadline

    def report(self, say: Callable[[str], None], line: str, *, news: str | None = None) -> None:
        """Say ``line`` when its news (``news``, by default the line itself: pass the
        part without a changing clock) differs from the last said, or when the same
        news was last said ``REPORT_EVERY`` seconds ago: a long wait shows it is alive
        without repeating itself every round."""
        now, key = self.clock(), line if news is None else news
        if self._said is not None and self._said[0] == key and now - self._said[1] < REPORT_EVERY:
            return
        self._said = (key, now)
        say(line)

    def note(self, news: str) -> None:
        """``news`` was just said another way: the next ``report`` of it waits
        ``REPORT_EVERY`` seconds."""
        self._said = (news, self.clock())


@attrs.define
class Waiter(Generic[S]):
    """Refresh until the state is a target, in the manner of terraform's
    ``StateChangeConf``: ``refresh`` returns a state; ``target`` says when it is
    reached; ``failed`` (optional) returns an error to raise at once for a state that
    will never reach the target; ``describe`` words the state for progress lines and
    the timeout error. Errors of ``refresh`` propagate."""

    refresh: Callable[[], S]
    target: Callable[[S], bool]
    timeout: float
    what: str
    describe: Callable[[S], str] = str
    failed: Callable[[S], BaseException | None] = lambda _state: None
    say: Callable[[str], None] | None = None
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    first: float = POLL_FIRST
    longest: float = POLL_MAX

    def wait(self) -> S:
        pacer = Pacer(
            self.timeout, clock=self.clock, sleep=self.sleep, first=self.first, longest=self.longest
        )
        state: S | None = None
        for _ in pacer:
            state = self.refresh()
            if self.target(state):
                return state
            if (error := self.failed(state)) is not None:
                raise error
            if self.say is not None:
                news = f"{self.what}: {self.describe(state)}"
                pacer.report(self.say, f"{news}, {pacer.elapsed:.0f} s", news=news)
        assert state is not None  # the pacer always runs one round
        raise WaitTimeout(
            f"{self.what}: still {self.describe(state)} after {pacer.elapsed:.0f} s "
            f"(deadline {pacer.deadline - pacer.started:.0f} s)",
            state,
        )
