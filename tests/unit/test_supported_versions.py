"""The version floors pyproject.toml declares are the ones scripts/compat.sh proves."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def project_table() -> str:
    """pyproject.toml's [project] table as text (tomllib is not in Python 3.10)."""
    text = (REPO / "pyproject.toml").read_text()
    return text.split("[project]", 1)[1].split("\n[", 1)[0]


def test_compat_floors_match_the_declared_ones() -> None:
    block = project_table().split("dependencies = [", 1)[1].split("]", 1)[0]
    declared = re.findall(r'"([^"]+)"', block)
    floors = {}
    for requirement in declared:
        match = re.match(r"([a-z0-9-]+)>=([0-9.]+)", requirement)
        assert match, requirement
        floors[match.group(1)] = match.group(2)
    script = (REPO / "scripts" / "compat.sh").read_text()
    [array] = re.findall(r"^FLOORS=\((.*)\)$", script, flags=re.M)
    pinned = dict(p.split("==") for p in array.split())
    assert set(pinned) == set(floors)
    for name, version in floors.items():
        # The floor "3.216" is proven with 3.216.0, "0.27" with 0.27.0, and so on.
        assert pinned[name].split(".")[: len(version.split("."))] == version.split("."), name


def test_declared_pythons_are_the_ones_tested() -> None:
    assert 'requires-python = ">=3.10"' in project_table()
    script = (REPO / "scripts" / "compat.sh").read_text()
    assert "find_python 3.10" in script and "for version in 3.12 3.13" in script


def test_the_floor_engine_tests_exist() -> None:
    """A renamed engine file must not silently drop out of the floor run."""
    script = (REPO / "scripts" / "compat.sh").read_text()
    block = script.split("FLOOR_ENGINE_TESTS=(", 1)[1].split(")", 1)[0]
    files = block.split()
    assert len(files) == 4
    for name in files:
        assert (REPO / name).is_file(), name
