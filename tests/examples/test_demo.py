"""scripts/demo.sh, the main job: a real end-to-end run when a `pulumi` binary is on
PATH (skipped with the reason otherwise), and the script's own behaviour with a stand-in
`pulumi` and without any: what it runs, with which config, and that it always stops
what it started and refuses clearly when the CLI cannot be had."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from .test_examples import emulator_stack_config

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "scripts" / "demo.sh"
QUICKSTART = REPO / "examples" / "quickstart"
MARKER = "BATCHIP_DEMO_TEST_MARKER"
SECRET_KEYS = {"baiducloud:secretKey", "huaweicloud:secretKey"}


def path_without_pulumi() -> str:
    return os.pathsep.join(
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and not (Path(d) / "pulumi").exists()
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def processes_with(marker: str) -> list[str]:
    """Command lines of live processes whose environment carries ``marker``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ:
            found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def run_demo(env: dict[str, str], timeout: float) -> tuple[subprocess.CompletedProcess[str], str]:
    marker = uuid.uuid4().hex
    # The demo's own knobs come from the test only (PULUMI_HOME and the like are kept).
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BATCHIP_", "PYTHON")) and k != "PULUMI_INSTALL_URL"
    }
    full_env.update(env)
    full_env[MARKER] = marker
    result = subprocess.run(
        ["bash", str(DEMO)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return result, marker


def quickstart_files() -> list[str]:
    return sorted(str(p.relative_to(QUICKSTART)) for p in QUICKSTART.rglob("*"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_demo_without_pulumi_and_no_download_says_what_is_missing(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    cli_root = tmp_path / "cli"
    url = f"http://127.0.0.1:{closed_port()}/install.sh"
    result, marker = run_demo(
        {
            "PATH": path_without_pulumi(),
            "PULUMI_INSTALL_URL": url,
            "BATCHIP_PULUMI_CLI_ROOT": str(cli_root),
            "BATCHIP_DEMO_VENV": str(venv),
        },
        timeout=60,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    err = result.stderr
    assert "needs the Pulumi CLI" in err
    assert f"could not download Pulumi's installer from {url}" in err
    assert "https://get.pulumi.com" in err  # how to get it
    assert "https://github.com/pulumi/pulumi/releases" in err
    assert "plugin install resource random" in err  # and the plugin it needs next
    assert "Nothing was started" in err
    # The CLI is looked for before anything is created or started.
    assert not venv.exists()
    assert sorted(p.name for p in cli_root.iterdir()) == [".gitignore"]
    assert processes_with(marker) == []


# -- the script's plumbing, with a stand-in `pulumi` ------------------------------------
FAKE_PULUMI = """\
#!{python}
# A stand-in for the pulumi CLI: logs each call, and checks at `up` what the real
# CLI would rely on (the emulator answering, the Python on PATH, the backend).
import importlib.metadata, json, os, shutil, subprocess, sys, urllib.request

args = sys.argv[1:]
log = os.environ["FAKE_PULUMI_LOG"]
entry = {{"args": args, "cwd": os.getcwd()}}
config_file = os.path.join(os.getcwd(), ".fake-config.json")
config = json.load(open(config_file)) if os.path.exists(config_file) else {{}}
plain = [a for a in args if a != "--non-interactive"]
if plain[:1] == ["version"]:
    print("v3.999.0-fake")
elif plain[:2] == ["plugin", "ls"]:
    if os.environ.get("FAKE_PULUMI_NO_PLUGIN"):
        print("[]")
    else:
        version = importlib.metadata.version("pulumi-random")
        print(json.dumps([{{"name": "random", "kind": "resource", "version": version}}]))
elif plain[:2] == ["plugin", "install"]:
    if os.environ.get("FAKE_PULUMI_NO_PLUGIN"):
        print("error: could not download plugin", file=sys.stderr)
        sys.exit(1)
elif plain[:2] == ["config", "set"]:
    rest = [a for a in plain[2:] if a != "--secret"]
    config[rest[0]] = {{"value": rest[1], "secret": "--secret" in plain}}
    json.dump(config, open(config_file, "w"))
elif plain[:1] == ["up"]:
    url = config["batchip:bccEndpoint"]["value"]
    with urllib.request.urlopen(url + "/_emulator/state", timeout=10) as r:
        entry["emulator_instances"] = sorted(json.load(r)["bcc"]["instances"])
    python3 = shutil.which("python3")
    probe = subprocess.run(
        [python3, "-c", "import pulumi_batchip, pulumi_random, sys; print(sys.prefix)"],
        capture_output=True, text=True,
    )
    entry["python3"] = python3
    entry["python3_imports"] = probe.returncode == 0
    # The dynamic provider starts as the CLI starts it: `python3 -u -m pulumi.dynamic`.
    provider = subprocess.Popen(
        [python3, "-u", "-m", "pulumi.dynamic"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    entry["dynamic_provider_port"] = provider.stdout.readline().decode().strip()
    provider.terminate()
    provider.wait(timeout=10)
    entry["files"] = sorted(os.listdir("."))
    entry["main_py"] = open("__main__.py").read()
    entry["env"] = {{k: os.environ.get(k) for k in (
        "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_PYTHON_CMD")}}
elif plain[:2] == ["stack", "output"]:
    print("Current stack outputs (0):")
with open(log, "a") as f:
    f.write(json.dumps(entry) + "\\n")
if plain[:1] == ["up"] and os.environ.get("FAKE_PULUMI_FAIL_UP"):
    print("error: update failed", file=sys.stderr)
    sys.exit(7)
"""


def fake_pulumi(tmp_path: Path) -> tuple[Path, Path]:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(FAKE_PULUMI.format(python=sys.executable))
    script.chmod(0o755)
    return bin_dir, tmp_path / "pulumi-calls.jsonl"


def calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_demo_plumbing_with_a_stand_in_pulumi(tmp_path: Path) -> None:
    bin_dir, log = fake_pulumi(tmp_path)
    before = quickstart_files()
    result, marker = run_demo(
        {
            "PATH": os.pathsep.join([str(bin_dir), path_without_pulumi()]),
            "FAKE_PULUMI_LOG": str(log),
            "BATCHIP_DEMO_PYTHON": sys.executable,
            "BATCHIP_DEMO_STACK": "demo-test",
        },
        timeout=90,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    made = calls(log)
    commands = [[a for a in c["args"] if a != "--non-interactive"] for c in made]
    assert all("--non-interactive" in c["args"] for c in made[2:])
    assert commands[:3] == [["version"], ["plugin", "ls", "--json"], ["stack", "init", "demo-test"]]
    assert [c[:2] for c in commands[3:12]] == [["config", "set"]] * 9
    assert commands[12:] == [
        ["up", "--yes"],
        ["stack", "output"],
        ["destroy", "--yes"],
        ["stack", "rm", "--yes", "demo-test"],
    ]

    # The stack config is the emulator's, pointing at the emulator that was running.
    up = made[12]
    work = Path(up["cwd"])
    config: dict[str, dict[str, Any]] = {}
    for c in commands[3:12]:
        rest = [a for a in c[2:] if a != "--secret"]
        config[rest[0]] = {"value": rest[1], "secret": "--secret" in c}
    url = config["batchip:bccEndpoint"]["value"]
    assert url.startswith("http://127.0.0.1:")
    assert {k: v["value"] for k, v in config.items()} == emulator_stack_config(url)
    assert {k for k, v in config.items() if v["secret"]} == SECRET_KEYS
    assert up["emulator_instances"] == ["i-DhjUXmSA"]

    # The quickstart project, run by the interpreter the demo chose, on a file backend.
    assert {"Pulumi.yaml", "__main__.py"} <= set(up["files"])
    assert up["main_py"] == (QUICKSTART / "__main__.py").read_text()
    assert up["python3_imports"] is True
    assert up["dynamic_provider_port"].isdigit()
    assert up["env"]["PULUMI_BACKEND_URL"].startswith("file://")
    assert up["env"]["PULUMI_CONFIG_PASSPHRASE"] == ""
    assert up["env"]["PULUMI_PYTHON_CMD"]

    out = result.stdout
    assert f"emulator: {url}" in out
    assert "emulator after destroy: 0 secondary IPs, 0 EIPs" in out
    assert "emulator stopped" in out

    # Nothing left: no process, no scratch folder, the repository untouched.
    assert processes_with(marker) == []
    assert not work.exists()
    assert not Path(up["env"]["PULUMI_BACKEND_URL"].removeprefix("file://")).exists()
    assert quickstart_files() == before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_demo_fetches_the_cli_with_the_installer_when_none_is_on_path(tmp_path: Path) -> None:
    """Pulumi's installer contract: `sh install.sh --install-root ROOT --no-edit-path`
    leaves ROOT/bin/pulumi. A stand-in installer served locally plays get.pulumi.com."""
    bin_dir, log = fake_pulumi(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    (site / "install.sh").write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            set -e
            [ "$1" = --install-root ] && [ "$3" = --no-edit-path ] || exit 9
            mkdir -p "$2/bin"
            cp {bin_dir / "pulumi"} "$2/bin/pulumi"
            """
        )
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cli_root = tmp_path / "cli"
    try:
        result, marker = run_demo(
            {
                "PATH": path_without_pulumi(),
                "PULUMI_INSTALL_URL": f"http://127.0.0.1:{server.server_port}/install.sh",
                "BATCHIP_PULUMI_CLI_ROOT": str(cli_root),
                "FAKE_PULUMI_LOG": str(log),
                "BATCHIP_DEMO_PYTHON": sys.executable,
            },
            timeout=90,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"pulumi CLI: {cli_root}/bin/pulumi" in result.stdout
    assert (cli_root / ".gitignore").read_text() == "*\n"
    assert ["up", "--yes", "--non-interactive"] in [c["args"] for c in calls(log)]
    assert processes_with(marker) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_demo_stops_the_emulator_when_a_step_fails(tmp_path: Path) -> None:
    bin_dir, log = fake_pulumi(tmp_path)
    result, marker = run_demo(
        {
            "PATH": os.pathsep.join([str(bin_dir), path_without_pulumi()]),
            "FAKE_PULUMI_LOG": str(log),
            "FAKE_PULUMI_FAIL_UP": "1",
            "BATCHIP_DEMO_PYTHON": sys.executable,
        },
        timeout=60,
    )
    assert result.returncode == 7, result.stdout + result.stderr
    assert "emulator stopped" in result.stdout
    [up] = [c for c in calls(log) if c["args"][0] == "up"]
    assert not Path(up["cwd"]).exists()
    assert processes_with(marker) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_demo_without_the_random_plugin_says_so(tmp_path: Path) -> None:
    bin_dir, log = fake_pulumi(tmp_path)
    result, marker = run_demo(
        {
            "PATH": os.pathsep.join([str(bin_dir), path_without_pulumi()]),
            "FAKE_PULUMI_LOG": str(log),
            "FAKE_PULUMI_NO_PLUGIN": "1",
            "BATCHIP_DEMO_PYTHON": sys.executable,
        },
        timeout=60,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "needs Pulumi's `random` resource plugin" in result.stderr
    assert "--file pulumi-resource-random-v" in result.stderr
    commands = [c["args"][:2] for c in calls(log)]
    assert ["up", "--yes"] not in commands
    assert processes_with(marker) == []


def test_demo_python_without_requirements_is_refused(tmp_path: Path) -> None:
    bin_dir, log = fake_pulumi(tmp_path)
    bare = tmp_path / "bare-python"
    bare.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            exec {sys.executable} -I -S "$@"
            """
        )
    )
    bare.chmod(0o755)
    result, _ = run_demo(
        {
            "PATH": os.pathsep.join([str(bin_dir), path_without_pulumi()]),
            "FAKE_PULUMI_LOG": str(log),
            "BATCHIP_DEMO_PYTHON": str(bare),
        },
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot import pulumi_batchip.emulator" in result.stderr


# -- the real thing ---------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_demo_end_to_end_with_the_pulumi_cli(tmp_path: Path) -> None:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        reason = (
            "no `pulumi` CLI on PATH: the real `pulumi up`/`destroy` of the quickstart "
            "(scripts/demo.sh) cannot run here; install the CLI to run it"
        )
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    before = quickstart_files()
    # A venv of its own, as on a fresh machine: this one holds pulumi-cloudflare and
    # pulumi-huaweicloud too, whose plugins `pulumi up` would want as well.
    result, marker = run_demo({"BATCHIP_DEMO_VENV": str(tmp_path / "venv")}, timeout=1100)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "emulator after up: 2 secondary IPs, 3 EIPs" in result.stdout
    assert "emulator after destroy: 0 secondary IPs, 0 EIPs" in result.stdout
    for name in ("private_ips", "public_ips", "eip_ids", "ingress_ip", "deployment_name"):
        assert name in result.stdout
    assert "emulator-bce-sk" not in output and "emulator-hw-sk" not in output
    assert processes_with(marker) == []
    assert quickstart_files() == before
