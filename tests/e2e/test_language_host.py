"""Our Python language host (tools/pulumi-cli/pulumi-language-python) against what
Pulumi's own host does for a Python-program user, one test per behaviour, through the
real CLI: a stack with no config, a virtualenv made by `pulumi up`, runtime options,
`pulumi about`, a typechecker, a Python policy pack, and the lifetime of every process
after a `kill -9` of `pulumi`."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ..conftest import Admin
from .conftest import (
    HW_AK,
    HW_SK,
    REPO,
    Stack,
    held,
    session_members,
)

EIPS = """
import pulumi
import pulumi_batchip as batchip

edge = batchip.EipBatch("edge", count=2, bandwidth={"size": 5, "share_type": "PER"})
pulumi.export("eip_ids", edge.eip_ids)
"""


def environment_credentials(stack: Stack) -> None:
    """Credentials, region, project and endpoint from the environment only (the
    README allows it): the stack has no config at all."""
    from pulumi_batchip.emulator import DEFAULT_HW_PROJECT_ID

    stack.env.update(
        {
            "HW_ACCESS_KEY": HW_AK,
            "HW_SECRET_KEY": HW_SK,
            "HW_REGION_NAME": "cn-north-4",
            "HW_PROJECT_ID": DEFAULT_HW_PROJECT_ID,
            "BATCHIP_EIP_ENDPOINT": stack.emulator_url,
        }
    )


def write_project(stack: Stack, options: str, program: str = EIPS) -> None:
    (stack.dir / "Pulumi.yaml").write_text(
        "name: batchip-langhost\nruntime:\n  name: python\n  options:\n"
        + textwrap.indent(textwrap.dedent(options).strip() + "\n", "    ")
    )
    (stack.dir / "__main__.py").write_text(textwrap.dedent(program))


def test_a_stack_with_no_config_runs_every_command(stack: Stack, cloud: Admin) -> None:
    """No `pulumi config set` at all: the host used to send PULUMI_CONFIG=null and the
    SDK crashed before the program ran."""
    environment_credentials(stack)
    stack.write_program(EIPS)
    stack.run("stack", "init", stack.name)
    settings = stack.dir / f"Pulumi.{stack.name}.yaml"
    assert "config" not in (settings.read_text() if settings.exists() else "")
    up = stack.up()
    assert held(cloud) == (0, 2)
    assert len(stack.outputs()["eip_ids"]) == 2
    preview = stack.preview("--expect-no-changes")
    assert "AttributeError" not in preview.stdout + preview.stderr
    # The engine closes the host with SIGINT after every command: not news to a user.
    for result in (up, preview):
        assert "pulumi-language-python: stopping" not in result.stdout + result.stderr
    stack.refresh("--run-program")
    stack.destroy("--run-program")
    assert held(cloud) == (0, 0)


def test_pulumi_up_creates_the_virtualenv_pulumi_yaml_names(stack: Stack, cloud: Admin) -> None:
    """`virtualenv: venv` that does not exist yet: `pulumi up` makes it, installs
    requirements.txt (this package, from this clone) into it, and runs the program and
    our dynamic provider with it."""
    environment_credentials(stack)
    # PULUMI_PYTHON_CMD (this interpreter) only makes the venv; the venv's Python runs
    # the program and the provider.
    write_project(stack, "toolchain: pip\nvirtualenv: venv")
    (stack.dir / "requirements.txt").write_text(
        f"pulumi==3.260.0\npulumi-batchip @ {REPO.as_uri()}\n"
    )
    stack.run("stack", "init", stack.name)
    result = stack.run("up", "--yes", "--skip-preview", timeout=900)
    venv_python = stack.dir / "venv" / "bin" / "python"
    assert venv_python.exists(), result.stdout
    assert held(cloud) == (0, 2)
    # The program ran in the new venv: `pulumi about` names its Python.
    about = json.loads(stack.run("about", "--json").stdout)
    assert about["runtime"]["executable"] == str(venv_python)
    names = {d["name"] for d in about["dependencies"]}
    assert "pulumi-batchip" in names or "pulumi_batchip" in names
    stack.destroy()
    assert held(cloud) == (0, 0)


def test_a_virtualenv_that_is_not_one_is_a_how_to_error(stack: Stack, cloud: Admin) -> None:
    environment_credentials(stack)
    write_project(stack, "toolchain: pip\nvirtualenv: notavenv")
    (stack.dir / "notavenv").mkdir()
    (stack.dir / "notavenv" / "README").write_text("not a virtualenv\n")
    stack.run("stack", "init", stack.name)
    result = stack.up(check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "doesn't appear to be a virtual environment" in out, out
    assert "-m venv" in out and "pip install -r requirements.txt" in out
    assert "fork/exec" not in out
    assert held(cloud) == (0, 0)


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ("typechecker: pylint", 'unsupported typechecker option "pylint"'),
        ("toolchain: conda", 'unsupported toolchain option "conda"'),
        ("virtualenv: 3", "the 'virtualenv' option in Pulumi.yaml must be a string"),
        ("typechecker: [mypy]", "the 'typechecker' option in Pulumi.yaml must be a string"),
    ],
)
def test_bad_runtime_options_are_errors_up_front(
    stack: Stack, cloud: Admin, options: str, says: str
) -> None:
    environment_credentials(stack)
    write_project(stack, options)
    stack.run("stack", "init", stack.name)
    result = stack.up(check=False)
    assert result.returncode != 0
    assert says in result.stdout + result.stderr, result.stdout + result.stderr
    assert cloud.requests() == []


def test_mypy_typechecker_stops_a_program_with_a_type_error(stack: Stack, cloud: Admin) -> None:
    environment_credentials(stack)
    write_project(
        stack,
        "toolchain: pip\ntypechecker: mypy",
        EIPS + '\nwrong: int = "two"\n',
    )
    stack.run("stack", "init", stack.name)
    result = stack.up(check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Incompatible types in assignment" in out, out
    assert "mypy found errors in the program" in out
    assert cloud.requests() == []  # the program never ran
    # Fixed, the same stack type-checks and deploys.
    (stack.dir / "__main__.py").write_text(textwrap.dedent(EIPS))
    stack.up()
    assert held(cloud) == (0, 2)
    stack.destroy()


def test_pulumi_about_shows_the_runtime_and_the_dependencies(stack: Stack, cloud: Admin) -> None:
    environment_credentials(stack)
    stack.write_program(EIPS)
    stack.run("stack", "init", stack.name)
    plain = stack.run("about")
    assert "not implemented" not in (plain.stdout + plain.stderr).lower()
    assert "Unimplemented" not in plain.stdout + plain.stderr
    about = json.loads(stack.run("about", "--json").stdout)
    assert about["runtime"]["language"] == "python"
    assert about["runtime"]["executable"] == sys.executable
    major, minor = sys.version_info[:2]
    assert about["runtime"]["version"].startswith(f"{major}.{minor}.")
    names = {d["name"].replace("_", "-") for d in about["dependencies"]}
    assert {"pulumi-batchip"} <= names
    # Every update records the runtime it ran with.
    stack.up()
    history = json.loads(stack.run("stack", "history", "--json").stdout)
    environment = history[0]["environment"]
    assert environment["runtime.name"] == "python"
    assert environment["runtime.executable"] == sys.executable
    assert environment["runtime.metadata.toolchain"] == "pip"
    stack.destroy()


POLICY = """
from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)


def at_most_100_eips(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    count = args.props.get("count")
    if isinstance(count, (int, float)) and count > 100:
        report_violation(f"an EipBatch may hold at most 100 EIPs here, not {int(count)}")


PolicyPack(
    name="batchip-limits",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="eip-batch-size",
            description="EipBatch counts stay at or under 100.",
            validate=at_most_100_eips,
        )
    ],
)
"""


def test_a_python_policy_pack_blocks_an_oversized_batch(
    stack: Stack, cloud: Admin, tmp_path: Path
) -> None:
    environment_credentials(stack)
    policy = tmp_path / "policy"
    policy.mkdir()
    (policy / "PulumiPolicy.yaml").write_text(
        "runtime:\n  name: python\n  options:\n"
        f"    toolchain: pip\n    virtualenv: {Path(sys.prefix)}\n"
        "version: 0.1.0\n"
    )
    (policy / "__main__.py").write_text(POLICY)
    stack.write_program(EIPS.replace("count=2", "count=150"))
    stack.run("stack", "init", stack.name)
    result = stack.up("--policy-pack", str(policy), check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "eip-batch-size" in out and "at most 100 EIPs here, not 150" in out, out
    assert held(cloud) == (0, 0)
    assert not [r for r in cloud.requests() if r["operation"] == "BatchCreatePublicips"]
    # Within the limit, the same pack lets it through.
    stack.write_program(EIPS)
    stack.up("--policy-pack", str(policy))
    assert held(cloud) == (0, 2)
    stack.destroy()


SLEEPING = (
    EIPS
    + """
import time

# Keep the program (and so the update) running once the batch exists.
edge.eip_ids.apply(lambda _: time.sleep(600))
"""
)


def up_until_the_program_sleeps(stack: Stack, cloud: Admin) -> subprocess.Popen[str]:
    """`pulumi up` in the background, once its 2 EIPs exist and the engine has their
    create's answer (the program then sleeps in an apply)."""
    running = stack.popen("up", "--yes", "--skip-preview")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and held(cloud)[1] < 2:
        time.sleep(0.1)
    assert held(cloud)[1] == 2, "the batch was never created"
    time.sleep(2)
    return running


def command_line(pid: int) -> str:
    with contextlib.suppress(OSError):
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def test_after_kill_9_of_pulumi_no_process_of_ours_lives_on(stack: Stack, cloud: Admin) -> None:
    """Only `pulumi` is killed, as a crash would: its language host, the program and
    our dynamic provider must notice the engine is gone and end by themselves."""
    environment_credentials(stack)
    stack.env["BATCHIP_ENGINE_CHECK_SECONDS"] = "1"
    stack.write_program(SLEEPING)
    stack.run("stack", "init", stack.name)
    running = up_until_the_program_sleeps(stack, cloud)
    os.kill(running.pid, signal.SIGKILL)
    running.wait(timeout=30)
    killed_at = time.monotonic()
    left = {pid: command_line(pid) for pid in session_members(running.pid)}
    commands = " | ".join(left.values())
    # What used to live on for good: the host, the program, the provider server.
    assert "pulumi-language-python" in commands, commands
    assert "pulumi-language-python-exec" in commands, commands
    assert "pulumi.dynamic" in commands, commands
    # The host and the provider each ask every second; the idle provider ends at once.
    while session_members(running.pid) and time.monotonic() - killed_at < 20:
        time.sleep(0.2)
    took = time.monotonic() - killed_at
    print(f"every process of the killed update ended {took:.1f} s after the kill")
    survivors = {pid: command_line(pid) for pid in session_members(running.pid)}
    for pid in survivors:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not survivors, f"alive 20 s after the kill: {survivors}"
    if running.stdout is not None:
        running.stdout.close()
    # Clean up: the killed update left the backend's lock; the batch is in state.
    for lock in (stack.state_dir / ".pulumi" / "locks").rglob("*.json"):
        lock.unlink()
    stack.destroy()
    cloud.reset()


def test_pulumi_install_streams_a_line_of_any_length(stack: Stack, tmp_path: Path) -> None:
    """A pip output line over 64 KiB used to hang `pulumi install` (a line scanner's
    limit): pip rejects this requirement and prints it back whole."""
    write_project(stack, "toolchain: pip\nvirtualenv: venv")
    junk = "x" * 70_000
    (stack.dir / "requirements.txt").write_text(f"{junk}==1=2\n")
    result = stack.run("install", check=False, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert junk in out, out[-2000:]


def test_installed_pulumi_packages_are_reported_as_plugins(stack: Stack) -> None:
    """`pulumi plugin install` with no arguments installs what the language host
    reports: the test venv's provider SDKs (cloudflare, huaweicloud) name their plugins;
    pulumi-batchip (its pulumi-plugin.json says no plugin) and pulumi-policy do not."""
    stack.write_program(EIPS)
    result = stack.run("plugin", "install", check=False, timeout=300)
    out = result.stdout + result.stderr
    assert "cloudflare" in out and "huaweicloud" in out, out
    assert "batchip" not in out.replace("batchip-e2e", ""), out
    assert "resource policy" not in out, out


INTERRUPTIBLE = (
    EIPS
    + """
import os
import signal
import time

def interrupted(signum, frame):
    with open("got-sigint", "w") as marker:
        marker.write(str(signum))
    os._exit(3)

signal.signal(signal.SIGINT, interrupted)
edge.eip_ids.apply(lambda _: time.sleep(600))
"""
)


def test_ctrl_c_reaches_the_program_through_cancel(stack: Stack, cloud: Admin) -> None:
    """A SIGINT to `pulumi` (Ctrl-C) makes the engine cancel its plugins; the host's
    Cancel passes SIGINT on to the program, and the update ends."""
    environment_credentials(stack)
    stack.write_program(INTERRUPTIBLE)
    stack.run("stack", "init", stack.name)
    running = up_until_the_program_sleeps(stack, cloud)
    os.kill(running.pid, signal.SIGINT)
    printed, _ = running.communicate(timeout=60)
    assert running.returncode != 0, printed
    assert (stack.dir / "got-sigint").read_text() == str(int(signal.SIGINT)), printed
    stack.destroy()
    assert held(cloud) == (0, 0)


def test_attach_debugger_is_refused_with_what_to_do(stack: Stack, cloud: Admin) -> None:
    environment_credentials(stack)
    stack.write_program(EIPS)
    stack.run("stack", "init", stack.name)
    result = stack.up("--attach-debugger", check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "--attach-debugger is not supported by this Python language host" in out, out
    assert "run without --attach-debugger" in out
    assert held(cloud) == (0, 0)
