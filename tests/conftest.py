"""Fixtures shared by every test layer: a live emulator over loopback HTTP.

hypothesis is imported here, at start-up: its pytest plugin imports it at the end of
the session otherwise, and after the Pulumi mock runs of tests/examples CPython 3.11
can fail to compile anything new then ("AST constructor recursion depth mismatch").
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import hypothesis  # noqa: F401  (imported up front, see below)
import pytest

from pulumi_batchip.emulator import (
    DEFAULT_BCE_CREDENTIALS,
    DEFAULT_HW_CREDENTIALS,
    EmulatorConfig,
    RunningEmulator,
    start_emulator,
)

from .engine.harness import LEDGER
from .reliability.results import RECORDER


class Admin:
    """The emulator's admin API (/_emulator/...), unsigned JSON."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._http = httpx.Client(base_url=url, timeout=10)

    def state(self) -> dict[str, Any]:
        return self._ok(self._http.get("/_emulator/state"))

    def reset(self, seed: int | None = None) -> None:
        body = {"seed": seed} if seed is not None else None
        self._ok(self._http.post("/_emulator/reset", json=body))

    def requests(self) -> list[dict[str, Any]]:
        return list(self._ok(self._http.get("/_emulator/requests"))["requests"])

    def operations(self) -> list[str]:
        return [r["operation"] for r in self.requests()]

    def faults(self, *rules: dict[str, Any]) -> None:
        self._ok(self._http.post("/_emulator/faults", json=list(rules)))

    def clear_faults(self) -> None:
        self._ok(self._http.delete("/_emulator/faults"))

    def post(self, name: str, body: Any) -> dict[str, Any]:
        return self._ok(self._http.post(f"/_emulator/{name}", json=body))

    def close(self) -> None:
        self._http.close()

    @staticmethod
    def _ok(response: httpx.Response) -> Any:
        assert response.status_code == 200, response.text
        return response.json()


@contextlib.contextmanager
def fresh_admin(url: str) -> Iterator[Admin]:
    """The admin API of the emulator at ``url``, reset first, closed after."""
    admin = Admin(url)
    try:
        admin.reset()
        yield admin
    finally:
        admin.close()


@pytest.fixture(scope="session")
def emulator_session() -> Iterator[RunningEmulator]:
    with start_emulator(config=EmulatorConfig(job_seconds=0.3)) as running:
        yield running


@pytest.fixture
def emulator(emulator_session: RunningEmulator) -> Iterator[RunningEmulator]:
    """The session's emulator, reset before each test."""
    admin = Admin(emulator_session.url)
    admin.reset()
    admin.close()
    yield emulator_session


@pytest.fixture
def admin(emulator: RunningEmulator) -> Iterator[Admin]:
    client = Admin(emulator.url)
    yield client
    client.close()


class _EveryLogRecord(logging.Handler):
    """Keeps the text of every log record that reaches the root logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted is no secret either
            self.lines.append(repr(record.msg))


@pytest.fixture(scope="session", autouse=True)
def secret_hygiene() -> Iterator[None]:
    """Session-wide: no credential ever shows up in what the engine harness recorded
    (every Check/Diff/Create/Read/Update/Delete request and answer, each unpickled
    ``__provider``, every EngineResource state, provider error and provider stderr) or
    in any log record of this process (the in-process emulators, httpx, our clients)."""
    for credentials in (DEFAULT_BCE_CREDENTIALS, DEFAULT_HW_CREDENTIALS):
        for access_key, secret_key in credentials.items():
            LEDGER.add_secret(access_key)
            LEDGER.add_secret(secret_key)
    handler = _EveryLogRecord()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    yield
    logging.getLogger().removeHandler(handler)
    for line in handler.lines:
        LEDGER.saw("log record", line)
    leaks = LEDGER.leaks()
    RECORDER.session_hygiene(
        records=LEDGER.count, credentials=len(LEDGER.secrets), leaks=len(leaks)
    )
    assert not leaks, "credentials leaked:\n" + "\n".join(leaks[:20])
