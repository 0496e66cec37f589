"""The dynamic provider's engine watch (pulumi_batchip/_engine_watch.py): which
process it runs in, and that it ends that process when the engine's address stops
answering, at once when idle and after the grace period when a call is in flight."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from pulumi_batchip import _engine_watch as watch

DYNAMIC_MAIN = os.path.join("site-packages", "pulumi", "dynamic", "__main__.py")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([DYNAMIC_MAIN, "127.0.0.1:4000"], "127.0.0.1:4000"),
        ([DYNAMIC_MAIN, "[::1]:4000"], "[::1]:4000"),
        ([DYNAMIC_MAIN], None),
        ([DYNAMIC_MAIN, "127.0.0.1"], None),
        ([DYNAMIC_MAIN, "127.0.0.1:port"], None),
        # --logflow -v=9 and --tracing come before the address
        ([DYNAMIC_MAIN, "--logtostderr", "-v=9", "127.0.0.1:4000"], "127.0.0.1:4000"),
        ([DYNAMIC_MAIN, "--tracing", "http://127.0.0.1:9411", "127.0.0.1:4000"], "127.0.0.1:4000"),
        (["pulumi-language-python-exec", "127.0.0.1:4000"], None),
        (["/project/__main__.py", "127.0.0.1:4000"], None),
    ],
)
def test_only_a_dynamic_provider_process_is_watched(argv: list[str], expected: str | None) -> None:
    assert watch.engine_address(argv) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", 10.0),
        ("2.5", 2.5),
        ("3600", 3600.0),
        ("3601", 10.0),
        ("1e300", 10.0),
        ("0", 10.0),
        ("-1", 10.0),
        ("inf", 10.0),
        ("nan", 10.0),
        ("x", 10.0),
    ],
)
def test_check_period_from_the_environment(value: str, expected: float) -> None:
    assert watch.check_period({"BATCHIP_ENGINE_CHECK_SECONDS": value}) == expected


def test_answers_tells_a_listening_port_from_a_closed_one() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        assert watch.answers(address, timeout=1) is True
    assert watch.answers(address, timeout=1) is False


def test_no_answer_is_no_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    """A timeout (a stopped `pulumi` whose listen queue is full) is neither alive nor
    gone."""

    def times_out(*_args: object, **_kwargs: object) -> socket.socket:
        raise TimeoutError("timed out")

    monkeypatch.setattr(watch.socket, "create_connection", times_out)
    assert watch.answers("127.0.0.1:4000", timeout=0.1) is None


def closed_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def run_fake_provider(busy_seconds: float) -> float:
    """A process shaped like `python -m pulumi.dynamic`: the main thread waits on an
    Event, a worker may be busy with a call. Returns how long it lived."""
    code = textwrap.dedent(
        f"""
        import threading, time
        from pulumi_batchip import _engine_watch as w
        if {busy_seconds}:
            threading.Thread(target=time.sleep, args=({busy_seconds},)).start()
        w.watch({closed_address()!r}, period=0.2, grace=3)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        """
    )
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", code], timeout=60, check=False)
    return time.monotonic() - started


def test_an_idle_provider_ends_soon_after_the_engine_is_gone() -> None:
    assert run_fake_provider(0) < 2.5  # two missed checks of 0.2 s, then out


def test_a_busy_provider_ends_at_the_grace_period() -> None:
    took = run_fake_provider(300)
    assert 3 <= took < 6
