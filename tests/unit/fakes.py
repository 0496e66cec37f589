"""Test doubles the unit tests share."""

from __future__ import annotations


class FakeClock:
    """A monotonic clock that only moves when slept on: call it for the time,
    ``sleep`` to move it on. ``slept`` holds every pause asked for, in order."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.now += seconds
