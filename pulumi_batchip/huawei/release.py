"""Releasing EIPs: delete them (already gone is fine) and confirm they are gone."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import cast

from ..errors import NotFoundError
from ..resilience import Waiter, WaitTimeout, remaining_time
from .confirm import PERMISSION_HINT, read_by_id, sample
from .eip import MAX_PER_BATCH, PublicIp
from .session import EipBatchError, EipSession

# What a look after a delete finds: the EIPs left, and whether only reads by id found
# them (the list showed none).
_Left = tuple[list[PublicIp], bool]


def delete(ops: EipSession, ids: Sequence[str]) -> None:
    """Release the EIPs (already gone is fine) and confirm they are gone."""
    if not ids:
        return
    groups = [ids[i : i + MAX_PER_BATCH] for i in range(0, len(ids), MAX_PER_BATCH)]
    ops.map(lambda group: _delete_group(ops, group), groups)
    confirm_gone(ops, ids)
    ops.released.update(ids)


def _delete_group(ops: EipSession, ids: Sequence[str]) -> None:
    try:
        ops.client.batch_delete_publicips(ids)
    except NotFoundError:
        # Some are gone already: the batch call is all-or-nothing, so go one by one.
        for publicip_id in ids:
            with contextlib.suppress(NotFoundError):
                ops.client.delete_publicip(publicip_id)


def confirm_gone(ops: EipSession, ids: Sequence[str]) -> None:
    """Wait until none of ``ids`` exists (within the session's timeout and the
    operation's deadline). The list is believed for EIPs some list answer of this
    operation showed (it can see them); the others are read by id (a sample), since a
    caller without rights is answered an empty list."""

    def look() -> _Left:
        left = ops.details(ids, pending_delete=True, said_by=None)
        if left:
            return left, False
        unseen = [i for i in ids if i not in ops.listed]
        left = read_by_id(ops.client, sample(unseen), run=ops.map) if unseen else []
        return left, bool(left)

    left_time = remaining_time(ops.clock)
    limit = ops.timeout if left_time is None else max(0.0, min(ops.timeout, left_time))
    waiter: Waiter[_Left] = Waiter(
        look,
        target=lambda state: not state[0],
        timeout=ops.timeout,
        what="EIPs released",
        describe=lambda state: f"{len(state[0])} left",
        clock=ops.clock,
        sleep=ops.sleep,
    )
    try:
        waiter.wait()
    except WaitTimeout as exc:
        left, by_id_only = cast(_Left, exc.last)
        listing = ", ".join(e.id for e in left[:10])
        if by_id_only:
            raise EipBatchError(
                f"{len(left)} EIPs still exist by id {limit:.0f} s after their "
                f"delete although the EIP list shows none: {listing}. {PERMISSION_HINT}."
            ) from exc
        raise EipBatchError(
            f"{len(left)} EIPs still exist {limit:.0f} s after their delete: {listing}"
        ) from exc
