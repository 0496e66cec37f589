"""What the reliability suite measured, collected while it runs.

Each test module of ``tests/reliability`` owns a *section* (``matrix``, ``soak``, ...).
At the end of the session, ``conftest.py`` takes every section whose collected tests
all ran (whatever their outcome) and writes what they recorded into ``results.json``,
with where it came from (``run_info``: when, the commit, how many tests passed, failed
and were skipped, and why). ``report.py`` renders ``RELIABILITY.md`` from it: the
numbers in that file are produced by the suite, never typed. A section that did not
run completely keeps what an earlier run recorded, with that run's ``run_info``; a
section without one (written before sections carried it) is dropped, never shown.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import threading
from collections import Counter
from pathlib import Path
from typing import Any

RESULTS_FILE = Path(__file__).with_name("results.json")
ROOT = Path(__file__).resolve().parents[2]
RUN_INFO = "run_info"


class Recorder:
    """Thread-safe counters, lists and values per section."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sections: dict[str, dict[str, Any]] = {}

    def _section(self, name: str) -> dict[str, Any]:
        return self.sections.setdefault(name, {})

    def put(self, section: str, key: str, value: Any) -> None:
        with self._lock:
            self._section(section)[key] = value

    def count(self, section: str, key: str, n: int = 1) -> None:
        with self._lock:
            counter = self._section(section).setdefault(key, 0)
            self._section(section)[key] = counter + n

    def tally(self, section: str, key: str, label: str, n: int = 1) -> None:
        """``section[key][label] += n``: a distribution."""
        with self._lock:
            table = self._section(section).setdefault(key, {})
            table[label] = table.get(label, 0) + n

    def append(self, section: str, key: str, item: Any) -> None:
        with self._lock:
            self._section(section).setdefault(key, []).append(item)

    def session_hygiene(self, *, records: int, credentials: int, leaks: int) -> None:
        self.put(
            "secrets",
            "session",
            {"records_checked": records, "credentials": credentials, "leaks": leaks},
        )

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return json.loads(json.dumps(self.sections, default=str))  # type: ignore[no-any-return]


RECORDER = Recorder()


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def session_info() -> dict[str, Any]:
    """Where this session's figures come from: when, which commit, on what machine."""
    return {
        "finished": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git("rev-parse", "--short=12", "HEAD") or "unknown",
        # Local changes to tracked files (the tree the session ran on was not the commit).
        "local_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "cpus": os.cpu_count(),
    }


def merge_into_file(
    finished: dict[str, dict[str, Any]], path: Path = RESULTS_FILE, base: Path = RESULTS_FILE
) -> dict[str, Any]:
    """Replace the sections that ran completely this session (``finished``: section ->
    its test outcomes) in the results file ``path`` (started from ``base`` when it does
    not exist yet); keep the others as an earlier run recorded them. Returns the whole."""
    try:
        stored: dict[str, Any] = json.loads((path if path.exists() else base).read_text())
    except (OSError, ValueError):
        stored = {}
    # Only sections that say which run they came from.
    stored = {k: v for k, v in stored.items() if isinstance(v, dict) and RUN_INFO in v}
    fresh = RECORDER.snapshot()
    info = session_info()
    for name in sorted(finished):
        stored[name] = {**fresh.get(name, {}), RUN_INFO: {**info, **finished[name]}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
    return stored


def counter_dict(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items()))
