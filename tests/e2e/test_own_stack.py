"""The README's "Your own stack" section, run as printed: its file blocks written into
an empty folder outside the repository, then its bash block run there with the real
`pulumi` CLI (the `pulumi install` in it makes a fresh venv and pip-installs the
package from this clone, dependencies from the package index).

Only two things in the README text are replaced, because they must differ here:

- ``/path/to/pulumi-batchip`` (the clone's path) by this clone's path;
- ``8700`` (the emulator's port) by a port free on this machine.

The test gives the commands what a user's machine has: the Pulumi toolchain first on
``PATH`` (``pulumi_bin``), a private ``PULUMI_HOME`` in the temporary folder, no
``PULUMI_*``/``BATCHIP_*``/cloud variables or ``PYTHONPATH`` of the test run, no update
check and no plugin download. The README's own ``kill %1`` must stop the emulator:
whatever is still running afterwards fails the test (and is killed).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import CREDENTIALS, REPO, session_members

HEADING = "## Your own stack"
CLONE_PLACEHOLDER = "/path/to/pulumi-batchip"
PORT_PLACEHOLDER = "8700"
FILES = ["Pulumi.yaml", "__main__.py", "requirements.txt"]
IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


def section() -> str:
    text = (REPO / "README.md").read_text()
    assert HEADING in text, f"README.md has no {HEADING!r} section"
    return text.split(f"\n{HEADING}\n", 1)[1].split("\n## ", 1)[0]


def readme_blocks() -> tuple[dict[str, str], str]:
    """(file name -> content) of the blocks that start with a comment naming a file,
    and the one bash block."""
    files: dict[str, str] = {}
    commands: list[str] = []
    for lang, body in re.findall(r"```(\w*)\n(.*?)```", section(), flags=re.S):
        if lang == "bash":
            commands.append(body)
            continue
        match = re.match(r"# ([\w.]+)\n", body)
        assert match, f"a {lang} block names no file in its first line: {body[:80]!r}"
        files[match.group(1)] = body
    assert len(commands) == 1, commands
    return files, commands[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_section_shows_three_files_and_the_commands() -> None:
    files, commands = readme_blocks()
    assert sorted(files) == FILES
    assert f"@ file://{CLONE_PLACEHOLDER}" in files["requirements.txt"]
    assert "virtualenv: venv" in files["Pulumi.yaml"]
    assert "SecondaryIpSet(" in files["__main__.py"] and "EipBatch(" in files["__main__.py"]
    assert commands.count(PORT_PLACEHOLDER) >= 3  # the emulator's port and two endpoints
    for needed in (
        "PULUMI_BACKEND_URL=",
        "PULUMI_CONFIG_PASSPHRASE=",
        "pulumi install",
        "-m pulumi_batchip.emulator",
        "pulumi up",
        "pulumi stack output",
        "pulumi destroy",
        "kill %1",
    ):
        assert needed in commands, needed


@pytest.mark.timeout(420)
def test_own_stack_from_an_empty_folder(tmp_path: Path, pulumi_bin: Path) -> None:
    files, commands = readme_blocks()
    port = free_port()
    project = tmp_path / "my-stack"
    project.mkdir()
    for name, content in files.items():
        (project / name).write_text(content.replace(CLONE_PLACEHOLDER, str(REPO)))
    script = commands.replace(PORT_PLACEHOLDER, str(port))
    dropped = ("PULUMI_", "BATCHIP_", "BAIDUCLOUD_", "HW_")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(dropped)},
        "PATH": f"{pulumi_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "NO_COLOR": "1",
    }
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(name, None)
    before = {p.name for p in REPO.iterdir()}

    log = tmp_path / "run.log"
    started = time.monotonic()
    with log.open("w") as out:
        run = subprocess.Popen(
            # -x: each command is echoed into the log before it runs.
            ["bash", "-c", "set -euxo pipefail\n" + script],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            status = run.wait(timeout=360)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            status = run.wait()
        # The README's `kill %1` stopped the emulator (SIGTERM): give it and anything
        # the CLI started a moment to end, then kill and report what is left.
        deadline = time.monotonic() + 15
        while (left := session_members(run.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    elapsed = time.monotonic() - started
    output = log.read_text()
    print(f"\nthe README's commands took {elapsed:.1f} s")
    assert status == 0, f"exit {status} after {elapsed:.0f} s\n{output[-6000:]}"
    assert not left, f"still running after the README's commands: {left}\n{output[-3000:]}"

    # The emulator printed its URL, served the stack, and stopped on `kill %1`.
    assert f"http://127.0.0.1:{port}\n" in output
    assert "emulator: stopped" in output, output[-3000:]
    # `pulumi up` created the stack and both resources; `pulumi destroy` deleted them.
    assert re.search(r"\+ 3 created", output), output[-6000:]
    assert re.search(r"- 3 deleted", output), output[-6000:]
    # `pulumi stack output`: the emulator's addresses, 2 private (on the VM's subnet
    # 192.168.0.0/24) and 3 public.
    printed = output.split("+ pulumi stack output\n", 1)[-1].split("+ pulumi destroy", 1)[0]
    shown = dict(re.findall(r"^\s+(private_ips|public_ips)\s+(.*)$", printed, flags=re.M))
    private = IPV4.findall(shown.get("private_ips", ""))
    public = IPV4.findall(shown.get("public_ips", ""))
    assert len(private) == 2 and all(ip.startswith("192.168.0.") for ip in private), shown
    assert len(public) == 3, shown
    # The keys, all set with --secret, are in the state (its backups outlive
    # `pulumi stack rm`) only encrypted.
    stored = "\n".join(p.read_text() for p in (project / "state").rglob("*.json"))
    assert "ciphertext" in stored
    assert not [key for key in CREDENTIALS if key in stored]
    # Gone again: the stack was removed (its settings file with it).
    assert not (project / "Pulumi.dev.yaml").exists()

    # Nothing was written into the clone (pip builds the package from it).
    after = {p.name for p in REPO.iterdir()}
    assert not {n for n in after - before if n in ("build", "dist") or n.endswith(".egg-info")}
