"""What a careless or hostile client cannot exhaust in the emulator: it never reads a
huge body, and idle sockets past the connection cap pin no thread."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from typing import Any

import httpx
import pytest

from pulumi_batchip.emulator import (
    EmulatorConfig,
    RunningEmulator,
    start_emulator,
)
from pulumi_batchip.emulator.app import MAX_BODY_BYTES

from ..conftest import Admin

# --- bodies over the limit --------------------------------------------------------------


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def exchange(url: str, data: bytes, *, timeout: float = 5.0) -> tuple[bytes, float]:
    """Send ``data``, read until the server closes: (all it sent, seconds it took). A
    server that waits for the rest of the body makes this raise socket.timeout."""
    with socket.create_connection(address(url), timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received, time.monotonic() - started


def parse(received: bytes) -> tuple[str, dict[str, str], Any]:
    head, _, body = received.partition(b"\r\n\r\n")
    status, *lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, json.loads(body)


HUGE = 100_000_000


@pytest.mark.parametrize("expect", [False, True])
@pytest.mark.parametrize(
    ("target", "request_id_header", "shape"),
    [
        ("/v2/instance/i-DhjUXmSA?reboot", "x-bce-request-id", {"requestId", "code", "message"}),
        (
            "/v2/0123456789abcdef0123456789abcdef/publicips/x",
            "x-request-id",
            {"code", "message"},
        ),
    ],
)
def test_huge_content_length_refused_before_the_body(
    emulator: RunningEmulator,
    admin: Admin,
    target: str,
    request_id_header: str,
    shape: set[str],
    expect: bool,
) -> None:
    head = (
        f"PUT {target} HTTP/1.1\r\nHost: emulator\r\nContent-Type: application/json\r\n"
        f"Content-Length: {HUGE}\r\n" + ("Expect: 100-continue\r\n" if expect else "") + "\r\n"
    )
    # A few bytes of the promised 100 MB: the answer must not wait for the rest.
    received, seconds = exchange(emulator.url, head.encode() + b'{"a": ')
    assert seconds < 2
    assert b"100 Continue" not in received  # no invitation to send what will be refused
    status, headers, body = parse(received)
    assert status.startswith("HTTP/1.1 413")
    assert set(body) == shape
    assert body["code"] == "EntityTooLarge"
    assert headers["connection"] == "close"
    assert headers[request_id_header]
    [entry] = admin.requests()
    assert (entry["operation"], entry["status"], entry["body"]) == ("Unknown", 413, None)


def test_huge_content_length_on_admin_and_unknown_paths(emulator: RunningEmulator) -> None:
    for target, answer, code in (
        ("/_emulator/faults", "413", "EntityTooLarge"),
        ("/elsewhere", "404", "NotFound"),
    ):
        head = f"POST {target} HTTP/1.1\r\nHost: e\r\nContent-Length: {HUGE}\r\n\r\n[]"
        received, seconds = exchange(emulator.url, head.encode())
        assert seconds < 2
        status, headers, body = parse(received)
        assert status.startswith(f"HTTP/1.1 {answer}")
        assert body["code"] == code, body
        assert headers["connection"] == "close"


def test_admin_body_limit_is_exact(emulator: RunningEmulator, admin: Admin) -> None:
    url = f"{emulator.url}/_emulator/faults"
    rule = b'[{"operation": "*", "action": "throttle"}]'
    padded = rule + b" " * (MAX_BODY_BYTES - len(rule))
    response = httpx.post(url, content=padded, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    response = httpx.post(url, content=padded + b" ", headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "EntityTooLarge"
    assert len(admin.state()["faults"]) == 1


def test_chunked_body_cut_off_past_the_limit(emulator: RunningEmulator, admin: Admin) -> None:
    chunk = b"x" * 65536
    count = MAX_BODY_BYTES // len(chunk) + 2  # 1 MiB + 128 KiB
    data = b"PUT /v2/instance/i-DhjUXmSA?reboot HTTP/1.1\r\nHost: e\r\n"
    data += b"Transfer-Encoding: chunked\r\n\r\n"
    # Never terminated (no last chunk): the server must stop reading at the limit.
    data += (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * count
    received, seconds = exchange(emulator.url, data)
    assert seconds < 2
    status, headers, body = parse(received)
    assert status.startswith("HTTP/1.1 413")
    assert body["code"] == "EntityTooLarge"
    assert headers["connection"] == "close"
    assert [(r["status"], r["body"]) for r in admin.requests()] == [(413, None)]


def test_chunked_body_under_the_limit_is_read(emulator: RunningEmulator, admin: Admin) -> None:
    rule = json.dumps([{"operation": "*", "action": "throttle"}]).encode()
    response = httpx.post(
        f"{emulator.url}/_emulator/faults",
        content=iter([rule[:10], rule[10:]]),  # no length: httpx sends it chunked
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert len(admin.state()["faults"]) == 1


# --- a cap on connections ---------------------------------------------------------------


def idle_sockets(url: str, count: int) -> list[socket.socket]:
    """Connected sockets that never send a byte (half-open requests)."""
    return [socket.create_connection(address(url), timeout=5) for _ in range(count)]


def test_idle_sockets_past_the_cap_wait_without_threads() -> None:
    cap = 4
    config = EmulatorConfig(max_connections=cap, idle_timeout_seconds=60)
    with start_emulator(config=config) as running:
        baseline = threading.active_count()
        idle = idle_sockets(running.url, 40)
        try:
            time.sleep(0.5)  # let the server accept what it will
            assert threading.active_count() <= baseline + cap
            result: list[int] = []

            def request() -> None:
                result.append(httpx.get(f"{running.url}/_emulator/state", timeout=20).status_code)

            waiting = threading.Thread(target=request)
            waiting.start()
            waiting.join(timeout=0.7)
            assert waiting.is_alive()  # queued behind the idle sockets, not refused
            assert threading.active_count() <= baseline + cap + 1  # + the waiting client
        finally:
            for sock in idle:
                sock.close()
        waiting.join(timeout=10)
        assert result == [200]
    assert not waiting.is_alive()


def test_idle_timeout_frees_the_slots(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pulumi_batchip.emulator")
    config = EmulatorConfig(max_connections=2, idle_timeout_seconds=0.5)
    with start_emulator(config=config) as running:
        idle = idle_sockets(running.url, 2)
        try:
            started = time.monotonic()
            response = httpx.get(f"{running.url}/_emulator/state", timeout=10)
            assert response.status_code == 200
            assert 0.3 < time.monotonic() - started < 5
            for sock in idle:
                assert sock.recv(1) == b""  # the server closed it
        finally:
            for sock in idle:
                sock.close()
    # Routine, so not logged as an error (werkzeug's "Request timed out").
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    closed = [r.getMessage() for r in caplog.records if r.name == "pulumi_batchip.emulator"]
    assert closed.count("closed a connection idle for 0.5 s") == 2


def test_stop_does_not_hang_when_every_slot_is_taken() -> None:
    running = start_emulator(config=EmulatorConfig(max_connections=1, idle_timeout_seconds=60))
    idle = idle_sockets(running.url, 3)
    try:
        time.sleep(0.2)
        started = time.monotonic()
        running.stop()
        assert time.monotonic() - started < 3
        assert not running._thread.is_alive()
    finally:
        for sock in idle:
            sock.close()


def test_normal_concurrency_under_the_cap(emulator: RunningEmulator) -> None:
    # Sixteen clients at once (what one of our clients opens) are served together.
    barrier = threading.Barrier(16)
    statuses: list[int] = []

    def call() -> None:
        barrier.wait()
        statuses.append(httpx.get(f"{emulator.url}/_emulator/faults", timeout=10).status_code)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 16
