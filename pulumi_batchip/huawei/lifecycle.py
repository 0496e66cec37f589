"""The one call behind each Pulumi operation of EipBatch: create (or adopt), read,
update (``resize.update_batch``) and delete a batch. Nothing here knows Pulumi: the
provider builds a ``Desired`` and turns what comes back into outputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from ..errors import BatchIpError
from ..resilience import operation_deadline
from .adoption import create_adopting, own, without_spent_adoption
from .batch_create import PURGE_SECONDS, create, created
from .cleanup import fail_with_cleanup
from .desired import Desired
from .eip import PublicIp
from .members import batch_members, ordered, stopped
from .ownership import ADOPTED_KEYS
from .release import delete
from .resize import update_batch as _update_batch
from .session import EipSession

# One call's whole retry budget (http.RetryPolicy.max_total_seconds): the least an
# operation's deadline leaves, however short ``batchip:eipJobTimeout`` is set.
ONE_CALL_SECONDS = 180.0


def _deadline(ops: EipSession, waits: int) -> float:
    """An operation's deadline: ``waits`` job-length waits (each at least one call's
    retry budget) and time to delete after a failure. A create sets its own inside
    (its jobs' deadline, ``batch_create.create``); cleanup gets its own time."""
    return ops.clock() + waits * max(ops.timeout, ONE_CALL_SECONDS) + PURGE_SECONDS


@attrs.frozen
class Created:
    """A created batch's EIPs, and what its create adopted by (recorded in its outputs:
    such inputs never act again)."""

    eips: list[PublicIp]
    adopted: dict[str, Any] = attrs.field(factory=dict)


def create_batch(ops: EipSession, desired: Desired, *, operation: str) -> Created:
    """A new batch of ``desired.count`` EIPs, created or adopted; a failed create is
    cleaned up and the error says what is left."""
    desired = without_spent_adoption(desired, ops.say)
    if desired.adopting:
        eips = create_adopting(ops, desired, operation=operation)
        adopted = {
            ADOPTED_KEYS[0]: desired.adopt_batch_id,
            ADOPTED_KEYS[1]: list(desired.adopt_eip_ids),
        }
        return Created(eips, adopted)
    batch_id = desired.batch_id
    request = desired.request(desired.count)
    ops.say(f"EipBatch {batch_id}: creating {request.count} EIPs")
    try:
        ids = create(ops, request, batch_id, base=0)
        eips = created(ops, ids, new=ids)
    except BatchIpError as exc:
        raise fail_with_cleanup(ops, batch_id, exc, operation=operation) from exc
    return Created(ordered(eips, []))


def read_batch(ops: EipSession, batch_id: str, known: Sequence[str]) -> list[PublicIp]:
    """The batch's EIPs as they are (``known``: the ids the state lists)."""
    with operation_deadline(_deadline(ops, 1)):
        ids = batch_members(ops, batch_id, known)
        with stopped(batch_id, "The batch stays in the state as it was."):
            return ordered(own(ops, batch_id, ops.details(ids)), known)


def update_batch(
    ops: EipSession, old: Desired, new: Desired, previous: list[str], *, operation: str
) -> list[PublicIp]:
    """Bring the batch from ``old`` to ``new`` (resize.update_batch) under a deadline
    with room for a grow's jobs and a release's confirmation."""
    with operation_deadline(_deadline(ops, 2)):
        return _update_batch(ops, old, new, previous, operation=operation)


def delete_batch(ops: EipSession, batch_id: str, known: Sequence[str]) -> None:
    """Release every EIP of the batch and confirm they are gone; refused while any is
    bound."""
    with operation_deadline(_deadline(ops, 1)):
        _delete_batch(ops, batch_id, known)


def _delete_batch(ops: EipSession, batch_id: str, known: Sequence[str]) -> None:
    with stopped(batch_id, "Nothing was released; the batch stays in the state."):
        eips = own(ops, batch_id, ops.details(batch_members(ops, batch_id, known)))
    bound = [e for e in eips if e.port_id]
    if bound:
        listing = ", ".join(f"{e.id} ({e.address}, port {e.port_id})" for e in bound)
        raise BatchIpError(
            f"EipBatch {batch_id}: refusing to delete while {len(bound)} EIP(s) are bound: "
            f"{listing}. Unbind them (or delete what uses them) first; nothing was deleted."
        )
    ops.say(f"EipBatch {batch_id}: releasing {len(eips)} EIPs")
    delete(ops, [e.id for e in eips])
