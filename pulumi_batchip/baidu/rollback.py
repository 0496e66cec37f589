"""Removing again what an add put on a NIC, and the texts that say what came of it.

The per-address lists in messages are bounded (MAX_LISTED, as many as an ENI holds):
errors travel in gRPC metadata, limited to a few KiB. On a secret set every list is
a count instead (secrecy.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import attrs

from ..errors import BatchIpError, NotFoundError
from . import secrecy
from .bcc import BccClient

MAX_LISTED = 40  # the progress line on stderr names every address, however many
MAX_NESTED_ERROR = 600


def listed(addresses: Sequence[str]) -> str:
    if secrecy.hiding():
        return secrecy.named(addresses)
    shown = ", ".join(addresses[:MAX_LISTED])
    more = len(addresses) - MAX_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def error_text(exc: BaseException) -> str:
    text = str(exc)
    if len(text) <= MAX_NESTED_ERROR:
        return text
    return f"{text[:MAX_NESTED_ERROR]}... ({len(text)} characters)"


@attrs.frozen
class RollBack:
    """What removing addresses again achieved, as far as it could be verified."""

    removed: tuple[str, ...]
    remaining: tuple[str, ...]  # still on the NIC, or not known to be gone (verified False)
    verified: bool  # remaining was read back from the NIC (or the delete was answered)
    problem: str = ""  # why not all were removed

    def describe(self, instance_id: str, ipv6: bool) -> str:
        if not self.remaining:
            return f"removed again ({listed(self.removed)}): none of them is left on the VM"
        parts = []
        which = "them"
        if self.removed:
            parts.append(f"removed again: {listed(self.removed)}")
            which = "the others"
        if self.verified:
            parts.append(
                f"removing {which} again failed ({self.problem}); still on VM {instance_id} "
                f"(read back from its NIC): {listed(self.remaining)}"
            )
        else:
            parts.append(
                f"removing {which} again failed and the VM could not be read back "
                f"({self.problem}): assume these are still on VM {instance_id}: "
                f"{listed(self.remaining)}"
            )
        given = repr(list(self.remaining)) if len(self.remaining) <= 8 else "[the addresses above]"
        if secrecy.hiding():
            given = f"[those {len(self.remaining)}]"
        family = ", ipv6=True" if ipv6 else ""
        parts.append(
            "they belong to no resource in any Pulumi state (`pulumi refresh` cannot find "
            "them): remove them by hand (BCC batchDelIp), or claim them with "
            f"SecondaryIpSet(..., instance_id={instance_id!r}, private_ips={given}{family}, "
            "adopt=True); then run `pulumi up` again"
        )
        return "; ".join(parts)


def roll_back(
    client: BccClient,
    instance_id: str,
    ipv6: bool,
    addresses: Sequence[str],
    spelled: Sequence[str] | None = None,
) -> RollBack:
    """batchDelIp of ``addresses`` (canonical; sent as ``spelled``, the cloud's
    spelling, when given); when that fails, read the NIC to see what is left and try
    once more with what is left, as the cloud spells it."""
    left = list(addresses)
    sent = list(spelled) if spelled is not None else list(addresses)
    problem = ""
    for _attempt in range(2):
        try:
            client.batch_del_ip(instance_id, sent, client_token=token())
        except BatchIpError as exc:
            problem = error_text(exc)
        else:
            return RollBack(tuple(addresses), (), True)
        try:
            instance = client.get_instance(instance_id)
        except NotFoundError:
            return RollBack(tuple(addresses), (), True)  # the VM is gone, with them
        except BatchIpError as read_exc:
            removed = tuple(a for a in addresses if a not in left)
            problem = f"{problem}; reading the NIC: {error_text(read_exc)}"
            return RollBack(removed, tuple(left), False, problem)
        present = set(instance.secondary_addresses(ipv6=ipv6))
        left = [a for a in left if a in present]
        if not left:
            return RollBack(tuple(addresses), (), True)
        sent = instance.cloud_text(left, ipv6=ipv6)
    removed = tuple(a for a in addresses if a not in left)
    return RollBack(removed, tuple(left), True, problem)


def token() -> str:
    # One token per operation, reused by every retry of that call (docs/design.md §3).
    return str(uuid.uuid4())
