"""Every example program runs under ``pulumi.runtime.set_mocks``: the resource graph it
builds is asserted (our resources get the right inputs, the other providers' resources
get our outputs, the stack exports them), and the quickstart's own resources (ours
and its small config-file resource) are also driven through the real provider server,
ours against the emulator, as ``pulumi up`` and ``pulumi destroy`` would (docs/design.md §5).

No plugin binary is needed: under mocks, pulumi-cloudflare and pulumi-huaweicloud are
only Python packages that register resources.
"""

from __future__ import annotations

import ipaddress
import os
import re
import runpy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import settings as runtime_settings

from pulumi_batchip.emulator import (
    DEFAULT_BCE_CREDENTIALS,
    DEFAULT_HW_CREDENTIALS,
    DEFAULT_HW_PROJECT_ID,
    RunningEmulator,
)

from ..conftest import Admin
from ..engine.harness import EngineResource, ProviderProcess, _unwrap_secrets

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SECONDARY_IP_SET = "pulumi-python:dynamic/batchip:SecondaryIpSet"
EIP_BATCH = "pulumi-python:dynamic/batchip:EipBatch"
# A dynamic resource whose provider class is defined in the program itself.
DYNAMIC_RESOURCE = "pulumi-python:dynamic:Resource"
CLOUDFLARE_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
HW_BANDWIDTH = "huaweicloud:Vpc/bandwidth:Bandwidth"
HW_RECORDSET = "huaweicloud:Dns/recordset:Recordset"
HW_EIP_ASSOCIATE = "huaweicloud:Vpc/eipAssociate:EipAssociate"

# pulumi-cloudflare warns about its deprecated resources when it is imported.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pulumi_cloudflare")

[(BCE_AK, BCE_SK)] = DEFAULT_BCE_CREDENTIALS.items()
[(HW_AK, HW_SK)] = DEFAULT_HW_CREDENTIALS.items()


def emulator_stack_config(url: str) -> dict[str, str]:
    """The stack config scripts/demo.sh sets for the quickstart (checked in test_demo)."""
    return {
        "baiducloud:accessKey": BCE_AK,
        "baiducloud:secretKey": BCE_SK,
        "baiducloud:region": "bj",
        "batchip:bccEndpoint": url,
        "huaweicloud:accessKey": HW_AK,
        "huaweicloud:secretKey": HW_SK,
        "huaweicloud:region": "cn-north-4",
        "huaweicloud:projectId": DEFAULT_HW_PROJECT_ID,
        "batchip:eipEndpoint": url,
    }


# -- running a program under mocks ------------------------------------------------------
class CloudMocks(pulumi.runtime.Mocks):
    """Plays every provider: ours answer with made-up addresses and ids (deterministic,
    so the test can check they reach the other resources), the others echo inputs."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []
        self._next_v4 = 10
        self._next_public = 10

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        inputs = dict(args.inputs)
        outputs = dict(inputs)
        resource_id = f"{args.name}-id"
        if args.typ == SECONDARY_IP_SET:
            count = int(inputs["count"])
            if inputs.get("ipv6"):
                ips = [f"2400:da00:e003:0:219::{0xA0 + n:x}" for n in range(count)]
            else:
                ips = [f"192.168.0.{self._next_v4 + n}" for n in range(count)]
                self._next_v4 += count
            outputs.update(private_ips=ips, region="bj")
            resource_id = f"{inputs['instance_id']}/{ips[0]}"
        elif args.typ == EIP_BATCH:
            count = int(inputs["count"])
            ids = [f"{args.name}-eip-{n}" for n in range(count)]
            ips = [f"203.0.113.{self._next_public + n}" for n in range(count)]
            self._next_public += count
            bandwidth = inputs["bandwidth"]
            if bandwidth.get("share_type") == "WHOLE":
                bandwidth_ids = [bandwidth["id"]] * count
            else:
                bandwidth_ids = [f"{args.name}-bw-{n}" for n in range(count)]
            resource_id = f"{args.name}-batch"
            outputs.update(
                batch_id=resource_id, eip_ids=ids, public_ips=ips, bandwidth_ids=bandwidth_ids
            )
        elif args.typ == HW_BANDWIDTH:
            resource_id = "5b0c5a43-bw-shared"
            outputs["share_type"] = "WHOLE"
        return resource_id, outputs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class Run:
    """What one program run under mocks registered and exported."""

    def __init__(self, mocks: CloudMocks, outputs: dict[str, Any]) -> None:
        self.resources = mocks.resources
        self.outputs = outputs

    def of_type(self, typ: str) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name: str | None = None) -> dict[str, Any]:
        """The inputs of the only resource of this type (and name), secrets unwrapped."""
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        assert len(found) == 1, [(r.typ, r.name) for r in self.resources]
        return dict(_unwrap_secrets(dict(found[0].inputs)))


def project_name(example: str) -> str:
    return str(yaml.safe_load((EXAMPLES / example / "Pulumi.yaml").read_text())["name"])


def run_example(example: str, config: Mapping[str, str] | None = None) -> Run:
    """Run ``examples/<example>/__main__.py`` as the Pulumi CLI would, under mocks, with
    ``config`` as stack config (keys without a namespace belong to the project)."""
    project = project_name(example)
    full_config = {(k if ":" in k else f"{project}:{k}"): v for k, v in (config or {}).items()}
    mocks = CloudMocks()
    runtime_settings.reset_options(project=project, stack="dev")  # a fresh root stack
    pulumi.runtime.set_mocks(mocks, project=project, stack="dev", preview=False)
    pulumi.runtime.set_all_config(full_config)
    exported: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[misc]
    def program() -> pulumi.Output[Any]:
        runpy.run_path(str(EXAMPLES / example / "__main__.py"), run_name="__main__")
        stack = runtime_settings.get_root_resource()
        assert stack is not None
        outputs = dict(stack.outputs)  # type: ignore[attr-defined]
        return pulumi.Output.all(**outputs).apply(exported.update)

    try:
        program()
    finally:
        pulumi.runtime.set_all_config({})
    return Run(mocks, exported)


# -- every example is a real Pulumi project ---------------------------------------------
CONFIGS: dict[str, dict[str, str]] = {
    "quickstart": {},
    "baidu-ipv6-dns": {
        "instanceId": "i-7Hx2kqPz",
        "cloudflareZoneId": "023e105f4ecef8ad9ca31a8372d0c353",
    },
    "huawei-shared-bandwidth": {},
}
# The other providers' packages each example needs (None: Pulumi dynamic resources
# only, so no provider plugin either).
PROVIDER_PACKAGES: dict[str, str | None] = {
    "quickstart": None,
    "baidu-ipv6-dns": "pulumi-cloudflare",
    "huawei-shared-bandwidth": "pulumi-huaweicloud",
}


def requirement_names(requirements: str) -> set[str]:
    """The distributions a requirements.txt names (``../..``, editable or not, is this
    package: the repository root seen from the example's folder)."""
    names = set()
    for line in requirements.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-e", "../..")):
            assert "../.." in line, line
            names.add("pulumi-batchip")
            continue
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        assert match, line
        names.add(match.group(0).lower().replace("_", "-"))
    return names


# Pulumi YAML examples: no Python to run under mocks; the real CLI runs each in its test.
YAML_EXAMPLES = {"yaml-edge": "tests/e2e/test_yaml_edge.py"}


def runtime_of(folder: Path) -> str:
    runtime = yaml.safe_load((folder / "Pulumi.yaml").read_text())["runtime"]
    return str(runtime if isinstance(runtime, str) else runtime["name"])


def example_dirs(runtime: str = "python") -> list[str]:
    return sorted(
        p.parent.name for p in EXAMPLES.glob("*/Pulumi.yaml") if runtime_of(p.parent) == runtime
    )


def test_every_example_is_covered() -> None:
    assert example_dirs() == sorted(CONFIGS)
    assert example_dirs("yaml") == sorted(YAML_EXAMPLES)
    for test in YAML_EXAMPLES.values():
        assert (EXAMPLES.parent / test).is_file(), test
    every = sorted(p.parent.name for p in EXAMPLES.glob("*/Pulumi.yaml"))
    assert every == sorted([*CONFIGS, *YAML_EXAMPLES])


@pytest.mark.parametrize("example", sorted(CONFIGS))
def test_example_is_a_python_pulumi_project(example: str) -> None:
    folder = EXAMPLES / example
    project = yaml.safe_load((folder / "Pulumi.yaml").read_text())
    runtime = project["runtime"]
    assert runtime["name"] == "python"
    assert runtime["options"]["toolchain"] == "pip"
    requirements = (folder / "requirements.txt").read_text()
    names = requirement_names(requirements)
    assert {"pulumi", "pulumi-batchip"} <= names
    # Exactly the provider packages it needs, none it does not (the quickstart: none).
    provider = PROVIDER_PACKAGES[example]
    # setuptools: only for pulumi-huaweicloud's pkg_resources on Python 3.12+.
    support = {"pulumi", "pulumi-batchip", "setuptools"}
    assert names - support == ({provider} if provider else set())
    assert ("setuptools" in names) == (provider == "pulumi-huaweicloud")
    readme = (folder / "README.md").read_text()
    assert "## Configuration" in readme
    assert "## Cost" in readme


@pytest.mark.parametrize("example", sorted(CONFIGS))
def test_example_registers_only_resources_of_its_provider_packages(example: str) -> None:
    # What PROVIDER_PACKAGES says is what the program does: resources of that package
    # (its plugin then needed by `pulumi up`) or, for None, Python dynamic ones only.
    run = run_example(example, CONFIGS[example])
    packages = {
        r.typ.split(":")[2] if r.typ.startswith("pulumi:providers:") else r.typ.split(":")[0]
        for r in run.resources
    }
    packages -= {"pulumi", "pulumi-python"}
    provider = PROVIDER_PACKAGES[example]
    assert {f"pulumi-{p}" for p in packages} == ({provider} if provider else set())


@pytest.mark.parametrize("example", sorted(CONFIGS))
def test_example_pickles_providers_by_reference(example: str) -> None:
    # Run as __main__, the program must still reference the package's provider
    # classes, not pickle them by value (that would freeze the code into state).
    run = run_example(example, CONFIGS[example])
    ours = run.of_type(SECONDARY_IP_SET) + run.of_type(EIP_BATCH)
    assert ours
    for resource in ours:
        provider = resource.inputs["__provider"]
        assert isinstance(provider, str)
        assert len(provider) < 200, resource.name


# -- quickstart -------------------------------------------------------------------------
def test_quickstart_graph() -> None:
    run = run_example("quickstart")

    ips = run.one(SECONDARY_IP_SET, "app-ips")
    assert ips["instance_id"] == "i-DhjUXmSA"
    assert ips["count"] == 2
    assert ips["ipv6"] is False
    assert ips.get("private_ips") is None

    edge = run.one(EIP_BATCH, "edge")
    assert edge["count"] == 3
    assert edge["publicip_type"] == "5_bgp"
    assert edge["ip_version"] == 4
    assert edge["bandwidth"] == {
        "size": 5,
        "share_type": "PER",
        "charge_mode": "bandwidth",
        "name": "quickstart-edge",
    }

    # Our outputs (the mocks' addresses) feed the nginx file, a dynamic resource of
    # the program's own.
    nginx = run.one(DYNAMIC_RESOURCE, "ingress-nginx")
    assert nginx["path"] == os.path.abspath("ingress-nginx.conf")
    assert nginx["content"] == QUICKSTART_NGINX
    assert set(nginx) == {"path", "content", "__provider"}

    assert run.outputs["private_ips"] == ["192.168.0.10", "192.168.0.11"]
    assert run.outputs["public_ips"] == ["203.0.113.10", "203.0.113.11", "203.0.113.12"]
    assert run.outputs["eip_ids"] == ["edge-eip-0", "edge-eip-1", "edge-eip-2"]
    assert run.outputs["bandwidth_ids"] == ["edge-bw-0", "edge-bw-1", "edge-bw-2"]
    assert run.outputs["nginx_conf"] == os.path.abspath("ingress-nginx.conf")
    assert set(run.outputs) == {
        "private_ips",
        "eip_ids",
        "public_ips",
        "bandwidth_ids",
        "nginx_conf",
    }


# The quickstart's nginx snippet for the mocks' addresses.
QUICKSTART_NGINX = """\
# Managed by Pulumi (batchip-quickstart): do not edit.
upstream app {
    server 192.168.0.10:8080;
    server 192.168.0.11:8080;
}
geo $from_edge {
    default 0;
    203.0.113.10 1;
    203.0.113.11 1;
    203.0.113.12 1;
}
"""


def test_quickstart_instance_id_and_nginx_path_from_config() -> None:
    run = run_example("quickstart", {"instanceId": "i-other", "nginxConf": "conf/ingress.conf"})
    assert run.one(SECONDARY_IP_SET)["instance_id"] == "i-other"
    # Made absolute, so the program and the provider process agree on it.
    assert run.one(DYNAMIC_RESOURCE)["path"] == os.path.abspath("conf/ingress.conf")
    assert run.outputs["nginx_conf"] == os.path.abspath("conf/ingress.conf")


def _resource_inputs(run: Run, typ: str, name: str) -> dict[str, Any]:
    [found] = [r for r in run.resources if r.typ == typ and r.name == name]
    return dict(_unwrap_secrets(dict(found.inputs)))


def test_quickstart_resources_up_and_destroy_against_the_emulator(
    emulator: RunningEmulator, admin: Admin
) -> None:
    """Our two resources of the quickstart, with the inputs the program really gives,
    through the real provider server configured as scripts/demo.sh configures the
    stack: what `pulumi up` then `pulumi destroy` do for them, without the CLI."""
    run = run_example("quickstart")
    with ProviderProcess() as server:
        server.configure(emulator_stack_config(emulator.url))
        ips = EngineResource(server, SECONDARY_IP_SET, "app-ips")
        edge = EngineResource(server, EIP_BATCH, "edge")

        ips.up(_resource_inputs(run, SECONDARY_IP_SET, "app-ips"))
        edge.up(_resource_inputs(run, EIP_BATCH, "edge"))

        state = admin.state()
        secondary = state["bcc"]["instances"]["i-DhjUXmSA"]["secondary"]["ipv4"]
        assert sorted(ips.outputs["private_ips"]) == sorted(secondary)
        assert len(secondary) == 2
        assert all(
            ipaddress.ip_address(ip) in ipaddress.ip_network("192.168.0.0/24") for ip in secondary
        )
        assert sorted(edge.outputs["eip_ids"]) == sorted(state["eip"]["publicips"])
        assert len(edge.outputs["public_ips"]) == 3

        # A second `up` with nothing changed changes nothing.
        before = len(admin.requests())
        ips.preview(_resource_inputs(run, SECONDARY_IP_SET, "app-ips"))
        edge.preview(_resource_inputs(run, EIP_BATCH, "edge"))
        mutating = {"BatchAddIp", "BatchDelIp", "BatchCreatePublicips", "BatchDeletePublicIp"}
        assert not mutating & {r["operation"] for r in admin.requests()[before:]}

        edge.destroy()
        ips.destroy()

    state = admin.state()
    assert state["bcc"]["instances"]["i-DhjUXmSA"]["secondary"]["ipv4"] == []
    assert state["eip"]["publicips"] == {}


def test_quickstart_config_file_written_updated_and_removed(tmp_path: Path) -> None:
    """The quickstart's ConfigFile through the real provider server, with the provider
    the program pickles (by value: its class lives in __main__): `pulumi up` writes the
    file, a changed content rewrites it in place, a new path replaces it, `pulumi
    destroy` removes it."""
    conf = tmp_path / "ingress-nginx.conf"
    run = run_example("quickstart", {"nginxConf": str(conf)})
    inputs = _resource_inputs(run, DYNAMIC_RESOURCE, "ingress-nginx")
    with ProviderProcess() as server:
        server.configure({})
        nginx = EngineResource(server, DYNAMIC_RESOURCE, "ingress-nginx")
        assert nginx.up(inputs) == "create"
        assert nginx.id == str(conf)
        assert conf.read_text() == QUICKSTART_NGINX
        assert nginx.outputs["content"] == QUICKSTART_NGINX

        # Nothing changed: no diff.
        assert nginx.up(inputs) == "same"
        # A new address: the content changes in place.
        changed = dict(inputs, content=QUICKSTART_NGINX.replace("192.168.0.11", "192.168.0.12"))
        assert nginx.up(changed) == "update"
        assert "server 192.168.0.12:8080;" in conf.read_text()
        assert nginx.outputs["content"] == conf.read_text()

        # A new path is another file: the new one is written, then the old one removed.
        moved = tmp_path / "moved.conf"
        assert nginx.up(dict(changed, path=str(moved))) == "replace"
        assert moved.read_text() == nginx.outputs["content"]
        assert not conf.exists()

        nginx.destroy()
    assert not moved.exists()


# -- baidu-ipv6-dns ---------------------------------------------------------------------
def test_baidu_ipv6_dns_graph() -> None:
    config = dict(CONFIGS["baidu-ipv6-dns"], count="3", recordName="v6", ttl="120")
    run = run_example("baidu-ipv6-dns", config)

    ips = run.one(SECONDARY_IP_SET, "web-v6")
    assert ips["instance_id"] == "i-7Hx2kqPz"
    assert ips["count"] == 3
    assert ips["ipv6"] is True
    assert ips["reboot"] is True

    addresses = run.outputs["ipv6_addresses"]
    assert len(addresses) == 3
    assert all(ipaddress.ip_address(a).version == 6 for a in addresses)
    records = sorted(run.of_type(CLOUDFLARE_RECORD), key=lambda r: r.name)
    assert [r.name for r in records] == [f"web-v6-aaaa-{i}" for i in range(3)]
    for record, address in zip(records, addresses, strict=True):
        assert record.inputs["type"] == "AAAA"
        assert record.inputs["content"] == address
        assert record.inputs["zoneId"] == "023e105f4ecef8ad9ca31a8372d0c353"
        assert record.inputs["name"] == "v6"
        assert record.inputs["ttl"] == 120
        assert record.inputs["proxied"] is False
    assert run.outputs["record_ids"] == [f"web-v6-aaaa-{i}-id" for i in range(3)]
    assert run.outputs["instance_id"] == "i-7Hx2kqPz"


def test_baidu_ipv6_dns_defaults_to_two_records() -> None:
    run = run_example("baidu-ipv6-dns", CONFIGS["baidu-ipv6-dns"])
    assert run.one(SECONDARY_IP_SET)["count"] == 2
    assert len(run.of_type(CLOUDFLARE_RECORD)) == 2
    assert run.of_type(CLOUDFLARE_RECORD)[0].inputs["name"] == "www"


def test_baidu_ipv6_dns_requires_the_instance_id() -> None:
    with pytest.raises(Exception, match="instanceId"):
        run_example("baidu-ipv6-dns", {"cloudflareZoneId": "z"})


# -- huawei-shared-bandwidth ------------------------------------------------------------
def test_huawei_shared_bandwidth_graph() -> None:
    config = {
        "sharedCount": "4",
        "dedicatedCount": "2",
        "sharedBandwidthSize": "10",
        "dnsZoneId": "ff8080825b8fc86c015b94bc6f8712c3",
        "dnsName": "api.example.com.",
        "portId": "7a1e1b6f-port",
    }
    run = run_example("huawei-shared-bandwidth", config)

    bandwidth = run.one(HW_BANDWIDTH, "shared-bw")
    assert bandwidth["size"] == 10
    assert bandwidth["chargeMode"] == "bandwidth"
    assert bandwidth["name"] == "batchip-shared-dev"

    shared = run.one(EIP_BATCH, "shared-eips")
    assert shared["count"] == 4
    assert shared["ip_version"] == 4
    # The bandwidth's id, an output of another provider, flows into our input.
    assert shared["bandwidth"] == {"share_type": "WHOLE", "id": "5b0c5a43-bw-shared"}
    assert shared["tags"] == {"example": "shared-bandwidth", "stack": "dev"}

    dedicated = run.one(EIP_BATCH, "dedicated-eips")
    assert dedicated["count"] == 2
    assert dedicated["ip_version"] == 4
    assert dedicated["bandwidth"] == {
        "size": 5,
        "share_type": "PER",
        "charge_mode": "traffic",
        "name": "batchip-dedicated-dev",
    }

    shared_ips = run.outputs["shared_public_ips"]
    dedicated_ips = run.outputs["dedicated_public_ips"]
    assert len(shared_ips) == 4
    assert len(dedicated_ips) == 2
    recordset = run.one(HW_RECORDSET, "shared-a")
    assert recordset["records"] == shared_ips
    assert recordset["type"] == "A"
    assert recordset["zoneId"] == "ff8080825b8fc86c015b94bc6f8712c3"
    assert recordset["name"] == "api.example.com."
    association = run.one(HW_EIP_ASSOCIATE, "dedicated-0-port")
    assert association["publicIp"] == dedicated_ips[0]
    assert association["portId"] == "7a1e1b6f-port"

    assert run.outputs["shared_bandwidth_id"] == "5b0c5a43-bw-shared"
    assert run.outputs["shared_eip_ids"] == [f"shared-eips-eip-{n}" for n in range(4)]
    assert run.outputs["dedicated_eip_ids"] == ["dedicated-eips-eip-0", "dedicated-eips-eip-1"]
    assert run.outputs["dedicated_bandwidth_ids"] == [
        "dedicated-eips-bw-0",
        "dedicated-eips-bw-1",
    ]
    assert run.outputs["bound_public_ip"] == dedicated_ips[0]


def test_huawei_shared_bandwidth_minimal_config() -> None:
    run = run_example("huawei-shared-bandwidth")
    assert run.one(HW_BANDWIDTH)["size"] == 5
    assert run.one(EIP_BATCH, "shared-eips")["count"] == 2
    assert run.one(EIP_BATCH, "dedicated-eips")["count"] == 2
    # DNS and the port binding are opt-in.
    assert run.of_type(HW_RECORDSET) == []
    assert run.of_type(HW_EIP_ASSOCIATE) == []
    assert "bound_public_ip" not in run.outputs


def test_huawei_dns_zone_needs_a_name() -> None:
    with pytest.raises(Exception, match="dnsName"):
        run_example("huawei-shared-bandwidth", {"dnsZoneId": "z"})
