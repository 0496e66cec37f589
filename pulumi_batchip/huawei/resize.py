"""An update of a batch: resize its dedicated bandwidths, retag it, then grow it or
release its newest. Reversible steps first, the irreversible release last; if a later
step fails, the reversible ones are undone, so cloud and state agree."""

from __future__ import annotations

from collections.abc import Callable

from .._provider import named_list
from ..errors import AuthError, BatchIpError
from .adoption import own
from .batch_create import create, created
from .cleanup import fail_with_cleanup
from .desired import Desired
from .eip import PublicIp
from .members import ordered, stopped
from .ownership import BATCH_TAG_KEY
from .release import delete
from .session import EipBatchError, EipSession


def update_batch(
    ops: EipSession, old: Desired, new: Desired, previous: list[str], *, operation: str
) -> list[PublicIp]:
    """Bring the batch (``previous``: the ids the state lists) from ``old`` to ``new``;
    returns its EIPs as they are after."""
    batch_id = new.batch_id
    tagged = ops.find_ids(batch_id)
    members = tagged + [i for i in previous if i not in set(tagged)]
    with stopped(batch_id, "Nothing was changed."):
        existing = ordered(own(ops, batch_id, ops.details(members)), previous)
    # What the list shows carrying the batch tag counts too: a tag query that
    # answered short (a caller without rights) must not shrink the grow's base.
    tagged += [
        e.id for e in existing if e.tags.get(BATCH_TAG_KEY) == batch_id and e.id not in set(tagged)
    ]
    wanted = new.count
    doomed = existing[wanted:]
    if bound := [e for e in doomed if e.port_id]:
        listing = ", ".join(f"{e.id} ({e.address}, port {e.port_id})" for e in bound)
        raise BatchIpError(
            f"EipBatch {batch_id}: count {len(existing)} -> {wanted} would release "
            f"{len(bound)} bound EIP(s): {listing}. Unbind them first (or keep the "
            "count); nothing was changed."
        )
    undo: list[tuple[str, Callable[[], object]]] = []
    try:
        if resize(ops, existing, old, new):
            ids = [e.id for e in existing]
            undo.append(("bandwidth sizes", lambda: resize(ops, ops.details(ids), new, old)))
        if old.user_tags != new.user_tags:
            retag(ops, existing, old.user_tags, new.user_tags)
            before = list(existing)
            undo.append(("tags", lambda: retag(ops, before, new.user_tags, old.user_tags)))
        if wanted > len(existing):
            existing = grow(ops, new, existing, tagged=tagged, operation=operation)
        elif doomed:
            release_newest(ops, batch_id, doomed)
            existing = existing[:wanted]
    except BatchIpError as exc:
        if not undo:
            raise
        raise BatchIpError(undone(str(exc), undo)) from exc
    if undo:  # read back the new sizes and tags
        existing = ops.details([e.id for e in existing])
    return existing


def release_newest(ops: EipSession, batch_id: str, doomed: list[PublicIp]) -> None:
    listed = named_list([f"{e.address or '-'} ({e.id})" for e in doomed], first=3)
    ops.say(f"EipBatch {batch_id}: releasing the {len(doomed)} newest EIPs: {listed}")
    try:
        delete(ops, [e.id for e in doomed])
    except BatchIpError as exc:
        try:
            left = len(ops.details([e.id for e in doomed]))
            released = f"{len(doomed) - left} of the {len(doomed)} EIPs were released"
        except BatchIpError:
            released = "how many of them were released is unknown"
        raise BatchIpError(
            f"EipBatch {batch_id}: releasing {len(doomed)} EIPs failed: {exc}. "
            f"{released}; the state still lists all of them until `pulumi refresh`."
        ) from exc


def grow(
    ops: EipSession,
    desired: Desired,
    existing: list[PublicIp],
    *,
    tagged: list[str],
    operation: str,
) -> list[PublicIp]:
    """Add EIPs into the batch up to ``desired.count``; ``tagged``: what carries its tag
    now (those being deleted, not in ``existing``, are not counted)."""
    batch_id = desired.batch_id
    keep = [e.id for e in existing]
    leaving = [i for i in tagged if i not in set(keep)]
    request = desired.request(desired.count - len(existing))
    ops.say(f"EipBatch {batch_id}: adding {request.count} EIPs")
    try:
        ids = create(ops, request, batch_id, base=len(tagged) - len(leaving), ignore=leaving)
        added = [i for i in ids if i not in set(keep)]
        return ordered(created(ops, keep + added, new=added), keep)
    except BatchIpError as exc:
        raise fail_with_cleanup(ops, batch_id, exc, keep=keep, operation=operation) from exc


def resize(ops: EipSession, eips: list[PublicIp], old: Desired, new: Desired) -> bool:
    """A new size for dedicated bandwidths: resize each in place; True if any was.
    A shared (WHOLE) bandwidth's size belongs to whoever manages it: nothing to do."""
    size = new.bandwidth.get("size")
    if (
        new.bandwidth.get("share_type", "PER") != "PER"
        or size is None
        or size == old.bandwidth.get("size")
    ):
        return False
    names = {e.bandwidth_id: e.bandwidth_name for e in eips if e.bandwidth_id}
    todo = sorted({e.bandwidth_id for e in eips if e.bandwidth_id and e.bandwidth_size != size})
    charge = str(new.bandwidth.get("charge_mode") or "bandwidth")
    ops.say(f"resizing {len(todo)} dedicated bandwidths to {int(size)} Mbit/s")
    ops.map(
        lambda bw_id: ops.client.update_bandwidth_size(
            bw_id, int(size), charge_mode=charge, name=names.get(bw_id)
        ),
        todo,
    )
    return bool(todo)


def retag(ops: EipSession, eips: list[PublicIp], old: dict[str, str], new: dict[str, str]) -> None:
    removed = {k: v for k, v in old.items() if k not in new}
    added = {k: v for k, v in new.items() if old.get(k) != v}
    changes = [f"{k}={v}" for k, v in sorted(added.items())]
    changes += [f"removing {k}" for k in sorted(removed)]
    ops.say(f"retagging {len(eips)} EIPs: {named_list(changes)}")

    def one(eip: PublicIp) -> None:
        if removed:
            ops.client.delete_tags(eip.id, removed)
        if added:
            ops.client.create_tags(eip.id, added)

    try:
        ops.map(one, eips)  # threads that see the operation's deadline
    except AuthError as exc:
        if exc.status != 403:
            raise
        raise EipBatchError(
            f"changing the tags was refused: {exc}. Huawei's tag APIs do not accept "
            "rights granted through an enterprise project: grant the EIP tag "
            "permissions on the project, or leave `tags` as they were."
        ) from exc


def undone(failure: str, undo: list[tuple[str, Callable[[], object]]]) -> str:
    """Undo the reversible steps after a later one failed; say what is true after."""
    restored, failed = [], []
    for what, step in reversed(undo):
        try:
            step()
            restored.append(what)
        except BatchIpError as exc:
            failed.append(f"{what} ({exc})")
    text = failure.rstrip(". ")
    if restored:
        text += f". Restored the {' and '.join(restored)} changed before it"
    if failed:
        text += (
            f". Restoring the {'; '.join(failed)} failed too: those are changed in the "
            "cloud and not in the state; `pulumi refresh` then `pulumi up` sets them again"
        )
    return text + "."
