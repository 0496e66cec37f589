"""What the reliability suite measured, collected while it runs.

Each test module of ``tests/reliability`` owns a *section* (``matrix``, ``soak``, ...).
At the end of the session, ``conftest.py`` merges the sections whose every test ran
and passed into ``results.json`` and renders ``RELIABILITY.md`` from it
(``report.py``): the numbers in that file are produced by the suite, never typed.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

RESULTS_FILE = Path(__file__).with_name("results.json")
# A soak of at least this many runs is also kept as "long_soak": CI runs a short one.
LONG_SOAK_RUNS = 200


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


def merge_into_file(
    complete: set[str], path: Path = RESULTS_FILE, base: Path = RESULTS_FILE
) -> dict[str, Any]:
    """Replace the complete sections in the results file ``path`` (started from
    ``base`` when it does not exist yet); keep the others as they were. A soak of
    ``LONG_SOAK_RUNS`` or more is kept as ``long_soak`` too."""
    try:
        stored: dict[str, Any] = json.loads((path if path.exists() else base).read_text())
    except (OSError, ValueError):
        stored = {}
    fresh = RECORDER.snapshot()
    for name in sorted(complete):
        if name in fresh:
            stored[name] = fresh[name]
    soak = stored.get("soak")
    if isinstance(soak, dict) and soak.get("runs", 0) >= LONG_SOAK_RUNS and "soak" in complete:
        stored["long_soak"] = soak
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
    return stored


def counter_dict(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items()))
