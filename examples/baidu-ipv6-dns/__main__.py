"""IPv6 secondary addresses on a Baidu BCC VM, published as Cloudflare AAAA records.

One SecondaryIpSet allocates ``count`` IPv6 addresses on the VM's primary NIC and
reboots the VM so they take effect; one Cloudflare AAAA record per address then
points ``recordName`` at them (round-robin DNS). The number of records is fixed by
config, so every record is a plain resource known at preview time, each taking its
address from the set's output list by index.
"""

import pulumi
import pulumi_cloudflare as cloudflare

import pulumi_batchip as batchip

config = pulumi.Config()
instance_id = config.require("instanceId")
count = config.get_int("count") or 2
zone_id = config.require("cloudflareZoneId")
record_name = config.get("recordName") or "www"
ttl = config.get_int("ttl") or 300
if count < 1:
    raise ValueError(f"config count must be at least 1, not {count}")

web_v6 = batchip.SecondaryIpSet(
    "web-v6",
    instance_id=instance_id,
    count=count,
    ipv6=True,
    # BCC applies secondary addresses when the VM boots: reboot after each change and
    # wait until it is Running again (the VM is briefly unavailable).
    reboot=True,
)

records = [
    cloudflare.DnsRecord(
        f"web-v6-aaaa-{i}",
        zone_id=zone_id,
        name=record_name,
        type="AAAA",
        content=web_v6.private_ips.apply(lambda addresses, i=i: addresses[i]),
        ttl=ttl,
        proxied=False,
        comment="IPv6 secondary address managed by pulumi-batchip",
    )
    for i in range(count)
]

pulumi.export("instance_id", web_v6.instance_id)
pulumi.export("ipv6_addresses", web_v6.private_ips)
pulumi.export("record_ids", [record.id for record in records])
pulumi.export("record_name", record_name)
