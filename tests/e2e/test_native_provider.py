"""The native provider plugin ``pulumi-resource-batchip`` through the real CLI: a
program that knows nothing of pulumi_batchip (plain ``pulumi.CustomResource`` with the
schema's type tokens and camelCase names), the engine finding the plugin on PATH."""

from __future__ import annotations

import json
from pathlib import Path

from ..conftest import Admin
from .conftest import Stack, held, mutating_calls, native_stack

EIP_BATCH = "batchip:index:EipBatch"
SECONDARY_IP_SET = "batchip:index:SecondaryIpSet"

PROGRAM = """
import json

import pulumi

cfg = pulumi.Config()
count = cfg.get_int("count") or 2
bandwidth = json.loads(cfg.get("bandwidth") or '{"size": 5, "shareType": "PER"}')
edge = pulumi.CustomResource(
    "batchip:index:EipBatch",
    "edge",
    {
        "count": count,
        "bandwidth": bandwidth,
        "tags": pulumi.Output.secret({"team": "web"}),
        "publicIps": None,
    },
)
ips = cfg.get_object("ips")
# privateIps given, or None (then not an input, but an output all the same)
props = {"instanceId": "i-DhjUXmSA", "privateIps": ips} | ({} if ips else {"count": 2})
app = pulumi.CustomResource("batchip:index:SecondaryIpSet", "app", props)
pulumi.export("batch_id", edge.id)
pulumi.export("public_ips", edge.publicIps)
pulumi.export("set_id", app.id)
pulumi.export("private_ips", app.privateIps)
"""


def test_schema_from_the_plugin(stack: Stack, tmp_path: Path) -> None:
    native_stack(stack, tmp_path)
    stack.write_program("")
    # By path: by name the CLI asks the Pulumi registry (offline here) first.
    plugin = tmp_path / "plugin-bin" / "pulumi-resource-batchip"
    schema = json.loads(stack.run("package", "get-schema", str(plugin)).stdout)
    assert schema["name"] == "batchip"
    assert set(schema["resources"]) == {EIP_BATCH, SECONDARY_IP_SET}
    count = schema["resources"][EIP_BATCH]["inputProperties"]["count"]
    assert count["type"] == "integer"


def test_lifecycle_refresh_and_import(stack: Stack, cloud: Admin, tmp_path: Path) -> None:
    native_stack(stack, tmp_path)
    stack.write_program(PROGRAM)
    stack.init()
    stack.preview()
    assert mutating_calls(cloud.requests()) == []
    result = stack.up()
    assert held(cloud) == (2, 2)
    # The providers' progress lines reach the CLI (through the engine's Log service:
    # the engine hides a native plugin's stderr).
    assert "batchip: SecondaryIpSet on i-DhjUXmSA: added 192.168.0." in result.stdout, result.stdout
    owned = stack.outputs()
    [edge] = stack.resources(EIP_BATCH)
    assert edge["id"] == owned["batch_id"]
    assert edge["outputs"]["eipIds"] and edge["outputs"]["publicIps"] == owned["public_ips"]
    assert edge["inputs"]["stackScope"] == "batchip-e2e/e2e"  # orphans finds its EIPs
    assert "ciphertext" in edge["outputs"]["tags"]  # a secret input stays secret
    [app] = stack.resources(SECONDARY_IP_SET)
    assert app["outputs"]["privateIps"] == owned["private_ips"]
    assert "pulumi:providers:batchip" in {r["type"] for r in stack.resources()}

    stack.preview("--expect-no-changes")

    # count changes in place: the same batch, one EIP more.
    stack.config_set("count", "3")
    before = len(cloud.requests())
    result = stack.up()
    assert "replace" not in result.stdout, result.stdout
    assert held(cloud) == (2, 3)
    assert stack.outputs()["batch_id"] == owned["batch_id"]
    assert {r["operation"] for r in mutating_calls(cloud.requests()[before:])} <= {
        "BatchCreatePublicips",
        "CreatePublicip",
        "BatchCreatePublicipTags",
    }

    before = len(cloud.requests())
    stack.refresh("--expect-no-changes")
    assert mutating_calls(cloud.requests()[before:]) == []
    stack.preview("--expect-no-changes")

    # Another stack imports both by id and owns them from then on.
    live = stack.outputs()
    stack.run("stack", "init", "importer")
    stack.config_set("batchip:eipEndpoint", stack.emulator_url)
    stack.config_set("batchip:bccEndpoint", stack.emulator_url)
    for args in ((EIP_BATCH, "edge", live["batch_id"]), (SECONDARY_IP_SET, "app", live["set_id"])):
        stack.run("import", *args, "--yes", "--protect=false", "--generate-code=false")
    [imported] = stack.resources(EIP_BATCH)
    assert imported["id"] == live["batch_id"]
    assert imported["inputs"]["count"] == 3
    assert imported["outputs"]["publicIps"] == live["public_ips"]
    [imported_set] = stack.resources(SECONDARY_IP_SET)
    assert imported_set["inputs"]["privateIps"] == live["private_ips"]

    # Its program says what was imported: nothing to change.
    stack.config_set("count", "3")
    stack.config_set("bandwidth", json.dumps(imported["inputs"]["bandwidth"]))
    stack.config_set("ips", json.dumps(live["private_ips"]))
    stack.preview("--expect-no-changes")

    # The importer destroys them; the first stack's refresh then finds them gone.
    stack.destroy()
    assert held(cloud) == (0, 0)
    stack.run("stack", "select", "e2e")
    stack.refresh()
    assert stack.resources(EIP_BATCH) == [] and stack.resources(SECONDARY_IP_SET) == []
    stack.destroy()
