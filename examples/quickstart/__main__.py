"""pulumi-batchip quickstart: both resources against the local emulator, their outputs
fed into another provider's resources (pulumi-random) and into stack outputs.

Run it with ``bash scripts/demo.sh`` from the repository root, or see README.md.
"""

import pulumi
import pulumi_random as random

import pulumi_batchip as batchip

config = pulumi.Config()
# The emulator's default VM; any instance id works against a real Baidu account.
instance_id = config.get("instanceId") or "i-DhjUXmSA"

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

# Another provider consumes our outputs: pick one public IP as the ingress address.
# RandomShuffle is stable across runs while its inputs stay the same.
ingress = random.RandomShuffle(
    "ingress-pick",
    inputs=edge.public_ips,
    result_count=1,
)

# A readable deployment name that changes whenever any of the addresses change.
addresses = pulumi.Output.all(app_ips.private_ips, edge.public_ips).apply(
    lambda lists: ",".join(lists[0] + lists[1])
)
deployment = random.RandomPet(
    "deployment-name",
    keepers={"addresses": addresses},
    length=2,
)

pulumi.export("private_ips", app_ips.private_ips)
pulumi.export("eip_ids", edge.eip_ids)
pulumi.export("public_ips", edge.public_ips)
pulumi.export("bandwidth_ids", edge.bandwidth_ids)
pulumi.export("ingress_ip", ingress.results.apply(lambda picked: picked[0]))
pulumi.export("deployment_name", deployment.id)
