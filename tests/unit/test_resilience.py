"""The resilience core on a fake clock: deadlines, waits, the parallel map and the
"might it have acted?" rule, without one real pause."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pulumi_batchip import resilience as r
from pulumi_batchip.errors import (
    AuthError,
    BusyError,
    ClientError,
    CloudApiError,
    NotFoundError,
    OperationTimeoutError,
    RefusedError,
    ServerError,
    ThrottledError,
    TransportError,
    ValidationError,
)

from .fakes import FakeClock


def cloud_error(cls: type[CloudApiError], status: int) -> CloudApiError:
    return cls(
        cloud="Huawei EIP",
        operation="BatchCreatePublicips",
        status=status,
        code="X",
        message="m",
        request_id="r",
    )


# -- deadlines ------------------------------------------------------------------------
def test_operation_deadline_replaces_and_step_deadline_never_extends() -> None:
    clock = FakeClock()
    assert r.remaining_time(clock) is None
    with r.operation_deadline(clock.now + 100):
        assert r.remaining_time(clock) == 100
        with r.step_deadline(clock.now + 500):
            assert r.remaining_time(clock) == 100  # a step cannot extend its operation
        with r.step_deadline(clock.now + 10):
            assert r.remaining_time(clock) == 10
        with r.operation_deadline(clock.now + 300):
            assert r.remaining_time(clock) == 300  # cleanup gets time of its own
        assert r.remaining_time(clock) == 100
    assert r.remaining_time(clock) is None


def test_deadline_in_keeps_to_the_operation() -> None:
    clock = FakeClock()
    assert r.deadline_in(50, clock) == clock.now + 50
    with r.operation_deadline(clock.now + 20):
        assert r.deadline_in(50, clock) == clock.now + 20


# -- the pacer and the waiter -----------------------------------------------------------
def test_pacer_backs_off_caps_the_pause_and_stops_after_the_deadline() -> None:
    clock = FakeClock()
    pacer = r.Pacer(20.0, clock=clock, sleep=clock.sleep)
    rounds = list(pacer)
    assert clock.now == pytest.approx(1020.0)  # never past the deadline
    assert clock.slept[0] == r.POLL_FIRST
    assert clock.slept[1] == pytest.approx(r.POLL_FIRST * r.POLL_GROWTH)
    assert max(clock.slept) <= r.POLL_MAX
    assert rounds[-1] == len(clock.slept) + 1  # a last look after the last pause
    assert pacer.expired and pacer.left == 0


def test_pacer_keeps_to_the_operation_deadline() -> None:
    clock = FakeClock()
    with r.operation_deadline(clock.now + 3):
        pacer = r.Pacer(600.0, clock=clock, sleep=clock.sleep)
    list(pacer)
    assert clock.now == pytest.approx(1003.0)


def test_report_says_a_changed_line_at_once_and_a_same_line_every_ten_seconds() -> None:
    clock = FakeClock()
    said: list[str] = []
    pacer = r.Pacer(100.0, clock=clock, sleep=clock.sleep)
    for _ in range(40):
        pacer.report(said.append, "waiting: 120/170")
        clock.now += 1
    assert said == ["waiting: 120/170"] * 4  # t = 0, 10, 20, 30
    pacer.report(said.append, "waiting: 121/170")
    assert said[-1] == "waiting: 121/170"


def waiter_until(
    target: str,
    clock: FakeClock,
    refresh: Callable[[], str],
    *,
    timeout: float,
    what: str,
    **options: Any,
) -> r.Waiter[str]:
    """A Waiter on the fake clock that is done at the state ``target``."""
    return r.Waiter(
        refresh=refresh,
        target=lambda s: s == target,
        timeout=timeout,
        what=what,
        clock=clock,
        sleep=clock.sleep,
        **options,
    )


def test_waiter_returns_the_target_state() -> None:
    clock = FakeClock()
    states = iter(["Stopping", "Stopping", "Starting", "Running"])
    said: list[str] = []
    waiter = waiter_until(
        "Running", clock, lambda: next(states), timeout=60, what="reboot i-1", say=said.append
    )
    assert waiter.wait() == "Running"
    assert said == ["reboot i-1: Stopping, 0 s", "reboot i-1: Starting, 1 s"]


def test_waiter_says_an_unchanged_state_every_ten_seconds() -> None:
    clock = FakeClock()
    said: list[str] = []
    waiter = waiter_until(
        "Running",
        clock,
        lambda: "Stopping",
        timeout=25,
        what="reboot i-1",
        say=said.append,
        longest=1.0,
    )
    with pytest.raises(r.WaitTimeout):
        waiter.wait()
    assert len(clock.slept) > 20  # many rounds, three lines
    assert [line.rsplit(", ", 1)[0] for line in said] == ["reboot i-1: Stopping"] * 3


def test_waiter_fails_fast_on_a_state_that_never_reaches_the_target() -> None:
    clock = FakeClock()
    waiter = waiter_until(
        "ACTIVE",
        clock,
        lambda: "ERROR",
        timeout=60,
        what="EIP",
        failed=lambda s: RuntimeError(f"went {s}") if s == "ERROR" else None,
    )
    with pytest.raises(RuntimeError, match="went ERROR"):
        waiter.wait()
    assert clock.slept == []


def test_waiter_times_out_naming_the_last_state() -> None:
    clock = FakeClock()
    waiter = waiter_until("ACTIVE", clock, lambda: "PENDING_CREATE", timeout=30, what="EIP e-1")
    with pytest.raises(r.WaitTimeout) as caught:
        waiter.wait()
    assert isinstance(caught.value, OperationTimeoutError)
    assert caught.value.last == "PENDING_CREATE"
    assert str(caught.value) == "EIP e-1: still PENDING_CREATE after 30 s (deadline 30 s)"


# -- the parallel map -----------------------------------------------------------------
def test_parallel_map_keeps_order_and_the_deadline_in_its_threads() -> None:
    seen: list[tuple[int, float | None, str]] = []
    lock = threading.Lock()

    def work(item: int) -> int:
        with lock:
            seen.append((item, r.remaining_time(lambda: 0.0), threading.current_thread().name))
        return item * 2

    with r.operation_deadline(500.0):
        assert r.parallel_map(work, list(range(10))) == [i * 2 for i in range(10)]
    assert {left for _i, left, _t in seen} == {500.0}
    assert len({t for _i, _l, t in seen}) <= r.CONCURRENCY


def test_parallel_map_raises_the_first_failure() -> None:
    def work(item: int) -> int:
        if item == 3:
            raise ValueError("three")
        return item

    with pytest.raises(ValueError, match="three"):
        r.parallel_map(work, [1, 2, 3, 4])


# -- might it have acted? -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("exc", "unknown"),
    [
        (TransportError(cloud="c", operation="o", sent=True, cause="ReadTimeout"), True),
        (TransportError(cloud="c", operation="o", sent=False, cause="ConnectError"), False),
        (cloud_error(ServerError, 502), True),
        (cloud_error(BusyError, 500), True),
        (cloud_error(BusyError, 409), False),
        (cloud_error(RefusedError, 500), False),
        (cloud_error(ClientError, 400), False),
        (cloud_error(AuthError, 403), False),
        (cloud_error(NotFoundError, 404), False),
        (cloud_error(ThrottledError, 429), False),
        (ValidationError("count", "must be at least 1"), False),
        (OperationTimeoutError("still waiting"), True),
        (httpx.ReadTimeout("x"), False),  # never raised by our callers: not ours to judge
    ],
)
def test_outcome_unknown(exc: BaseException, unknown: bool) -> None:
    assert r.outcome_unknown(exc) is unknown


def test_a_throttle_after_token_retries_may_follow_an_attempt_that_acted() -> None:
    throttled = cloud_error(ThrottledError, 429)
    assert r.outcome_unknown(throttled, retried_with_token=True)
