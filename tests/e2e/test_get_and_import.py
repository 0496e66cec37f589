"""What the real engine does with `Resource.get` and the `import_` option on our
resources (the README's "Reading and importing existing addresses" states exactly
this)."""

from __future__ import annotations

import json

from ..conftest import Admin
from .conftest import Stack, held, mutating_calls

PROGRAM = """
import pulumi
import pulumi_batchip as batchip

cfg = pulumi.Config()
mode = cfg.get("mode") or "own"
if mode == "own":
    edge = batchip.EipBatch("edge", count=2, bandwidth={"size": 5, "share_type": "PER"})
    app = batchip.SecondaryIpSet("app", instance_id="i-DhjUXmSA", count=2)
    pulumi.export("batch_id", edge.batch_id)
    pulumi.export("set_id", app.id)
elif mode == "get":
    seen = batchip.EipBatch.get("seen", cfg.require("batch"))
    seen_ips = batchip.SecondaryIpSet.get("seen-ips", cfg.require("set"))
    pulumi.export("public_ips", seen.public_ips)
    pulumi.export("private_ips", seen_ips.private_ips)
else:
    adopted = batchip.EipBatch(
        "adopted",
        count=2,
        bandwidth={"size": 5, "share_type": "PER"},
        opts=pulumi.ResourceOptions(import_=cfg.require("batch")),
    )
"""


def second_stack(stack: Stack, name: str) -> None:
    """Another stack of the same project with the same cloud config."""
    config = json.loads(stack.run("config", "--json", "--show-secrets").stdout)
    stack.run("stack", "init", name)
    for key, entry in config.items():
        stack.config_set(key, str(entry["value"]), secret=bool(entry.get("secret")))


def test_get_is_a_read_only_view(stack: Stack, cloud: Admin) -> None:
    stack.write_program(PROGRAM)
    stack.init()
    stack.up()
    owned = stack.outputs()
    state = cloud.state()

    second_stack(stack, "reader")
    stack.config_set("mode", "get")
    stack.config_set("batch", owned["batch_id"])
    stack.config_set("set", owned["set_id"])
    before = len(cloud.requests())
    result = stack.up()
    # `up` reads them (the engine's "read" step) and changes nothing in the cloud.
    assert "read pulumi-python:dynamic/batchip:EipBatch seen" in result.stdout
    assert mutating_calls(cloud.requests()[before:]) == []
    read = stack.outputs()
    eips = state["eip"]["publicips"].values()
    assert sorted(read["public_ips"]) == sorted(e["public_ip_address"] for e in eips)
    assert read["private_ips"] == state["bcc"]["instances"]["i-DhjUXmSA"]["secondary"]["ipv4"]
    [seen] = [r for r in stack.resources() if r["urn"].endswith("::seen")]
    assert seen.get("external") is True

    # `destroy` of the reading stack only forgets them: everything is still there.
    before = len(cloud.requests())
    stack.destroy()
    assert mutating_calls(cloud.requests()[before:]) == []
    assert held(cloud) == (2, 2)

    stack.run("stack", "select", "e2e")
    stack.destroy()
    assert held(cloud) == (0, 0)


def test_import_option_fails_upstream_and_changes_nothing(stack: Stack, cloud: Admin) -> None:
    """pulumi/pulumi#16175: the engine's import Read carries no `__provider`, so the
    dynamic provider server cannot even load our provider. Nothing is created,
    changed or deleted."""
    stack.write_program(PROGRAM)
    stack.init()
    stack.up()
    owned = stack.outputs()

    second_stack(stack, "importer")
    stack.config_set("mode", "import")
    stack.config_set("batch", owned["batch_id"])
    before = len(cloud.requests())
    result = stack.up(check=False)
    assert result.returncode != 0
    assert "KeyError: '__provider'" in result.stdout
    assert "importing failed" in result.stdout
    assert mutating_calls(cloud.requests()[before:]) == []
    assert [r for r in stack.resources() if r["urn"].endswith("::adopted")] == []
    assert held(cloud) == (2, 2)

    stack.run("stack", "select", "e2e")
    stack.destroy()
    assert held(cloud) == (0, 0)
