"""A batch's members: who they are (the batch tag and the state) and their order."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterator, Sequence

from .confirm import ListContradiction
from .eip import PublicIp
from .session import EipSession


def ordered(eips: list[PublicIp], previous: Sequence[str]) -> list[PublicIp]:
    """Stable order: EIPs already in state keep their place, new ones follow by
    creation time, then address in numeric order (100.64.0.2 before 100.64.0.10)."""
    rank = {eip_id: n for n, eip_id in enumerate(previous)}
    known = sorted((e for e in eips if e.id in rank), key=lambda e: rank[e.id])
    new = sorted(
        (e for e in eips if e.id not in rank),
        key=lambda e: (e.create_time or "", _address_key(e.address), e.id),
    )
    return known + new


def _address_key(address: str | None) -> tuple[int, int]:
    """Numeric order of addresses (IPv4 before IPv6); none, or not an address, last."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return (7, 0)
    return (parsed.version, int(parsed))


def batch_members(ops: EipSession, batch_id: str, known: Sequence[str]) -> list[str]:
    """The batch tag's EIPs plus those the state lists (``known``): an EIP whose tags
    someone removed is still ours to keep track of and to delete."""
    ids = ops.find_ids(batch_id)
    return ids + [i for i in known if i not in set(ids)]


@contextlib.contextmanager
def stopped(batch_id: str, outcome: str) -> Iterator[None]:
    """A list that contradicts a read by id stops the operation; say what is true after."""
    try:
        yield
    except ListContradiction as exc:
        raise ListContradiction(f"EipBatch {batch_id}: {exc} {outcome}") from exc
