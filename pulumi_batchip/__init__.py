"""pulumi-batchip: Pulumi dynamic resources that manage IP addresses in batches.

- :class:`SecondaryIpSet`: secondary private addresses on a Baidu BCC VM's primary NIC;
- :class:`EipBatch`: N Huawei Cloud elastic IPs with their bandwidth.
"""

from __future__ import annotations

from .eip_batch import BandwidthArgs, EipBatch
from .secondary_ip_set import SecondaryIpSet

__version__ = "0.1.0.dev0"

__all__ = ["BandwidthArgs", "EipBatch", "SecondaryIpSet", "__version__"]
