"""Two stacks, each with a ``SecondaryIpSet`` of ``count=2`` on the same VM, through the
native plugin: stack A's ``batchAddIp`` gets no definite answer (HTTP 500 on all 8
attempts; the call did not act) while stack B adds its own two addresses.

README ("Another writer on the same NIC"): A never takes B's addresses for its own.
It once did: after its unanswered add it read the NIC, saw exactly 2 new addresses
(B's) and removed them (attack review). Now it asks again with its clientToken, and
the answer names what is A's.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..conftest import Admin
from .conftest import Stack, native_stack

PROGRAM = """
import pulumi

app = pulumi.CustomResource(
    "batchip:index:SecondaryIpSet",
    "app",
    {"instanceId": "i-DhjUXmSA", "count": 2, "privateIps": None},
)
pulumi.export("private_ips", app.privateIps)
"""


def _secondary(cloud: Admin) -> list[str]:
    return list(cloud.state()["bcc"]["instances"]["i-DhjUXmSA"]["secondary"]["ipv4"])


def test_unanswered_add_never_removes_another_stacks_addresses(
    stack: Stack, cloud: Admin, tmp_path: Path
) -> None:
    native_stack(stack, tmp_path)
    stack.write_program(PROGRAM)
    stack.init()
    other = native_stack(
        Stack(tmp_path / "other", _bindir(stack), cloud.url, name="other"),
        tmp_path / "other",
    )
    other.write_program(PROGRAM)
    other.init()
    # A's 8 attempts fail without acting; its 9th call, the same request again, is
    # slow to arrive (10 s), and B adds its two meanwhile.
    cloud.faults(
        {
            "operation": "BatchAddIp",
            "action": "error",
            "status": 500,
            "code": "InternalError",
            "message": "boom",
            "times": 8,
        },
        {"operation": "BatchAddIp", "action": "delay", "seconds": 10, "after": 8, "times": 1},
    )
    running = stack.popen("up", "--yes", "--skip-preview")
    try:
        deadline = time.monotonic() + 180
        while cloud.operations().count("BatchAddIp") < 8:
            assert running.poll() is None, running.stdout.read() if running.stdout else ""
            assert time.monotonic() < deadline, "stack A never made its attempts"
            time.sleep(0.2)
        time.sleep(0.5)  # A's 9th call is in (and held back) now
        other.up()
        theirs = other.outputs()["private_ips"]
        out, _ = running.communicate(timeout=300)
        assert running.returncode == 0, out  # the same request again was answered
        assert "asking again with the same clientToken" in out, out
        ours = stack.outputs()["private_ips"]
        # Each stack holds its own two, the NIC both pairs: nothing taken or removed.
        assert len(ours) == 2 and not set(ours) & set(theirs), (ours, theirs)
        assert sorted(_secondary(cloud)) == sorted([*ours, *theirs])
        assert other.outputs()["private_ips"] == theirs
        stack.destroy()
        assert sorted(_secondary(cloud)) == sorted(theirs)  # A's destroy leaves B's
    finally:
        if running.poll() is None:
            stack.kill(running)
        cloud.clear_faults()
        other.run("destroy", "--yes", "--skip-preview", check=False)


def _bindir(stack: Stack) -> Path:
    """The pulumi CLI's folder the ``stack`` fixture was given (last on its PATH of the
    two it put first: the plugin's folder, then the CLI's)."""
    for entry in stack.env["PATH"].split(":"):
        if (Path(entry) / "pulumi").exists():
            return Path(entry)
    raise AssertionError("no pulumi on the stack's PATH")
