"""Reliability suite plumbing: which sections ran completely, and the report.

A test module's section is complete when every test collected in it ran and passed
(nothing deselected with ``-k``, nothing failed). At the end of the session the
complete sections go into ``reports/reliability/results.json`` (started from the
published ``tests/reliability/results.json``) and ``reports/reliability/RELIABILITY.md``
is rendered from it; ``reports/`` is ignored by git, so a test run never rewrites the
published figures. ``BATCHIP_PUBLISH_RELIABILITY=1`` writes the published files instead
(``tests/reliability/results.json`` and ``RELIABILITY.md``): the explicit way to
regenerate them, e.g. after a 200-run soak.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from . import report
from .results import RESULTS_FILE, merge_into_file

HERE = Path(__file__).resolve().parent
UNPUBLISHED = HERE.parents[1] / "reports" / "reliability"
SECTIONS = {
    "test_fault_matrix.py": "matrix",
    "test_soak.py": "soak",
    "test_fuzz.py": "fuzz",
    "test_secrets.py": "secrets",
    "test_concurrency.py": "concurrency",
    "test_transport.py": "transport",
}
_collected: Counter[str] = Counter()
_passed: Counter[str] = Counter()


def _section(path: Path) -> str | None:
    if path.parent != HERE:
        return None
    return SECTIONS.get(path.name)


def pytest_itemcollected(item: pytest.Item) -> None:
    section = _section(Path(str(item.path)).resolve())
    if section:
        _collected[section] += 1


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Done: passed, xfailed (a reported bug, see test_fuzz.py), or skipped for a reason.
    done = (report.when == "call" and (report.passed or report.skipped)) or (
        report.when == "setup" and report.skipped
    )
    if not done:
        return
    section = _section(HERE.parents[1] / report.nodeid.split("::")[0])
    if section:
        _passed[section] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    complete = {s for s, n in _collected.items() if n and _passed[s] == n}
    if not complete:
        return
    if os.environ.get("BATCHIP_PUBLISH_RELIABILITY") == "1":
        results_file, markdown = RESULTS_FILE, report.RELIABILITY_MD
    else:
        results_file, markdown = UNPUBLISHED / "results.json", UNPUBLISHED / "RELIABILITY.md"
    results = merge_into_file(complete, path=results_file)
    report.write(results, markdown)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"reliability: {', '.join(sorted(complete))} -> {markdown} updated")
