"""pulumi-batchip quickstart: both resources against the local emulator, their outputs
fed into another resource (an nginx configuration file) and into stack outputs.

Run it with ``bash scripts/demo.sh`` from the repository root, or see README.md.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

import pulumi_batchip as batchip

config = pulumi.Config()
# The emulator's default VM; any instance id works against a real Baidu account.
instance_id = config.get("instanceId") or "i-DhjUXmSA"
# Where the nginx snippet is written (absolute, so every Pulumi process agrees).
nginx_conf = os.path.abspath(config.get("nginxConf") or "ingress-nginx.conf")

# Two secondary private IPv4 addresses on the VM's primary NIC, allocated by BCC.
app_ips = batchip.SecondaryIpSet(
    "app-ips",
    instance_id=instance_id,
    count=2,
)

# Three Huawei EIPs, each with its own (PER) 5 Mbit/s bandwidth, created in one batch.
edge = batchip.EipBatch(
    "edge",
    count=3,
    publicip_type="5_bgp",
    ip_version=4,
    bandwidth=batchip.BandwidthArgs(
        size=5, share_type="PER", charge_mode="bandwidth", name="quickstart-edge"
    ),
    tags={"env": "quickstart"},
)


def render_nginx(private_ips: list[str], public_ips: list[str]) -> str:
    """An nginx snippet: the app's private addresses as the upstream, the EIPs as the
    only clients allowed in (e.g. the load balancers that own them)."""
    lines = ["# Managed by Pulumi (batchip-quickstart): do not edit.", "upstream app {"]
    lines += [f"    server {ip}:8080;" for ip in private_ips]
    lines += ["}", "geo $from_edge {", "    default 0;"]
    lines += [f"    {ip} 1;" for ip in public_ips]
    lines += ["}", ""]
    return "\n".join(lines)


class ConfigFileProvider(ResourceProvider):
    """A local file as a resource: written on create and update, removed on delete.
    Small on purpose; it stands for whatever consumes the addresses (a load balancer,
    DNS, a firewall) and needs no provider plugin."""

    def _write(self, props: dict[str, Any]) -> dict[str, Any]:
        with open(props["path"], "w", encoding="utf-8") as f:
            f.write(props["content"])
        return {"path": props["path"], "content": props["content"]}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=props["path"], outs=self._write(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # A new path is another file: write it, then remove the old one (replace).
        changed = [k for k in ("path", "content") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[k for k in changed if k == "path"])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._write(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(props["path"])


class ConfigFile(pulumi.dynamic.Resource):
    path: pulumi.Output[str]
    content: pulumi.Output[str]

    def __init__(self, name: str, path: str, content: pulumi.Input[str]) -> None:
        super().__init__(ConfigFileProvider(), name, {"path": path, "content": content})


# Our outputs feed another resource: the file changes whenever an address changes.
ingress = ConfigFile(
    "ingress-nginx",
    path=nginx_conf,
    content=pulumi.Output.all(app_ips.private_ips, edge.public_ips).apply(
        lambda lists: render_nginx(lists[0], lists[1])
    ),
)

pulumi.export("private_ips", app_ips.private_ips)
pulumi.export("eip_ids", edge.eip_ids)
pulumi.export("public_ips", edge.public_ips)
pulumi.export("bandwidth_ids", edge.bandwidth_ids)
pulumi.export("nginx_conf", ingress.path)
