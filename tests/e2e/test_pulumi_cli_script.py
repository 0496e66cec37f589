"""scripts/pulumi-cli.sh: its routes, its cache, its errors, and the one pinned Pulumi
version shared with the Python SDK we test with."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
from pathlib import Path

from .conftest import REPO

SCRIPT = REPO / "scripts" / "pulumi-cli.sh"
GO_MOD = REPO / "tools" / "pulumi-cli" / "go.mod"
NEEDED = (
    "pulumi",
    "pulumi-language-python",
    "pulumi-language-python-exec",
    "pulumi-resource-pulumi-python",
    "pulumi-language-yaml",
    "pulumi-language-go",
    "pulumi-language-nodejs",
)


def run_script(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        stdin=subprocess.DEVNULL,
    )


def base_env(path: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("BATCHIP_", "PULUMI_"))}
    return {**keep, "PATH": path}


def path_without_pulumi() -> str:
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(d for d in dirs if d and not (Path(d) / "pulumi").exists())


def pinned_version() -> str:
    match = re.search(r"github.com/pulumi/pulumi/pkg/v3 (v\S+)", GO_MOD.read_text())
    assert match
    return match.group(1)


def test_cli_version_matches_the_python_sdk_we_test_with() -> None:
    assert pinned_version() == "v" + importlib.metadata.version("pulumi")
    assert f'"pulumi=={pinned_version()[1:]}"' in (REPO / "pyproject.toml").read_text()


def test_cached_toolchain_is_complete_and_reused(pulumi_bin: Path) -> None:
    """Second run: the per-user cache, one folder per version, every piece present."""
    assert pulumi_bin.name == "bin" and pulumi_bin.parent.name == f"pulumi-{pinned_version()}"
    for name in NEEDED:
        assert os.access(pulumi_bin / name, os.X_OK), name
    version = subprocess.run(
        [str(pulumi_bin / "pulumi"), "version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == pinned_version()
    env = base_env(path_without_pulumi())
    env["XDG_CACHE_HOME"] = str(pulumi_bin.parents[2])
    again = run_script(env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == str(pulumi_bin)
    assert "(route: cache)" in again.stderr
    assert "building" not in again.stderr


def test_a_pulumi_on_path_wins(tmp_path: Path) -> None:
    for name in ("pulumi", "pulumi-language-python"):
        tool = tmp_path / name
        tool.write_text("#!/bin/sh\necho v3.0.0-fake\n")
        tool.chmod(0o755)
    result = run_script(base_env(f"{tmp_path}{os.pathsep}{path_without_pulumi()}"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path)
    assert "(route: path)" in result.stderr
    # Without a YAML host it is still used; the script says what that costs.
    assert "no pulumi-language-yaml beside it or on PATH" in result.stderr


def test_a_pulumi_on_path_with_a_yaml_host_gets_no_note(tmp_path: Path) -> None:
    for name in ("pulumi", "pulumi-language-python", "pulumi-language-yaml"):
        tool = tmp_path / name
        tool.write_text("#!/bin/sh\necho v3.0.0-fake\n")
        tool.chmod(0o755)
    result = run_script(base_env(f"{tmp_path}{os.pathsep}{path_without_pulumi()}"))
    assert result.returncode == 0, result.stderr
    assert "(route: path)" in result.stderr
    assert "pulumi-language-yaml" not in result.stderr


def copy_of_the_sources(tmp: Path) -> Path:
    """scripts/pulumi-cli.sh and what its source id hashes, in a folder of their own."""
    root = tmp / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, root / "scripts")
    shutil.copytree(REPO / "tools", root / "tools")
    return root


def source_id(root: Path) -> str:
    """What the script computes: tools/pulumi-cli's sources (every .go file, by path),
    then tools/pulumi-yaml's."""
    cli, yaml = root / "tools" / "pulumi-cli", root / "tools" / "pulumi-yaml"
    files = [cli / "go.mod", cli / "go.sum"]
    files += sorted(cli.rglob("*.go"), key=lambda f: f"./{f.relative_to(cli).as_posix()}")
    files += [yaml / "go.mod", yaml / "go.sum", yaml / "tools.go"]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:16]


def test_the_cache_is_keyed_by_both_modules_and_needs_the_yaml_host(tmp_path: Path) -> None:
    root = copy_of_the_sources(tmp_path)
    cache = tmp_path / "cache"
    folder = cache / "pulumi-batchip" / f"pulumi-{pinned_version()}"
    (folder / "bin").mkdir(parents=True)
    for name in NEEDED:
        tool = folder / "bin" / name
        tool.write_text(f"#!/bin/sh\necho {pinned_version()}\n")
        tool.chmod(0o755)
    (folder / "source-id").write_text(source_id(root) + "\n")
    env = base_env(path_without_pulumi())
    env.update(XDG_CACHE_HOME=str(cache), BATCHIP_PULUMI_ROUTES="cache")
    script = [str(root / "scripts" / "pulumi-cli.sh")]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", *script], env=env, capture_output=True, text=True, timeout=60
        )

    assert run().returncode == 0  # the fake cache is what the script expects
    # Another pulumi-yaml pin: the cache is stale (the build route would rebuild it).
    go_mod = root / "tools" / "pulumi-yaml" / "go.mod"
    go_mod.write_text(go_mod.read_text().replace("v1.25.0", "v1.11.1"))
    stale = run()
    assert stale.returncode == 1 and "no complete cached toolchain" in stale.stderr
    (folder / "source-id").write_text(source_id(root) + "\n")
    assert run().returncode == 0
    # A cache without the YAML host is incomplete.
    (folder / "bin" / "pulumi-language-yaml").unlink()
    assert run().returncode == 1


def test_a_pulumi_without_language_host_is_not_used(tmp_path: Path) -> None:
    tool = tmp_path / "pulumi"
    tool.write_text("#!/bin/sh\necho v3.0.0-fake\n")
    tool.chmod(0o755)
    env = base_env(f"{tmp_path}{os.pathsep}{path_without_pulumi()}")
    env["BATCHIP_PULUMI_ROUTES"] = "path"
    result = run_script(env)
    assert result.returncode == 1
    assert "has no pulumi-language-python" in result.stderr
    assert "every route failed (path)" in result.stderr
    assert result.stdout == ""


def test_every_route_failing_names_what_failed(tmp_path: Path) -> None:
    env = base_env(path_without_pulumi())
    env.update(
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        BATCHIP_PULUMI_ROUTES="path cache installer",
        PULUMI_INSTALL_URL="http://127.0.0.1:9/install.sh",  # nothing listens there
    )
    result = run_script(env)
    assert result.returncode == 1
    assert "no pulumi on PATH" in result.stderr
    assert f"no complete cached toolchain for {pinned_version()}" in result.stderr
    assert "cannot reach it" in result.stderr
    assert "install Go" in result.stderr
    assert result.stdout == ""


def test_unknown_route_is_refused(tmp_path: Path) -> None:
    env = base_env(path_without_pulumi())
    env.update(XDG_CACHE_HOME=str(tmp_path), BATCHIP_PULUMI_ROUTES="brew")
    result = run_script(env)
    assert result.returncode == 1
    assert "unknown route 'brew'" in result.stderr
