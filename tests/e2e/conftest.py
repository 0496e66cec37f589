"""Real `pulumi` commands on real programs, in temporary folders, with a local file
backend, against the emulator (one per test module).

The CLI comes from ``scripts/pulumi-cli.sh`` (cache, installer or a build from Go
modules). Where that script fails the tests skip with its reason, unless
``BATCHIP_E2E_REQUIRED=1`` (set by ``.ci/run``): then they fail, so CI on the project's
own machines can never skip them silently.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from pulumi_batchip.config import VENDOR_SETTINGS, Credentials, HuaweiSettings
from pulumi_batchip.emulator import (
    DEFAULT_BCE_CREDENTIALS,
    DEFAULT_HW_CREDENTIALS,
    DEFAULT_HW_PROJECT_ID,
    EmulatorConfig,
    RunningEmulator,
    start_emulator,
)
from pulumi_batchip.huawei.eip import EipClient

from ..conftest import Admin, fresh_admin

REPO = Path(__file__).resolve().parents[2]
[(BCE_AK, BCE_SK)] = DEFAULT_BCE_CREDENTIALS.items()
[(HW_AK, HW_SK)] = DEFAULT_HW_CREDENTIALS.items()
CREDENTIALS = (BCE_AK, BCE_SK, HW_AK, HW_SK)

# Calls that change something in the cloud (the rest only read).
MUTATING = frozenset(
    {
        "BatchAddIp",
        "BatchDelIp",
        "RebootInstance",
        "BatchCreatePublicips",
        "CreatePublicip",
        "DeletePublicip",
        "BatchDeletePublicIp",
        "BatchCreatePublicipTags",
        "BatchDeletePublicipTags",
        "UpdateBandwidth",
    }
)


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    """The directory scripts/pulumi-cli.sh prints (built or cached once per machine)."""
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "pulumi-cli.sh")],
        capture_output=True,
        text=True,
        timeout=3600,
        stdin=subprocess.DEVNULL,
    )
    elapsed = time.monotonic() - started
    sys.stderr.write(result.stderr)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        reason = f"scripts/pulumi-cli.sh failed (exit {result.returncode}): {result.stderr[-2000:]}"
        if os.environ.get("BATCHIP_E2E_REQUIRED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    print(f"\npulumi toolchain ready in {elapsed:.1f} s: {lines[-1]}", file=sys.stderr)
    return Path(lines[-1])


@pytest.fixture(scope="module")
def e2e_emulator() -> Iterator[RunningEmulator]:
    with start_emulator(config=EmulatorConfig(job_seconds=0.3)) as running:
        yield running


@pytest.fixture
def cloud(e2e_emulator: RunningEmulator) -> Iterator[Admin]:
    """The module's emulator, reset for this test, through its admin API."""
    with fresh_admin(e2e_emulator.url) as admin:
        yield admin


class PulumiFailed(AssertionError):
    pass


class Stack:
    """One Pulumi project + stack in a temporary folder, driven by the real CLI."""

    def __init__(self, workdir: Path, bindir: Path, emulator_url: str, name: str = "e2e") -> None:
        self.dir = workdir / "project"
        self.dir.mkdir(parents=True)
        self.state_dir = workdir / "state"
        self.state_dir.mkdir()
        self.name = name
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "BATCHIP_"))},
            "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PULUMI_HOME": str(workdir / "pulumi-home"),
            "PULUMI_BACKEND_URL": f"file://{self.state_dir}",
            "PULUMI_CONFIG_PASSPHRASE": "",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            # The program and the dynamic provider both run this interpreter (the test
            # venv, which holds the package).
            "PULUMI_PYTHON_CMD": sys.executable,
            "NO_COLOR": "1",
        }
        self.emulator_url = emulator_url
        self.log: list[str] = []

    # -- set-up ----------------------------------------------------------------------
    def write_program(self, program: str, project: str = "batchip-e2e") -> None:
        (self.dir / "Pulumi.yaml").write_text(
            f"name: {project}\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
        )
        (self.dir / "__main__.py").write_text(textwrap.dedent(program))

    def init(self, config: dict[str, str] | None = None) -> None:
        self.run("stack", "init", self.name)
        self.config_set("baiducloud:accessKey", BCE_AK)
        self.config_set("baiducloud:secretKey", BCE_SK, secret=True)
        self.config_set("baiducloud:region", "bj")
        self.config_set("batchip:bccEndpoint", self.emulator_url)
        self.config_set("huaweicloud:accessKey", HW_AK)
        self.config_set("huaweicloud:secretKey", HW_SK, secret=True)
        self.config_set("huaweicloud:region", "cn-north-4")
        self.config_set("huaweicloud:projectId", DEFAULT_HW_PROJECT_ID)
        self.config_set("batchip:eipEndpoint", self.emulator_url)
        for key, value in (config or {}).items():
            self.config_set(key, value)

    def config_set(
        self, key: str, value: str, secret: bool = False, plaintext: bool = False
    ) -> None:
        """``plaintext``: stored as given even where the CLI takes the key for a secret's
        (it refuses ``batchip:huaweiSecretKey`` without ``--secret`` or ``--plaintext``)."""
        flags = ["--secret"] if secret else ["--plaintext"] if plaintext else []
        # `--` so values starting with "-" are not taken for flags.
        self.run("config", "set", *flags, key, "--", value)

    def python_path(self, *folders: Path) -> None:
        """Puts ``folders`` first on ``sys.path`` of the program and of the dynamic
        provider (both Python processes the CLI starts with :attr:`env`); with none,
        back to the inherited ``PYTHONPATH``."""
        inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        entries = [str(f) for f in folders] + inherited
        if entries:
            self.env["PYTHONPATH"] = os.pathsep.join(entries)
        else:
            self.env.pop("PYTHONPATH", None)

    # -- commands ----------------------------------------------------------------------
    def run(
        self, *args: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["pulumi", "--non-interactive", *args],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        self.log.append(f"$ pulumi {' '.join(args)}\n{result.stdout}\n{result.stderr}")
        if check and result.returncode != 0:
            raise PulumiFailed(
                f"pulumi {' '.join(args)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result

    def kill(self, running: subprocess.Popen[str]) -> None:
        """SIGKILL a :meth:`popen` command as a crash would, then what it started: the
        engine starts each plugin in a process group of its own (so ``killpg`` misses
        it) but in the command's session, which is what is swept here. Then no process
        of that session is left."""
        os.killpg(running.pid, signal.SIGKILL)
        running.wait(timeout=30)
        deadline = time.monotonic() + 10
        while left := session_members(running.pid):
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            assert time.monotonic() < deadline, f"processes {left} outlived SIGKILL"
            time.sleep(0.05)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["pulumi", "--non-interactive", *args],
            cwd=self.dir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def up(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("up", "--yes", "--skip-preview", *extra, check=check)

    def preview(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("preview", *extra, check=check)

    def refresh(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("refresh", "--yes", "--skip-preview", *extra, check=check)

    def destroy(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("destroy", "--yes", "--skip-preview", *extra, check=check)

    def outputs(self) -> dict[str, Any]:
        return dict(json.loads(self.run("stack", "output", "--json", "--show-secrets").stdout))

    def export(self) -> dict[str, Any]:
        return dict(json.loads(self.run("stack", "export").stdout))

    def resources(self, typ: str | None = None) -> list[dict[str, Any]]:
        found = self.export()["deployment"].get("resources") or []
        return [r for r in found if typ is None or r["type"] == typ]


@pytest.fixture
def stack(tmp_path: Path, pulumi_bin: Path, cloud: Admin) -> Iterator[Stack]:
    """A fresh stack; on teardown, whatever it still holds is destroyed (best effort)
    and the emulator must be empty, so no test leaves resources behind."""
    created = Stack(tmp_path, pulumi_bin, cloud.url)
    yield created
    if (created.dir / "Pulumi.yaml").exists() and created.state_dir.exists():
        created.run("cancel", "--yes", check=False)
        created.run("destroy", "--yes", "--skip-preview", check=False)
    shutil.rmtree(tmp_path / "pulumi-home", ignore_errors=True)


def mutating_calls(requests: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in requests if r["operation"] in MUTATING]


def held(cloud: Admin) -> tuple[int, int]:
    """(secondary IPs on every VM, EIPs) the emulator holds."""
    state = cloud.state()
    secondary = sum(
        len(ips) for vm in state["bcc"]["instances"].values() for ips in vm["secondary"].values()
    )
    return secondary, len(state["eip"]["publicips"])


def session_members(session: int) -> list[int]:
    """Live processes whose session id is ``session`` (Linux /proc; zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[3]) == session:
            found.append(int(entry.name))
    return found


def plugin_dir(tmp: Path) -> Path:
    """A folder holding ``pulumi-resource-batchip`` that runs this checkout's plugin with
    the test's interpreter (what ``pip install`` puts on PATH as a console script)."""
    folder = tmp / "plugin-bin"
    folder.mkdir()
    script = folder / "pulumi-resource-batchip"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m pulumi_batchip.native "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folder


# The vendors' environment variables (credentials, regions, project id); the unit
# tests pin the list against the contract.
VENDOR_ENV = tuple(var for _key, var in VENDOR_SETTINGS)


def native_stack(stack: Stack, tmp: Path, environment: bool = True) -> Stack:
    """``stack`` with the native plugin first on PATH, this checkout importable, and the
    cloud credentials in the environment (one source the native provider reads them
    from); with ``environment=False``, none of the vendors' variables at all."""
    stack.env["PATH"] = f"{plugin_dir(tmp)}{os.pathsep}{stack.env['PATH']}"
    stack.python_path(REPO)
    for var in VENDOR_ENV:
        stack.env.pop(var, None)
    if not environment:
        return stack
    stack.env.update(
        BAIDUCLOUD_ACCESS_KEY=BCE_AK,
        BAIDUCLOUD_SECRET_KEY=BCE_SK,
        BAIDUCLOUD_REGION="bj",
        HW_ACCESS_KEY=HW_AK,
        HW_SECRET_KEY=HW_SK,
        HW_REGION_NAME="cn-north-4",
        HW_PROJECT_ID=DEFAULT_HW_PROJECT_ID,
    )
    return stack


def release_eips_outside(cloud: Admin, ids: list[str], left: int) -> None:
    """Deletes the EIPs ``ids`` behind Pulumi's back, as an operator would, and waits
    until the emulator holds ``left`` EIPs (deletes are asynchronous)."""
    settings = HuaweiSettings(
        Credentials(HW_AK, HW_SK), "cn-north-4", DEFAULT_HW_PROJECT_ID, cloud.url
    )
    client = EipClient.from_settings(settings)
    try:
        client.batch_delete_publicips(ids)
    finally:
        client.close()
    deadline = time.monotonic() + 10  # PENDING_DELETE first
    while held(cloud)[1] != left and time.monotonic() < deadline:
        time.sleep(0.1)
    assert held(cloud)[1] == left
