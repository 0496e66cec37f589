"""Reliability suite plumbing: which sections ran completely, and the report.

A test module's section ran completely when every test collected in it ran to an
outcome (nothing deselected with ``-k``, the session not stopped early). At the end of
the session those sections go into ``reports/reliability/results.json`` (started from
the published ``tests/reliability/results.json``) with their outcome: how many tests
passed, failed, were skipped (and why) or xfailed. A skipped test is not a passed one:
the report names it and its reason, and a section with a failure says so.
``reports/reliability/RELIABILITY.md`` is rendered from that file; ``reports/`` is
ignored by git, so a test run never rewrites the published figures.
``BATCHIP_PUBLISH_RELIABILITY=1`` writes the published files instead
(``tests/reliability/results.json`` and ``RELIABILITY.md``): the explicit way to
regenerate them.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

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
# Worst first: a test that failed in teardown after passing is a failure.
_RANK = ("error", "failed", "xpassed", "skipped", "xfailed", "passed")
_collected: Counter[str] = Counter()
# section -> test id -> (outcome, reason)
_outcomes: dict[str, dict[str, tuple[str, str]]] = {}


def _section(path: Path) -> str | None:
    if path.parent != HERE:
        return None
    return SECTIONS.get(path.name)


def pytest_itemcollected(item: pytest.Item) -> None:
    section = _section(Path(str(item.path)).resolve())
    if section:
        _collected[section] += 1


def _outcome(report: pytest.TestReport) -> tuple[str, str] | None:
    """(outcome, reason) of one phase's report, or None when the phase says nothing."""
    xfail = getattr(report, "wasxfail", None)
    if report.when == "call":
        if report.skipped:
            return ("xfailed", str(xfail)) if xfail is not None else ("skipped", _reason(report))
        if report.passed:
            return ("xpassed", str(xfail)) if xfail is not None else ("passed", "")
        return ("failed", "")
    if report.skipped:  # a skip in setup: the test never ran
        return ("skipped", _reason(report))
    if report.failed:
        return ("error", f"{report.when} failed")
    return None


def _reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    section = _section(HERE.parents[1] / report.nodeid.split("::")[0])
    outcome = _outcome(report)
    if section is None or outcome is None:
        return
    tests = _outcomes.setdefault(section, {})
    known = tests.get(report.nodeid)
    if known is None or _RANK.index(outcome[0]) < _RANK.index(known[0]):
        tests[report.nodeid] = outcome


def _summary(section: str) -> dict[str, Any]:
    tests = _outcomes.get(section, {})
    counts = Counter(outcome for outcome, _ in tests.values())
    return {
        "tests": len(tests),
        **{outcome: counts[outcome] for outcome in reversed(_RANK)},
        "not_passed": {
            nodeid.split("::", 1)[-1]: f"{outcome}: {reason}" if reason else outcome
            for nodeid, (outcome, reason) in sorted(tests.items())
            if outcome != "passed"
        },
    }


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    finished = {
        s: _summary(s) for s, n in _collected.items() if n and len(_outcomes.get(s, {})) == n
    }
    if not finished:
        return
    if os.environ.get("BATCHIP_PUBLISH_RELIABILITY") == "1":
        results_file, markdown = RESULTS_FILE, report.RELIABILITY_MD
    else:
        results_file, markdown = UNPUBLISHED / "results.json", UNPUBLISHED / "RELIABILITY.md"
    results = merge_into_file(finished, path=results_file)
    report.write(results, markdown)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"reliability: {', '.join(sorted(finished))} -> {markdown} updated")
