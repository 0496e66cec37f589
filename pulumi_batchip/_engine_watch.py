"""Ends our dynamic provider's process when the Pulumi engine that started it is gone.

The engine starts Python dynamic providers as ``python -u -m pulumi.dynamic <engine
address>`` (through the ``pulumi-resource-pulumi-python`` launcher), and that server
waits forever: after a ``kill -9`` of ``pulumi`` it would live on, idle, holding
nothing anyone will ever ask for. Once our provider module is loaded in such a process,
a daemon thread connects to the engine's address every ``BATCHIP_ENGINE_CHECK_SECONDS``
(10 s). After two refused connections in a row it interrupts the server
(the way Ctrl-C would: calls in flight may finish) and ends the process
:data:`GRACE_SECONDS` later in any case. Nothing is recorded for a call the engine can
no longer hear: what it created carries our tags, and ``python -m pulumi_batchip
orphans`` finds it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import time

DEFAULT_PERIOD_SECONDS = 10.0
MAX_PERIOD_SECONDS = 3600.0  # the language host takes the same range
GRACE_SECONDS = 30.0
_MISSES_TO_GIVE_UP = 2

_started = False
_started_lock = threading.Lock()


def engine_address(argv: list[str]) -> str | None:
    """The engine's ``host:port`` when this process is ``python -m pulumi.dynamic``: the
    last argument (the engine puts flags such as ``-v=9`` or ``--tracing`` before it)."""
    if len(argv) < 2:
        return None
    main = os.path.normpath(argv[0])
    if not main.endswith(os.path.join("pulumi", "dynamic", "__main__.py")):
        return None
    host, sep, port = argv[-1].rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    return argv[-1]


def check_period(env: dict[str, str] | os._Environ[str] = os.environ) -> float:
    raw = env.get("BATCHIP_ENGINE_CHECK_SECONDS", "")
    with contextlib.suppress(ValueError):
        value = float(raw)
        if 0 < value <= MAX_PERIOD_SECONDS:
            return value
    return DEFAULT_PERIOD_SECONDS


def start_if_provider_process() -> None:
    """Starts the watch once, in a dynamic provider's process only."""
    global _started
    address = engine_address(sys.argv)
    if address is None:
        return
    with _started_lock:
        if _started:
            return
        _started = True
    watch(address, check_period(), GRACE_SECONDS)


def watch(address: str, period: float, grace: float) -> threading.Thread:
    thread = threading.Thread(
        target=_watch, args=(address, period, grace), name="batchip-engine-watch", daemon=True
    )
    thread.start()
    return thread


def answers(address: str, timeout: float) -> bool | None:
    """True: the engine accepts a connection; False: refused, nothing listens there
    any more; None: no answer either way (a stopped ``pulumi``, a full listen queue,
    out of file descriptors), which is no evidence the engine is gone."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return True
    except ConnectionRefusedError:
        return False
    except OSError:
        return None


def _watch(address: str, period: float, grace: float) -> None:
    misses = 0
    while misses < _MISSES_TO_GIVE_UP:
        time.sleep(period)
        answer = answers(address, timeout=min(period, 5.0))
        if answer is not None:
            misses = 0 if answer else misses + 1
    # The exit is armed first: stderr is a pipe to the dead engine, and a write to it
    # may fail or block.
    threading.Thread(target=_exit_after, args=(grace,), daemon=True).start()
    # SIGINT to the main thread (a real signal: it must wake the wait it is blocked in)
    # raises KeyboardInterrupt there, which stops pulumi.dynamic's server; where SIGINT
    # is ignored this does nothing, and the exit armed above ends the process.
    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
    with contextlib.suppress(OSError, ValueError):
        print(
            f"batchip: the Pulumi engine at {address} is gone; this provider process stops "
            f"(calls in flight have {grace:.0f} s)",
            file=sys.stderr,
            flush=True,
        )


def _exit_after(seconds: float) -> None:
    time.sleep(seconds)
    os._exit(1)
