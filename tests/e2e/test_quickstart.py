"""examples/quickstart under the real CLI: up, no-change preview and up, export,
destroy."""

from __future__ import annotations

import base64
import json
import pickle
import shutil
from pathlib import Path
from typing import Any

from ..conftest import Admin
from .conftest import CREDENTIALS, REPO, Stack, held, mutating_calls

QUICKSTART = REPO / "examples" / "quickstart"
SECONDARY = "pulumi-python:dynamic/batchip:SecondaryIpSet"
EIP_BATCH = "pulumi-python:dynamic/batchip:EipBatch"


def test_quickstart_up_noop_export_destroy(stack: Stack, cloud: Admin) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(QUICKSTART / name, stack.dir / name)
    stack.init()
    # Access keys too: Pulumi keeps the whole stack config as the inputs of the
    # dynamic provider's resource in state, so only secrets stay out of the export.
    stack.config_set("baiducloud:accessKey", "emulator-bce-ak", secret=True)
    stack.config_set("huaweicloud:accessKey", "emulator-hw-ak", secret=True)

    stack.up()
    outputs = stack.outputs()
    state = cloud.state()
    on_vm = state["bcc"]["instances"]["i-DhjUXmSA"]["secondary"]["ipv4"]
    assert sorted(outputs["private_ips"]) == sorted(on_vm) and len(on_vm) == 2
    eips = state["eip"]["publicips"]
    assert sorted(outputs["eip_ids"]) == sorted(eips) and len(eips) == 3
    assert sorted(outputs["public_ips"]) == sorted(e["public_ip_address"] for e in eips.values())
    # Our outputs reached the other resource: the nginx file names every address.
    nginx = Path(outputs["nginx_conf"]).read_text()
    for ip in outputs["private_ips"]:
        assert f"server {ip}:8080;" in nginx
    for ip in outputs["public_ips"]:
        assert f"    {ip} 1;" in nginx

    # Nothing changed: preview agrees, and a second `up` changes nothing in the cloud.
    stack.preview("--expect-no-changes")
    before = len(cloud.requests())
    second = stack.up()
    assert mutating_calls(cloud.requests()[before:]) == []
    assert "4 unchanged" in second.stdout

    # The state holds no credential, and the providers are small class references.
    exported = json.dumps(stack.export())
    for credential in CREDENTIALS:
        assert credential not in exported
    for resource in stack.resources(SECONDARY) + stack.resources(EIP_BATCH):
        provider = resource["inputs"]["__provider"]
        assert len(provider) < 200
        cls = pickle.loads(base64.b64decode(provider))
        assert type(cls).__module__.startswith("pulumi_batchip.")

    stack.destroy()
    assert held(cloud) == (0, 0)
    assert not Path(outputs["nginx_conf"]).exists()


def test_plain_access_keys_show_in_export(stack: Stack, cloud: Admin) -> None:
    """What the engine does with stack config (recorded for the README's advice): it
    stores every config value as an input of the default `pulumi-python` provider, so
    an access key set without --secret is in `pulumi stack export` in plain text,
    while the --secret ones are encrypted."""
    stack.write_program(
        """
        import pulumi, pulumi_batchip as batchip
        ips = batchip.SecondaryIpSet("app", instance_id="i-DhjUXmSA", count=1)
        pulumi.export("ips", ips.private_ips)
        """
    )
    stack.init()  # access keys plain, secret keys --secret
    stack.up()
    [provider] = stack.resources("pulumi:providers:pulumi-python")
    assert provider["inputs"]["baiducloud:accessKey"] == "emulator-bce-ak"
    exported = json.dumps(stack.export())
    assert "emulator-bce-sk" not in exported and "emulator-hw-sk" not in exported
    stack.destroy()
    assert held(cloud) == (0, 0)


def test_credentials_from_the_environment_never_reach_state(stack: Stack, cloud: Admin) -> None:
    stack.write_program(
        """
        import pulumi, pulumi_batchip as batchip
        edge = batchip.EipBatch("edge", count=1, bandwidth={"size": 5, "share_type": "PER"})
        pulumi.export("ids", edge.eip_ids)
        """
    )
    stack.run("stack", "init", stack.name)
    stack.config_set("batchip:eipEndpoint", cloud.url)
    stack.env.update(
        HW_ACCESS_KEY="emulator-hw-ak",
        HW_SECRET_KEY="emulator-hw-sk",
        HW_REGION_NAME="cn-north-4",
        HW_PROJECT_ID="0123456789abcdef0123456789abcdef",
    )
    stack.up()
    assert len(stack.outputs()["ids"]) == 1
    exported = json.dumps(stack.export())
    for credential in CREDENTIALS:
        assert credential not in exported
    stack.destroy()
    assert held(cloud) == (0, 0)


def test_testing_kit_fails_with_the_engines_own_message(stack: Stack) -> None:
    """BatchIpMocks' check failure reads exactly as `pulumi preview` prints it."""
    stack.write_program("")
    stack.init()
    printed: set[str] = set()
    # One resource per preview: the engine stops at the first resource that fails.
    for program_text in (
        'batchip.EipBatch("edge", count=5000, bandwidth={"size": 5, "share_type": "NOPE"})',
        'batchip.SecondaryIpSet("app", instance_id="i-DhjUXmSA", count=0)',
    ):
        stack.write_program("import pulumi_batchip as batchip\n" + program_text + "\n")
        preview = stack.preview(check=False)
        assert preview.returncode != 0
        printed.update(
            line.split("error: ", 1)[1].strip()
            for line in preview.stdout.splitlines()
            if "has a problem" in line
        )

    import pulumi

    import pulumi_batchip as batchip
    from pulumi_batchip.testing import BatchIpMocks, InputCheckFailed

    messages: set[str] = set()
    for make in (
        lambda: batchip.EipBatch("edge", count=5000, bandwidth={"size": 5, "share_type": "NOPE"}),
        lambda: batchip.SecondaryIpSet("app", instance_id="i-DhjUXmSA", count=0),
    ):
        pulumi.runtime.set_mocks(BatchIpMocks(), project="p", stack="s", preview=False)

        @pulumi.runtime.test  # type: ignore[misc]
        def program(make: Any = make) -> Any:
            return make().id

        try:
            program()
        except InputCheckFailed as exc:
            messages.update(str(exc).splitlines())
    assert len(messages) == 3
    assert messages <= printed, (messages, printed)
