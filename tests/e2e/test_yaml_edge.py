"""examples/yaml-edge, a Pulumi YAML program, through the real CLI and its YAML language
host: both resources served by the native plugin, configured from the environment
alone (no `pulumi config set` of credentials or endpoints), composed with each other
and with Pulumi YAML's own functions."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..conftest import Admin
from .conftest import REPO, Stack, held, mutating_calls, native_stack, release_eips_outside

EXAMPLE = REPO / "examples" / "yaml-edge"
EIP_BATCH = "batchip:index:EipBatch"
SECONDARY_IP_SET = "batchip:index:SecondaryIpSet"


def yaml_stack(stack: Stack, tmp: Path) -> Stack:
    """``stack`` running the example, its plugin on PATH, the emulator's endpoints in
    the environment; skips (fails under BATCHIP_E2E_REQUIRED=1) without a YAML host."""
    if shutil.which("pulumi-language-yaml", path=stack.env["PATH"]) is None:
        reason = (
            "no pulumi-language-yaml beside the pulumi on PATH or on PATH "
            "(scripts/pulumi-cli.sh builds it on its cache, installer and build routes)"
        )
        if os.environ.get("BATCHIP_E2E_REQUIRED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    native_stack(stack, tmp)
    url = stack.emulator_url
    stack.env.update(BATCHIP_BCC_ENDPOINT=url, BATCHIP_EIP_ENDPOINT=url)
    shutil.copy(EXAMPLE / "Pulumi.yaml", stack.dir / "Pulumi.yaml")
    stack.run("stack", "init", stack.name)
    return stack


def eip_tags(cloud: Admin) -> list[dict[str, str]]:
    """Each EIP's tags in the emulator, as dicts (the program's and the package's own:
    managed-by, batch and stack)."""
    return [
        dict(tag.split("*", 1) for tag in eip["tags"])
        for eip in cloud.state()["eip"]["publicips"].values()
    ]


def only(stack: Stack, typ: str) -> dict[str, Any]:
    [found] = stack.resources(typ)
    return found


def test_yaml_program_lifecycle(stack: Stack, cloud: Admin, tmp_path: Path) -> None:
    yaml_stack(stack, tmp_path)
    stack.preview()
    assert mutating_calls(cloud.requests()) == []

    stack.up()
    assert held(cloud) == (2, 2)
    out = stack.outputs()
    private_ips, public_ips = out["privateIps"], out["publicIps"]
    assert len(private_ips) == 2 and len(public_ips) == 2
    assert out["batchId"] == only(stack, EIP_BATCH)["id"]
    assert out["eipIds"] == only(stack, EIP_BATCH)["outputs"]["eipIds"]
    # fn::join and an index, evaluated by the YAML host.
    assert out["backends"] == ", ".join(private_ips)
    assert out["frontIp"] == public_ips[0]
    # The EIPs are tagged with an output of the other resource.
    backend = {"team": "web", "backendVm": "i-DhjUXmSA"}
    assert all(tags.items() >= backend.items() for tags in eip_tags(cloud)), eip_tags(cloud)
    # The provider got its endpoints from the environment: no batchip: config in state.
    [provider] = stack.resources("pulumi:providers:batchip")
    assert not {"bccEndpoint", "eipEndpoint"} & set(provider.get("inputs") or {})

    stack.preview("--expect-no-changes")

    # count 3: both change in place (same batch, same set), the new EIP tagged too.
    stack.config_set("count", "3")
    result = stack.up()
    assert "replace" not in result.stdout, result.stdout
    assert held(cloud) == (3, 3)
    grown = stack.outputs()
    assert grown["batchId"] == out["batchId"]
    assert grown["privateIps"][:2] == private_ips and grown["eipIds"][:2] == out["eipIds"]
    assert all(tags.items() >= backend.items() for tags in eip_tags(cloud)), eip_tags(cloud)
    stack.preview("--expect-no-changes")

    # An EIP deleted behind Pulumi's back: refresh records it, up puts one back.
    gone = grown["eipIds"][0]
    release_eips_outside(cloud, [gone], left=2)
    before = len(cloud.requests())
    stack.refresh()
    assert mutating_calls(cloud.requests()[before:]) == []
    refreshed = only(stack, EIP_BATCH)["outputs"]
    assert refreshed["eipIds"] == grown["eipIds"][1:] and refreshed["count"] == 2
    assert "update" in stack.preview(check=False).stdout
    stack.up()
    assert held(cloud) == (3, 3)
    repaired = stack.outputs()["eipIds"]
    assert repaired[:2] == grown["eipIds"][1:] and gone not in repaired
    stack.preview("--expect-no-changes")

    stack.destroy()
    assert held(cloud) == (0, 0)
    assert stack.resources(EIP_BATCH) == [] and stack.resources(SECONDARY_IP_SET) == []


def generated_code(output: str) -> dict[str, Any]:
    """The YAML that `pulumi import` prints for the program, parsed."""
    marker = "will cause Pulumi to report that an update will happen on the next update command."
    _before, found, code = output.partition(marker)
    assert found, output
    parsed = yaml.safe_load(code)
    assert isinstance(parsed, dict), code
    return parsed


def test_import_generates_the_yaml_to_paste(stack: Stack, cloud: Admin, tmp_path: Path) -> None:
    """`pulumi import` with code generation (the default) in a YAML project prints the
    resources' YAML; pasted into the program, a preview shows no changes."""
    yaml_stack(stack, tmp_path)
    stack.up()
    assert held(cloud) == (2, 2)
    batch_id = only(stack, EIP_BATCH)["id"]
    set_id = only(stack, SECONDARY_IP_SET)["id"]

    # Another stack of a project with no resources imports both.
    stack.run("stack", "init", "importer")
    (stack.dir / "Pulumi.yaml").write_text("name: yaml-edge\nruntime: yaml\n")
    program: dict[str, Any] = {"name": "yaml-edge", "runtime": "yaml", "resources": {}}
    for args in ((EIP_BATCH, "edge", batch_id), (SECONDARY_IP_SET, "app", set_id)):
        result = stack.run("import", *args, "--yes", "--protect=false")
        code = generated_code(result.stdout)
        program["resources"].update(code["resources"])
    edge, app = program["resources"]["edge"], program["resources"]["app"]
    assert edge["type"] == "batchip:EipBatch" and app["type"] == "batchip:SecondaryIpSet"
    assert edge["properties"]["count"] == 2
    assert edge["properties"]["tags"] == {"team": "web", "backendVm": "i-DhjUXmSA"}
    assert edge["properties"]["bandwidth"]["size"] == 5
    assert app["properties"]["instanceId"] == "i-DhjUXmSA"
    assert len(app["properties"]["privateIps"]) == 2

    (stack.dir / "Pulumi.yaml").write_text(yaml.safe_dump(program))
    stack.preview("--expect-no-changes")

    # The importer destroys them; the first stack's refresh then finds them gone.
    stack.destroy()
    assert held(cloud) == (0, 0)
    stack.run("stack", "select", stack.name)
    stack.refresh()
    assert stack.resources(EIP_BATCH) == [] and stack.resources(SECONDARY_IP_SET) == []
