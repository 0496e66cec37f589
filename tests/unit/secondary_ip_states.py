"""SecondaryIpSet state the unit tests share."""

from __future__ import annotations

from pulumi_batchip.secondary_ip_set import SCHEMA_KEY, SCHEMA_VERSION

# State as today's code writes it.
TODAY = {
    "instance_id": "i-1",
    "private_ips": ["192.168.0.5", "192.168.0.6"],
    "count": 2,
    "ipv6": False,
    "reboot": False,
    "region": "bj",
    SCHEMA_KEY: SCHEMA_VERSION,
}
# The same before the state carried a schema version.
BEFORE_SCHEMA = {k: v for k, v in TODAY.items() if k != SCHEMA_KEY}
