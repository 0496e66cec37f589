"""The native plugin configured from the stack config alone (no vendor environment
variable set): ``batchip:huaweiSecretKey`` and the rest, set in plain text or with
``--secret``, reach the cloud (the emulator checks every signature), and no credential
appears in plain text in the state, the stack export or any output; a wrong key gives
the vendor's error. And a secret ``privateIps`` through the plugin: its addresses
appear in plain text nowhere, from create to destroy (README, "From other languages")."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pulumi_batchip.emulator import DEFAULT_HW_PROJECT_ID

from ..conftest import Admin
from .conftest import BCE_AK, BCE_SK, HW_AK, HW_SK, Stack, held, mutating_calls, native_stack
from .test_native_provider import PROGRAM

CREDENTIALS = {
    "batchip:baiduAccessKey": BCE_AK,
    "batchip:baiduSecretKey": BCE_SK,
    "batchip:huaweiAccessKey": HW_AK,
    "batchip:huaweiSecretKey": HW_SK,
}
PLACES = {
    "batchip:baiduRegion": "bj",
    "batchip:huaweiRegion": "cn-north-4",
    "batchip:huaweiProjectId": DEFAULT_HW_PROJECT_ID,
}
WRONG = "not-the-emulator-secret-key"


def backend_files(stack: Stack, pattern: str) -> dict[Path, str]:
    return {p: p.read_text() for p in sorted(stack.state_dir.rglob(pattern)) if p.is_file()}


def shown(text: str, values: list[str]) -> list[str]:
    return [v for v in values if v in text]


def outputs_of_commands(stack: Stack) -> str:
    """What the CLI printed, but for `config set` (whose arguments hold the values) and
    the commands asked to show secrets."""
    return "\n".join(
        entry
        for entry in stack.log
        if not entry.startswith("$ pulumi config") and "--show-secrets" not in entry
    )


def test_credentials_from_batchip_config(stack: Stack, cloud: Admin, tmp_path: Path) -> None:
    native_stack(stack, tmp_path, environment=False)
    stack.write_program(PROGRAM)
    stack.run("stack", "init", stack.name)
    stack.config_set("batchip:eipEndpoint", stack.emulator_url)
    stack.config_set("batchip:bccEndpoint", stack.emulator_url)
    secrets = [*CREDENTIALS.values(), WRONG]

    # A setting the providers would refuse fails the provider's check: preview says it.
    stack.config_set("batchip:eipJobTimeout", "abc")
    bad = stack.preview(check=False)
    assert bad.returncode != 0
    assert "batchip:eipJobTimeout / BATCHIP_EIP_JOB_TIMEOUT: 'abc' is not a positive" in (
        bad.stdout + bad.stderr
    ), bad.stdout + bad.stderr
    stack.run("config", "rm", "batchip:eipJobTimeout")
    assert mutating_calls(cloud.requests()) == []

    # Neither batchip: config nor environment: the error names both, and nothing is
    # created. The plugin reads no huaweicloud: key (the engine hands it none).
    stack.config_set("huaweicloud:accessKey", HW_AK)
    missing = stack.up("--continue-on-error", check=False)
    stack.run("config", "rm", "huaweicloud:accessKey")
    assert missing.returncode != 0
    text = missing.stdout + missing.stderr
    assert "`batchip:huaweiAccessKey`" in text and "HW_ACCESS_KEY" in text, text
    assert "`batchip:baiduAccessKey`" in text and "BAIDUCLOUD_ACCESS_KEY" in text, text
    # Our message alone under the resource: no "Unexpected <class ...>", none of our
    # frames (the program's own traceback, the SDK's, is the language host's to show).
    assert "error: missing Huawei access key: set the Pulumi config" in text, text
    assert "Unexpected <class" not in text and "pulumi_batchip/" not in text, text
    assert held(cloud) == (0, 0)

    # Set in plain text: for a key named like a secret's the CLI wants --plaintext.
    refused_plain = stack.run("config", "set", "batchip:huaweiSecretKey", "--", HW_SK, check=False)
    assert refused_plain.returncode != 0 and "--plaintext" in refused_plain.stderr
    for key, value in {**CREDENTIALS, **PLACES}.items():
        stack.config_set(key, value, plaintext=True)
    assert HW_SK in (stack.dir / f"Pulumi.{stack.name}.yaml").read_text()
    stack.up()
    assert held(cloud) == (2, 2)  # signed with the configured keys: the emulator checks
    [provider] = stack.resources("pulumi:providers:batchip")
    for key in CREDENTIALS:
        name = key.partition(":")[2]
        assert "ciphertext" in provider["inputs"][name], provider["inputs"]
        assert "ciphertext" in provider["outputs"][name], provider["outputs"]
    assert provider["inputs"]["huaweiRegion"] == "cn-north-4"  # no secret
    export = stack.run("stack", "export").stdout
    assert shown(export, secrets) == []
    # The state file (and its backup) and every checkpoint: no credential in plain text.
    for path, content in backend_files(stack, "*.json*").items():
        if ".history.json" not in path.name:
            assert shown(content, secrets) == [], path
    # The backend's update history records the stack config as it was set: set in
    # plain text, the keys are plain there, as in Pulumi.<stack>.yaml.
    plain_history = {
        p for p, content in backend_files(stack, "*.history.json").items() if HW_SK in content
    }
    assert plain_history
    plain_history |= {
        p for p, content in backend_files(stack, "*.history.json").items() if HW_AK in content
    }

    # The same keys again with --secret: a changed provider setting replaces nothing,
    # and from then on the keys are plain nowhere in the backend.
    for key, value in CREDENTIALS.items():
        stack.config_set(key, value, secret=True)
    stack.config_set("count", "3")
    result = stack.up()
    assert "replace" not in result.stdout, result.stdout
    assert held(cloud) == (2, 3)
    for path, content in backend_files(stack, "*.json*").items():
        if path not in plain_history:
            assert shown(content, secrets) == [], path
    assert shown(stack.run("stack", "export").stdout, secrets) == []

    # A wrong secret key: the vendor's refusal, with its code and request id.
    stack.config_set("batchip:huaweiSecretKey", WRONG, secret=True)
    stack.config_set("count", "4")
    refused = stack.up(check=False)
    assert refused.returncode != 0
    text = refused.stdout + refused.stderr
    assert re.search(r"HTTP 401 APIGW\.0301 .*\(request id [0-9a-f-]+\)", text), text
    assert "Unexpected <class" not in text and "pulumi_batchip/" not in text, text
    assert "replace" not in refused.stdout
    assert held(cloud) == (2, 3)

    stack.config_set("batchip:huaweiSecretKey", HW_SK, secret=True)
    result = stack.up()
    assert "replace" not in result.stdout, result.stdout
    assert held(cloud) == (2, 4)
    assert HW_SK not in (stack.dir / f"Pulumi.{stack.name}.yaml").read_text()
    # destroy uses the provider settings recorded at the last up (as with every Pulumi
    # provider), not the stack config of the moment: the key is gone from the config.
    stack.run("config", "rm", "batchip:huaweiSecretKey")
    stack.destroy()
    assert held(cloud) == (0, 0)
    for path, content in backend_files(stack, "*.json*").items():
        if path not in plain_history:
            assert shown(content, secrets) == [], path
    # No command printed a credential (the wrong one included).
    assert shown(outputs_of_commands(stack), secrets) == []


SECRET_PROGRAM = """
import pulumi

cfg = pulumi.Config()
ips = ["192.168.0.77", "192.168.0.78"] + (["192.168.0.79"] if cfg.get_bool("more") else [])
hidden = pulumi.CustomResource(
    "batchip:index:SecondaryIpSet",
    "hidden",
    {"instanceId": "i-DhjUXmSA", "privateIps": pulumi.Output.secret(ips)},
)
pulumi.export("set_id", hidden.id)
pulumi.export("private_ips", hidden.privateIps)
"""
SECRET = ("192.168.0.77", "192.168.0.78", "192.168.0.79")
VM = "i-DhjUXmSA"


def on_vm(cloud: Admin) -> list[str]:
    return list(cloud.state()["bcc"]["instances"][VM]["secondary"]["ipv4"])


def test_secret_private_ips_through_the_plugin(stack: Stack, cloud: Admin, tmp_path: Path) -> None:
    native_stack(stack, tmp_path)
    stack.write_program(SECRET_PROGRAM)
    stack.init()
    seen: list[str] = []

    result = stack.up()
    seen.append(result.stdout + result.stderr)
    assert on_vm(cloud) == ["192.168.0.77", "192.168.0.78"]
    # The progress line reaches the CLI, with a count instead of the addresses.
    assert f"batchip: SecondaryIpSet on {VM}: added 2 secret addresses" in result.stdout
    [state] = stack.resources("batchip:index:SecondaryIpSet")
    assert re.fullmatch(rf"{VM}/secret-[0-9a-f]{{16}}", state["id"]), state["id"]
    assert state["outputs"]["secretAddresses"] is True
    assert "ciphertext" in state["outputs"]["privateIps"]
    assert "ciphertext" in state["inputs"]["privateIps"]
    outputs = json.loads(stack.run("stack", "output", "--json").stdout)
    assert outputs == {"set_id": state["id"], "private_ips": "[secret]"}
    assert stack.outputs()["private_ips"] == ["192.168.0.77", "192.168.0.78"]
    seen.append(stack.run("stack", "export").stdout)
    stack.preview("--expect-no-changes")

    # An update in place (same id), a refresh, the destroy: hidden all along.
    stack.config_set("more", "true")
    result = stack.up()
    seen.append(result.stdout + result.stderr)
    assert "replace" not in result.stdout
    assert on_vm(cloud) == list(SECRET)
    [updated] = stack.resources("batchip:index:SecondaryIpSet")
    assert updated["id"] == state["id"]
    stack.refresh("--expect-no-changes")
    stack.preview("--expect-no-changes")
    assert stack.outputs()["private_ips"] == list(SECRET)
    seen.append(stack.run("stack", "export").stdout)

    result = stack.destroy()
    seen.append(result.stdout + result.stderr)
    assert held(cloud) == (0, 0)
    seen.append(stack.run("stack", "history", "--json").stdout)
    seen.extend(backend_files(stack, "*.json*").values())
    seen.append(outputs_of_commands(stack))
    for text in seen:
        assert not [a for a in SECRET if a in text], text
