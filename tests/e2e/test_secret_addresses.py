"""A SecondaryIpSet whose ``private_ips`` is ``pulumi.Output.secret([...])``: through
the real CLI, its addresses appear in plain text nowhere (README, "Secret addresses")."""

from __future__ import annotations

import json
import re

from ..conftest import Admin
from .conftest import Stack, held

PROGRAM = """
import pulumi
import pulumi_batchip as batchip

cfg = pulumi.Config()
ips = ["192.168.0.77", "192.168.0.78"] + (["192.168.0.79"] if cfg.get_bool("more") else [])
hidden = batchip.SecondaryIpSet(
    "hidden", instance_id="i-DhjUXmSA", private_ips=pulumi.Output.secret(ips)
)
pulumi.export("set_id", hidden.id)
pulumi.export("private_ips", hidden.private_ips)
pulumi.export("instance", hidden.instance_id)
"""
SECRET = ("192.168.0.77", "192.168.0.78", "192.168.0.79")
VM = "i-DhjUXmSA"


def assert_hidden(where: str, text: str) -> None:
    shown = [a for a in SECRET if a in text]
    assert not shown, f"{where} shows {shown}:\n{text}"


def on_vm(cloud: Admin) -> list[str]:
    return list(cloud.state()["bcc"]["instances"][VM]["secondary"]["ipv4"])


def test_secret_private_ips_appear_in_no_plain_text(stack: Stack, cloud: Admin) -> None:
    stack.write_program(PROGRAM)
    stack.init()
    seen: list[tuple[str, str]] = []

    result = stack.up()
    seen.append(("up", result.stdout + result.stderr))
    assert on_vm(cloud) == ["192.168.0.77", "192.168.0.78"]
    assert "batchip: SecondaryIpSet on i-DhjUXmSA: added 2 secret addresses" in result.stdout

    # The id names the VM and an opaque token, never the addresses.
    [state] = stack.resources("pulumi-python:dynamic/batchip:SecondaryIpSet")
    assert re.fullmatch(rf"{VM}/secret-[0-9a-f]{{16}}", state["id"]), state["id"]
    export = stack.run("stack", "export").stdout
    seen.append(("stack export", export))
    outputs = stack.run("stack", "output", "--json").stdout
    seen.append(("stack output --json", outputs))
    shown = json.loads(outputs)
    assert shown["set_id"] == state["id"] and shown["private_ips"] == "[secret]"
    # They are there, just encrypted: --show-secrets shows them.
    assert stack.outputs()["private_ips"] == ["192.168.0.77", "192.168.0.78"]

    # An update, a refresh and the destroy keep them hidden too; the id stays.
    stack.config_set("more", "true")
    result = stack.up()
    seen.append(("second up", result.stdout + result.stderr))
    assert "added 1 secret address" in result.stdout
    assert on_vm(cloud) == list(SECRET)
    result = stack.refresh()
    seen.append(("refresh", result.stdout + result.stderr))
    [state] = stack.resources("pulumi-python:dynamic/batchip:SecondaryIpSet")
    assert state["id"] == shown["set_id"]
    seen.append(("stack export after refresh", stack.run("stack", "export").stdout))
    seen.append(("stack output --json", stack.run("stack", "output", "--json").stdout))
    assert stack.outputs()["private_ips"] == list(SECRET)

    result = stack.destroy()
    seen.append(("destroy", result.stdout + result.stderr))
    assert held(cloud) == (0, 0)
    for args in (("stack", "history"), ("stack", "history", "--json")):
        seen.append((" ".join(args), stack.run(*args).stdout))
    for where, text in seen:
        assert_hidden(where, text)
