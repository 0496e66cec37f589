"""Huawei Cloud EIPs in batches: some inside a shared bandwidth, some with their own.

- ``huaweicloud.vpc.Bandwidth``: a shared bandwidth, billed by bandwidth;
- ``EipBatch`` "shared-eips": ``sharedCount`` EIPs created inside it
  (``share_type="WHOLE"`` with the bandwidth's id, so Pulumi creates the bandwidth
  first and deletes it last);
- ``EipBatch`` "dedicated-eips": ``dedicatedCount`` IPv4 EIPs, each with its own
  traffic-billed bandwidth;
- optionally, a Huawei DNS ``A`` record set listing the shared EIPs (``dnsZoneId`` and
  ``dnsName``) and the first dedicated EIP bound to a port (``portId``).
"""

import pulumi
import pulumi_huaweicloud as huaweicloud

import pulumi_batchip as batchip

config = pulumi.Config()
shared_count = config.get_int("sharedCount") or 2
dedicated_count = config.get_int("dedicatedCount") or 2
shared_size = config.get_int("sharedBandwidthSize") or 5
dedicated_size = config.get_int("dedicatedBandwidthSize") or 5
dns_zone_id = config.get("dnsZoneId")
port_id = config.get("portId")
tags = {"example": "shared-bandwidth", "stack": pulumi.get_stack()}

shared_bandwidth = huaweicloud.vpc.Bandwidth(
    "shared-bw",
    name=f"batchip-shared-{pulumi.get_stack()}",
    size=shared_size,
    charge_mode="bandwidth",
)

shared = batchip.EipBatch(
    "shared-eips",
    count=shared_count,
    publicip_type="5_bgp",
    ip_version=4,
    bandwidth=batchip.BandwidthArgs(share_type="WHOLE", id=shared_bandwidth.id),
    tags=tags,
)

dedicated = batchip.EipBatch(
    "dedicated-eips",
    count=dedicated_count,
    publicip_type="5_bgp",
    ip_version=4,
    bandwidth=batchip.BandwidthArgs(
        size=dedicated_size,
        share_type="PER",
        charge_mode="traffic",
        name=f"batchip-dedicated-{pulumi.get_stack()}",
    ),
    tags=tags,
)

if dns_zone_id:
    # One A record set, round-robin over every EIP of the shared bandwidth.
    huaweicloud.dns.Recordset(
        "shared-a",
        zone_id=dns_zone_id,
        name=config.require("dnsName"),  # a full name ending with a dot: "api.example.com."
        type="A",
        records=shared.public_ips,
        ttl=300,
        description="EIPs of a pulumi-batchip EipBatch in a shared bandwidth",
    )

if port_id:
    # Bind the first dedicated EIP to an existing port (e.g. an ECS NIC). Pulumi
    # deletes this association before the batch, so `destroy` works.
    association = huaweicloud.vpc.EipAssociate(
        "dedicated-0-port",
        public_ip=dedicated.public_ips.apply(lambda addresses: addresses[0]),
        port_id=port_id,
    )
    pulumi.export("bound_public_ip", association.public_ip)

pulumi.export("shared_bandwidth_id", shared_bandwidth.id)
pulumi.export("shared_eip_ids", shared.eip_ids)
pulumi.export("shared_public_ips", shared.public_ips)
pulumi.export("dedicated_eip_ids", dedicated.eip_ids)
pulumi.export("dedicated_public_ips", dedicated.public_ips)
pulumi.export("dedicated_bandwidth_ids", dedicated.bandwidth_ids)
