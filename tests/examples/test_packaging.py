"""How users get the package today: from a clone (what every example's
requirements.txt installs) or from a wheel built here. The wheel and sdist are built
for real and their contents checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The Python examples (a Pulumi YAML one installs nothing: it has no requirements.txt).
EXAMPLES = sorted(p.parent for p in (REPO / "examples").glob("*/requirements.txt"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_requirements_install_this_repository(example: Path, tmp_path: Path) -> None:
    """pip, run in the example's folder as `pulumi install` runs it, resolves the
    package to this clone (nothing is installed: --dry-run)."""
    report = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--quiet",
            "--disable-pip-version-check", "--ignore-installed", "--report", str(report),
            "-r", "requirements.txt",
        ],
        cwd=example,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    installs = json.loads(report.read_text())["install"]
    [ours] = [i for i in installs if i["metadata"]["name"] == "pulumi-batchip"]
    assert ours["download_info"]["url"] == REPO.as_uri()


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def test_wheel_contents(dist: Path) -> None:
    [wheel] = dist.glob("pulumi_batchip-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        entry_points = archive.read(
            next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        ).decode()
    assert not [n for n in names if n.startswith("tests/") or "/tests/" in n]
    for needed in (
        "pulumi_batchip/__init__.py",
        "pulumi_batchip/py.typed",
        # tells language hosts (Pulumi's and ours) the package needs no provider plugin
        "pulumi_batchip/pulumi-plugin.json",
        "pulumi_batchip/emulator/__main__.py",
        "pulumi_batchip/testing/pytest_plugin.py",
    ):
        assert needed in names
    assert [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert "License-Expression: Apache-2.0" in metadata.decode()
    assert "[pytest11]" in entry_points and "pulumi_batchip.testing.pytest_plugin" in entry_points
    # the native provider plugin, which the engine finds on PATH
    assert "pulumi_batchip/native/__main__.py" in names
    assert "[console_scripts]" in entry_points
    assert "pulumi-resource-batchip = pulumi_batchip.native.serve:console" in entry_points


def test_sdist_contents(dist: Path) -> None:
    [sdist] = dist.glob("pulumi_batchip-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    for needed in ("LICENSE", "README.md", "pyproject.toml", "pulumi_batchip/py.typed"):
        assert needed in names


def test_the_built_wheel_imports(dist: Path, tmp_path: Path) -> None:
    """Installed from the wheel (its dependencies from this environment), the package
    and its emulator import from the wheel's files, not from the clone."""
    [wheel] = dist.glob("pulumi_batchip-*.whl")
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
         str(target), "--disable-pip-version-check", str(wheel)],
        check=True,
        timeout=300,
    )  # fmt: skip
    code = (
        "import pulumi_batchip, pulumi_batchip.emulator, pulumi_batchip.testing;"
        "print(pulumi_batchip.__file__)"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(target))
