"""A SecondaryIpSet's state: what an operation is asked for (``Desired``), the
outputs it writes (``outputs_of``) and the layouts older versions wrote
(``migrate_state``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .._provider import coerce_int
from ..errors import BatchIpError
from ..secondary_ip_inputs import DEFAULTS, brief
from .bcc import canonical_address
from .secrecy import HIDDEN_FLAG

# The outputs carry the version of their own layout, so state written by any version
# can be brought to this one before it is used (migrate_state). Not an input name, not
# a Pulumi-reserved one (those start with "__"). Bump it, and teach migrate_state the
# step, whenever an output is added, renamed or changes meaning.
SCHEMA_KEY = "schema_version"
SCHEMA_VERSION = 2
# Tells apart sets that own the same addresses (so share an id); chosen in check.
OWNER_KEY = "owner_key"


@attrs.frozen
class Desired:
    """What one operation on a set is asked for, from its inputs or migrated state."""

    instance_id: str
    ipv6: bool
    reboot: bool
    region: str | None
    private_ips: tuple[str, ...] | None
    count: int | None
    secret: bool = False  # private_ips was a secret input (secrecy.py)
    owner: str | None = None  # this set among sets of the same addresses (OWNER_KEY)

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> Desired:
        ips = props.get("private_ips")
        count = props.get("count")
        return cls(
            instance_id=str(props["instance_id"]),
            ipv6=bool(props.get("ipv6", DEFAULTS["ipv6"])),
            reboot=bool(props.get("reboot", DEFAULTS["reboot"])),
            region=props.get("region") or None,
            private_ips=tuple(canonical_address(str(a)) for a in ips) if ips is not None else None,
            count=coerce_int(count) if count is not None else None,
            secret=props.get(HIDDEN_FLAG) is True,
            owner=props[OWNER_KEY] if isinstance(props.get(OWNER_KEY), str) else None,
        )


def outputs_of(desired: Desired, region: str, owned: Sequence[str]) -> dict[str, Any]:
    """The outputs of a set that owns ``owned`` (in the order they were added)."""
    outs: dict[str, Any] = {
        "instance_id": desired.instance_id,
        "private_ips": list(owned),
        "ipv6": desired.ipv6,
        "reboot": desired.reboot,
        "region": region,
        SCHEMA_KEY: SCHEMA_VERSION,
    }
    if desired.count is not None:
        outs["count"] = desired.count
    if desired.secret:
        outs[HIDDEN_FLAG] = True
    if desired.owner:
        outs[OWNER_KEY] = desired.owner
    return outs


def migrate_state(state: Mapping[str, Any], default_region: str | None = None) -> dict[str, Any]:
    """Outputs as any version of this package wrote them, in this version's layout.

    Version 0 (no ``schema_version``): older code could leave out ``ipv6``, ``reboot``
    and ``region`` and wrote addresses as it got them. The flags get the declared
    defaults (secondary_ip_inputs.DECLARATION), except that a set whose addresses are
    IPv6 is an IPv6 set; a missing region is the configured one, which is what that
    code used; addresses get their canonical spelling; ``count`` an int. Version 1 had
    no ``secret_addresses``: its sets are not secret (the output is kept only when
    true). A newer layout than this code knows is refused rather than guessed at."""
    raw_version = state.get(SCHEMA_KEY)
    version = 0 if raw_version is None else coerce_int(raw_version)
    if version is None or not 0 <= version <= SCHEMA_VERSION:
        raise BatchIpError(
            f"SecondaryIpSet state has {SCHEMA_KEY} {brief(raw_version)}, but this "
            f"pulumi-batchip reads up to {SCHEMA_VERSION}: upgrade pulumi-batchip (the state "
            "was written by a newer version)"
        )
    migrated = dict(state)
    owned = [canonical_address(a) for a in state.get("private_ips") or () if isinstance(a, str)]
    migrated["private_ips"] = list(dict.fromkeys(owned))
    if isinstance(state.get("instance_id"), str):
        migrated["instance_id"] = state["instance_id"].strip()
    for flag in ("ipv6", "reboot"):
        if not isinstance(state.get(flag), bool):
            migrated[flag] = DEFAULTS[flag]
    if not isinstance(state.get("ipv6"), bool) and any(":" in a for a in owned):
        migrated["ipv6"] = True
    region = state.get("region")
    if isinstance(region, str) and region.strip():
        migrated["region"] = region.strip()
    elif default_region:
        migrated["region"] = default_region
    else:
        migrated.pop("region", None)
    if "count" in state:
        count = coerce_int(state.get("count"))
        if count is None:
            del migrated["count"]
        else:
            migrated["count"] = count
    if migrated.get(HIDDEN_FLAG) is not True:
        migrated.pop(HIDDEN_FLAG, None)  # its default, False, is left out (omit_default)
    migrated[SCHEMA_KEY] = SCHEMA_VERSION
    return migrated
