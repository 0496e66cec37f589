"""SecondaryIpSet against the cloud's own spelling of IPv6 addresses (spelled out, upper
case): read, updated, deleted and adopted as the same addresses, old state too."""

from __future__ import annotations

import ipaddress
from typing import Any

from pulumi_batchip.emulator import RunningEmulator

from ..conftest import Admin
from .secondary_ip_support import (
    INSTANCE,
    V6_SUBNET,
    Rewriting,
    checked,
    in_process,
    outside_client,
    secondary,
)


# -- the cloud's spelling of IPv6 addresses ----------------------------------------------
def spelled_out(address: str) -> str:
    return ipaddress.ip_address(address).exploded.upper()


def loud_ipv6(body: dict[str, Any]) -> dict[str, Any]:
    """GetInstance and batchAddIp answers with IPv6 spelled out in upper case."""
    nic = body.get("instance", {}).get("nicInfo")
    if nic is not None:
        for entry in nic.get("ipv6s", []):
            entry["privateIp"] = spelled_out(entry["privateIp"])
    if isinstance(body.get("privateIps"), list):
        body["privateIps"] = [spelled_out(a) if ":" in a else a for a in body["privateIps"]]
    return body


def test_ipv6_spelled_out_by_the_cloud_is_read_updated_and_deleted(
    emulator: RunningEmulator, admin: Admin
) -> None:
    transport = Rewriting(answer=loud_ipv6)
    provider = in_process(emulator, transport)
    created = provider.create(checked(count=3, ipv6=True))
    owned = created.outs["private_ips"]
    assert owned == secondary(admin, "ipv6")
    assert all(a == ipaddress.ip_address(a).compressed for a in owned)

    read = provider.read(created.id, dict(created.outs))
    assert read.id == created.id  # not dropped as gone
    assert read.outs["private_ips"] == owned

    updated = provider.update(created.id, dict(created.outs), checked(count=1, ipv6=True))
    assert updated.outs["private_ips"] == owned[:1]
    assert secondary(admin, "ipv6") == owned[:1]

    provider.delete(created.id, dict(updated.outs))
    assert secondary(admin, "ipv6") == []
    deletes = [body for path, body in transport.sent if path.endswith("batchDelIp")]
    # Sent back as the cloud spells them.
    assert deletes[-1]["privateIps"] == [spelled_out(owned[0])]


def test_ipv6_adoption_matches_the_clouds_spelling(emulator: RunningEmulator, admin: Admin) -> None:
    wanted = [f"{V6_SUBNET}2f", f"{V6_SUBNET}30"]
    outsider = outside_client(emulator)
    outsider.batch_add_ip(INSTANCE, client_token="left", private_ips=wanted[:1], ipv6=True)
    outsider.close()
    provider = in_process(emulator, Rewriting(answer=loud_ipv6))
    created = provider.create(checked(private_ips=wanted, ipv6=True, adopt=True))
    assert created.outs["private_ips"] == wanted
    assert secondary(admin, "ipv6") == wanted
    provider.delete(created.id, dict(created.outs))
    assert secondary(admin, "ipv6") == []


def test_old_state_spelled_out_is_still_owned(emulator: RunningEmulator, admin: Admin) -> None:
    provider = in_process(emulator)
    created = provider.create(checked(count=2, ipv6=True))
    old = {
        "instance_id": INSTANCE,
        "private_ips": [spelled_out(a) for a in created.outs["private_ips"]],
        "count": 2,
    }
    read = provider.read(created.id, dict(old))
    assert read.outs["private_ips"] == created.outs["private_ips"]
    assert read.outs["ipv6"] is True
    provider.delete(created.id, old)
    assert secondary(admin, "ipv6") == []
