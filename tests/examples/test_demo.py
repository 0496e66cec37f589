"""scripts/demo.sh, the main job: a real end-to-end run with the real Pulumi toolchain
that scripts/pulumi-cli.sh provides (skipped with the reason only when that script
fails and BATCHIP_E2E_REQUIRED is not 1), and the script's own behaviour with a
stand-in `pulumi` and without any: what it runs, with which config, that it always
stops what it started, and that it refuses clearly when no toolchain can be had."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_batchip.emulator.bcc import DEFAULT_IPV4_SUBNET
from pulumi_batchip.emulator.eip import IPV4_POOL

from .test_examples import emulator_stack_config

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "scripts" / "demo.sh"
PULUMI_CLI = REPO / "scripts" / "pulumi-cli.sh"
QUICKSTART = REPO / "examples" / "quickstart"
MARKER = "BATCHIP_DEMO_TEST_MARKER"
CREDENTIAL_KEYS = {
    "baiducloud:accessKey",
    "baiducloud:secretKey",
    "huaweicloud:accessKey",
    "huaweicloud:secretKey",
}
CREDENTIALS = ("emulator-bce-ak", "emulator-bce-sk", "emulator-hw-ak", "emulator-hw-sk")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def path_without_pulumi() -> str:
    return os.pathsep.join(
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and not (Path(d) / "pulumi").exists()
    )


def processes_with(marker: str, settle: float = 5.0) -> list[str]:
    """Command lines of live processes whose environment carries ``marker`` (waiting up
    to ``settle`` seconds for ones that are already on their way out)."""
    deadline = time.monotonic() + settle
    while True:
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                environ = (proc / "environ").read_bytes()
                cmdline = (proc / "cmdline").read_bytes()
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            # A zombie has exited; its parent only has not reaped it yet.
            if marker.encode() in environ and stat.rsplit(")", 1)[-1].split()[0] != "Z":
                found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def run_demo(
    env: dict[str, str], timeout: float, cwd: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], str]:
    marker = uuid.uuid4().hex
    # The demo's own knobs and Pulumi's come from the test only.
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BATCHIP_", "PYTHON", "PULUMI_"))
    }
    full_env.update(env)
    full_env[MARKER] = marker
    result = subprocess.run(
        ["bash", str(DEMO)],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return result, marker


IGNORED = {".git", ".venv", ".venv-demo", ".ci-venv", "__pycache__", ".pytest_cache"}
IGNORED |= {".ruff_cache", ".mypy_cache", ".hypothesis"}


def repo_snapshot() -> dict[str, Any]:
    """What the demo could write to: the repository's top-level names, every file of
    examples/ and scripts/ (with size and mtime), and Pulumi's usual leftovers anywhere.
    (Not the whole tree: other work may change other files meanwhile.)"""
    files = {}
    for folder in (REPO / "examples", REPO / "scripts"):
        for p in folder.rglob("*"):
            if not IGNORED & set(p.relative_to(REPO).parts):
                st = p.lstat()
                files[str(p.relative_to(REPO))] = (st.st_size, st.st_mtime_ns)
    leftovers = []
    for pattern in ("Pulumi.*.yaml", "ingress-nginx.conf", ".pulumi"):
        for p in REPO.rglob(pattern):
            if not IGNORED & set(p.relative_to(REPO).parts):
                leftovers.append(str(p.relative_to(REPO)))
    return {
        "top": sorted(p.name for p in REPO.iterdir()),
        "files": files,
        "pulumi_leftovers": sorted(leftovers),
    }


# -- no toolchain ------------------------------------------------------------------------
def test_demo_without_a_toolchain_says_what_is_missing(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result, marker = run_demo(
        {
            "PATH": path_without_pulumi(),
            # No pulumi on PATH and an empty cache; the installer and the Go build
            # are not tried.
            "BATCHIP_PULUMI_ROUTES": "path cache",
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "BATCHIP_DEMO_VENV": str(venv),
            "TMPDIR": str(scratch),
        },
        timeout=60,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    err = result.stderr
    # scripts/pulumi-cli.sh's own account of each route, then the demo's.
    assert "pulumi-cli: no pulumi on PATH" in err
    assert "no complete cached toolchain" in err
    assert "every route failed (path cache)" in err
    assert "needs a Pulumi toolchain" in err
    assert "https://www.pulumi.com/docs/install/" in err
    assert "https://go.dev/dl/" in err
    assert "Nothing was started" in err
    # Nothing about the old ways: no installer fallback of its own, no random plugin.
    assert "random" not in err
    assert ".pulumi-cli" not in result.stdout + err
    # The toolchain is looked for before anything is created or started.
    assert not venv.exists()
    assert list(scratch.iterdir()) == []
    assert processes_with(marker) == []


# -- the script's plumbing, with a stand-in `pulumi` ------------------------------------
FAKE_PULUMI = """\
#!{python}
# A stand-in for the pulumi CLI: logs each call, and checks at `up` what the real
# CLI would rely on (the emulator answering, the Python the demo chose, the backend,
# Pulumi's home); `up` writes the nginx file and `destroy` removes it, as the
# quickstart's ConfigFile does.
import json, os, subprocess, sys, urllib.request

args = sys.argv[1:]
log = os.environ["FAKE_PULUMI_LOG"]
entry = {{"args": args, "cwd": os.getcwd()}}
config_file = os.path.join(os.getcwd(), ".fake-config.json")
config = json.load(open(config_file)) if os.path.exists(config_file) else {{}}
nginx = os.path.join(os.getcwd(), "ingress-nginx.conf")
plain = [a for a in args if a != "--non-interactive"]
if plain[:1] == ["version"]:
    print("v3.999.0-fake")
elif plain[:2] == ["config", "set"]:
    rest = [a for a in plain[2:] if a != "--secret"]
    config[rest[0]] = {{"value": rest[1], "secret": "--secret" in plain}}
    json.dump(config, open(config_file, "w"))
elif plain[:1] == ["up"]:
    url = config["batchip:bccEndpoint"]["value"]
    with urllib.request.urlopen(url + "/_emulator/state", timeout=10) as r:
        entry["emulator_instances"] = sorted(json.load(r)["bcc"]["instances"])
    python = os.environ["PULUMI_PYTHON_CMD"]
    probe = subprocess.run(
        [python, "-c", "import pulumi, pulumi_batchip, sys; print(sys.prefix)"],
        capture_output=True, text=True,
    )
    entry["python_imports"] = probe.returncode == 0
    # The dynamic provider starts as pulumi-resource-pulumi-python starts it.
    provider = subprocess.Popen(
        [python, "-u", "-m", "pulumi.dynamic"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    entry["dynamic_provider_port"] = provider.stdout.readline().decode().strip()
    provider.terminate()
    provider.wait(timeout=10)
    entry["files"] = sorted(os.listdir("."))
    entry["main_py"] = open("__main__.py").read()
    entry["env"] = {{k: os.environ.get(k) for k in (
        "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_PYTHON_CMD", "PULUMI_HOME",
        "PULUMI_SKIP_UPDATE_CHECK", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "PATH")}}
    with open(nginx, "w") as f:
        f.write("upstream app {{ server 192.168.0.5:8080; }}\\n")
elif plain[:2] == ["stack", "export"]:
    leak = os.environ.get("FAKE_PULUMI_PLAIN_SECRETS")
    inputs = {{k: (v["value"] if leak or not v["secret"] else {{"secure": "v1:AbCd"}})
              for k, v in config.items()}}
    print(json.dumps({{"deployment": {{"resources": [{{
        "type": "pulumi:providers:pulumi-python", "inputs": inputs}}]}}}}))
elif plain[:2] == ["stack", "output"]:
    if plain[2:] == ["nginx_conf"]:
        print(nginx)
    else:
        print("Current stack outputs (1):")
        print("    nginx_conf  " + nginx)
elif plain[:1] == ["destroy"]:
    if not os.environ.get("FAKE_PULUMI_KEEP_FILE"):
        os.remove(nginx)
with open(log, "a") as f:
    f.write(json.dumps(entry) + "\\n")
if plain[:1] == ["up"] and os.environ.get("FAKE_PULUMI_FAIL_UP"):
    print("error: update failed", file=sys.stderr)
    sys.exit(7)
"""


def fake_pulumi(tmp_path: Path) -> tuple[Path, Path]:
    """A folder with the stand-in `pulumi` and, for scripts/pulumi-cli.sh to take it,
    a `pulumi-language-python` beside it (never run)."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(FAKE_PULUMI.format(python=sys.executable))
    script.chmod(0o755)
    host = bin_dir / "pulumi-language-python"
    host.write_text("#!/bin/sh\necho 'not a real language host' >&2\nexit 1\n")
    host.chmod(0o755)
    return bin_dir, tmp_path / "pulumi-calls.jsonl"


def fake_env(bin_dir: Path, log: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.pathsep.join([str(bin_dir), path_without_pulumi()]),
        "BATCHIP_PULUMI_ROUTES": "path",
        "FAKE_PULUMI_LOG": str(log),
        "BATCHIP_DEMO_PYTHON": sys.executable,
        **extra,
    }


def calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_demo_plumbing_with_a_stand_in_pulumi(tmp_path: Path) -> None:
    bin_dir, log = fake_pulumi(tmp_path)
    user_home = tmp_path / "user-pulumi-home"
    before = repo_snapshot()
    # BATCHIP_DEMO_PYTHON relative to where the demo is started, which the demo leaves.
    python = os.path.relpath(sys.executable, tmp_path)
    result, marker = run_demo(
        fake_env(
            bin_dir,
            log,
            BATCHIP_DEMO_PYTHON=python,
            BATCHIP_DEMO_STACK="demo-test",
            PULUMI_HOME=str(user_home),
        ),
        timeout=90,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # scripts/pulumi-cli.sh took the stand-in from PATH, and the demo used it.
    assert f"pulumi-cli: using the pulumi on PATH: {bin_dir}/pulumi" in result.stderr
    assert f"pulumi CLI: {bin_dir}/pulumi (v3.999.0-fake)" in result.stdout

    made = [c for c in calls(log) if c["args"] != ["version"]]
    commands = [[a for a in c["args"] if a != "--non-interactive"] for c in made]
    assert all("--non-interactive" in c["args"] for c in made)
    assert commands[0] == ["stack", "init", "demo-test"]
    assert [c[:2] for c in commands[1:10]] == [["config", "set"]] * 9
    assert commands[10:] == [
        ["up", "--yes"],
        ["stack", "export"],
        ["stack", "output"],
        ["stack", "output", "nginx_conf"],
        ["destroy", "--yes"],
        ["stack", "rm", "--yes", "demo-test"],
    ]

    # The stack config is the emulator's, pointing at the emulator that was running,
    # with every credential (not only the secret keys) set as a secret.
    up = made[10]
    work = Path(up["cwd"]).parent
    config: dict[str, dict[str, Any]] = {}
    for c in commands[1:10]:
        rest = [a for a in c[2:] if a != "--secret"]
        config[rest[0]] = {"value": rest[1], "secret": "--secret" in c}
    url = config["batchip:bccEndpoint"]["value"]
    assert url.startswith("http://127.0.0.1:")
    assert {k: v["value"] for k, v in config.items()} == emulator_stack_config(url)
    assert {k for k, v in config.items() if v["secret"]} == CREDENTIAL_KEYS
    assert up["emulator_instances"] == ["i-DhjUXmSA"]

    # The quickstart project, run by the interpreter the demo chose, on a file backend,
    # with a Pulumi home of its own in the scratch folder, the toolchain on PATH.
    assert {"Pulumi.yaml", "__main__.py"} <= set(up["files"])
    assert up["main_py"] == (QUICKSTART / "__main__.py").read_text()
    assert up["python_imports"] is True
    assert up["dynamic_provider_port"].isdigit()
    env = up["env"]
    assert env["PULUMI_BACKEND_URL"] == f"file://{work}/state"
    assert env["PULUMI_HOME"] == f"{work}/pulumi-home"
    assert env["PULUMI_CONFIG_PASSPHRASE"] == ""
    assert env["PULUMI_SKIP_UPDATE_CHECK"] == "true"
    assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert env["PULUMI_PYTHON_CMD"] == f"{work}/bin/python3"
    assert env["PATH"].split(os.pathsep)[:2] == [f"{work}/bin", str(bin_dir)]

    out = result.stdout
    assert f"emulator: {url}" in out
    assert "the state holds no credential in plain text" in out
    assert "upstream app { server 192.168.0.5:8080; }" in out  # the nginx file, shown
    assert "emulator after destroy: 0 secondary IPs, 0 EIPs" in out
    assert "nginx file removed" in out
    assert "emulator stopped" in out

    # Nothing left: no process, no scratch folder, no user state, the repository
    # untouched.
    assert processes_with(marker) == []
    assert not work.exists()
    assert not user_home.exists()
    assert repo_snapshot() == before


def test_demo_stops_the_emulator_when_a_step_fails(tmp_path: Path) -> None:
    bin_dir, log = fake_pulumi(tmp_path)
    result, marker = run_demo(fake_env(bin_dir, log, FAKE_PULUMI_FAIL_UP="1"), timeout=60)
    assert result.returncode == 7, result.stdout + result.stderr
    assert "emulator stopped" in result.stdout
    [up] = [c for c in calls(log) if c["args"][0] == "up"]
    assert not Path(up["cwd"]).exists()
    assert processes_with(marker) == []


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("FAKE_PULUMI_PLAIN_SECRETS", "the state holds credentials in plain text: baiducloud:"),
        ("FAKE_PULUMI_KEEP_FILE", "destroy left the nginx file behind"),
    ],
)
def test_demo_checks_what_it_claims(tmp_path: Path, fault: str, message: str) -> None:
    """The demo checks the state keeps credentials encrypted and destroy removes the
    nginx file: when either is not so, it fails, saying which, and still cleans up."""
    bin_dir, log = fake_pulumi(tmp_path)
    result, marker = run_demo(fake_env(bin_dir, log, **{fault: "1"}), timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert message in result.stderr
    assert "emulator stopped" in result.stdout
    for value in CREDENTIALS:
        assert value not in result.stdout + result.stderr
    [up] = [c for c in calls(log) if c["args"][0] == "up"]
    assert not Path(up["cwd"]).exists()
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
    result, marker = run_demo(fake_env(bin_dir, log, BATCHIP_DEMO_PYTHON=str(bare)), timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot import pulumi, pulumi_batchip.emulator" in result.stderr
    assert [c["args"] for c in calls(log)] == [["version"], ["version"]]
    assert processes_with(marker) == []


# -- the real thing ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def pulumi_toolchain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The directory scripts/pulumi-cli.sh prints, as the demo will get it. Where the
    script fails the real run skips with its reason, unless BATCHIP_E2E_REQUIRED=1."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATCHIP_", "PULUMI_"))}
    # Even `pulumi version` writes a log into Pulumi's home: not the user's.
    env["PULUMI_HOME"] = str(tmp_path_factory.mktemp("pulumi-home"))
    result = subprocess.run(
        ["bash", str(PULUMI_CLI)],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        stdin=subprocess.DEVNULL,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        reason = f"scripts/pulumi-cli.sh failed (exit {result.returncode}): {result.stderr[-2000:]}"
        if os.environ.get("BATCHIP_E2E_REQUIRED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    yield Path(lines[-1])


def shown_list(output: str, name: str) -> list[str]:
    """A list output as `pulumi stack output` shows it: `name  ["a","b"]`."""
    match = re.search(rf"^\s+{name}\s+(\[.*\])\s*$", output, re.MULTILINE)
    assert match, f"no {name} in:\n{output}"
    return list(json.loads(match.group(1)))


@pytest.mark.slow
@pytest.mark.timeout(4000)  # a fresh machine may build the toolchain first (~10 min)
def test_demo_end_to_end_with_the_real_pulumi_cli(pulumi_toolchain: Path, tmp_path: Path) -> None:
    user_home = tmp_path / "user-pulumi-home"
    before = repo_snapshot()
    demo_venv_existed = (REPO / ".venv-demo").exists()
    started = time.monotonic()
    # The test venv holds the requirements: no .venv-demo to build.
    result, marker = run_demo(
        {"BATCHIP_DEMO_PYTHON": sys.executable, "PULUMI_HOME": str(user_home)}, timeout=1800
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    print(f"demo ran in {elapsed:.1f} s", file=sys.stderr)
    assert result.returncode == 0, output
    out = result.stdout
    assert f"pulumi CLI: {pulumi_toolchain}/pulumi" in out

    # `pulumi up` created everything in the emulator, `pulumi stack output` shows the
    # emulator's addresses, and the nginx file the stack wrote lists the same ones.
    assert "emulator after up: 2 secondary IPs, 3 EIPs" in out
    stack_output = out.split("==> pulumi stack output", 1)[1]
    private_ips = shown_list(stack_output, "private_ips")
    public_ips = shown_list(stack_output, "public_ips")
    eip_ids = shown_list(stack_output, "eip_ids")
    bandwidth_ids = shown_list(stack_output, "bandwidth_ids")
    assert len(private_ips) == 2
    assert all(
        ipaddress.ip_address(ip) in ipaddress.ip_network(DEFAULT_IPV4_SUBNET) for ip in private_ips
    )
    assert len(public_ips) == 3
    assert all(ipaddress.ip_address(ip) in IPV4_POOL for ip in public_ips)
    assert len(set(eip_ids)) == 3
    assert len(set(bandwidth_ids)) == 3  # dedicated (PER) bandwidths
    nginx = out.split("==> the nginx file the stack wrote", 1)[1].split("==> pulumi destroy")[0]
    for ip in private_ips:
        assert f"server {ip}:8080;" in nginx
    for ip in public_ips:
        assert f"    {ip} 1;" in nginx

    # Every credential was a secret: neither the state nor the output shows one.
    assert "the state holds no credential in plain text" in out
    for value in CREDENTIALS:
        assert value not in output, value

    # `pulumi destroy` emptied the emulator and removed the file; then all was stopped.
    assert "emulator after destroy: 0 secondary IPs, 0 EIPs" in out
    assert "nginx file removed" in out
    assert "Stack 'demo' has been removed!" in out
    assert "emulator stopped" in out
    assert processes_with(marker) == []
    # Nothing written outside the demo's scratch folder: not the user's Pulumi home, not
    # the repository (not even .venv-demo, since BATCHIP_DEMO_PYTHON was given).
    assert not user_home.exists()
    assert repo_snapshot() == before
    assert (REPO / ".venv-demo").exists() == demo_venv_existed
