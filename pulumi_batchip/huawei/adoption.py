"""Adoption: existing EIPs become members of a new batch (tagged with it) instead of
being created. Everything is checked before anything changes; a later failure gives
the adopted EIPs their own tags back."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs

from .._provider import named_list
from ..errors import BatchIpError
from .batch_create import create, created
from .cleanup import fail_with_cleanup
from .desired import Desired
from .eip import PublicIp
from .members import ordered
from .ownership import BATCH_TAG_KEY, SEEN, adoption_refusals, taken_by_another
from .release import delete
from .session import EipBatchError, EipSession
from .tags import stack_tag_value


def adoptable(ops: EipSession, desired: Desired) -> list[PublicIp]:
    """The EIPs the adoption inputs name, all checked before anything changes."""
    from_batch: list[str] = []
    if desired.adopt_batch_id:
        from_batch = ops.find_ids(desired.adopt_batch_id)
        if not from_batch:
            raise EipBatchError(
                f"adopt_batch_id: no EIP carries {BATCH_TAG_KEY}*{desired.adopt_batch_id} "
                "(if a batch adopted it already, remove adopt_batch_id from the program: "
                "adoption inputs act on the first create only); nothing was changed"
            )
    named = list(desired.adopt_eip_ids)
    eips = ops.details(
        from_batch + [i for i in named if i not in set(from_batch)],
        said_by="adopt_batch_id / adopt_eip_ids",
    )
    found = {e.id for e in eips}
    if missing := [i for i in named if i not in found]:
        raise EipBatchError(f"adopt_eip_ids: no EIP {', '.join(missing)}; nothing was changed")
    scope = desired.stack_scope
    reasons = adoption_refusals(
        eips,
        stack_tag=stack_tag_value(scope) if scope is not None else None,
        publicip_type=desired.publicip_type,
        ip_version=desired.ip_version,
    )
    if reasons:
        raise EipBatchError(
            f"cannot adopt {len(reasons)} of the {len(eips)} EIPs: {'; '.join(reasons[:5])}"
            f"{f'; and {len(reasons) - 5} more' if len(reasons) > 5 else ''}. Adopt only "
            "what `python -m pulumi_batchip orphans` lists for this stack, or EIPs made "
            "outside pulumi-batchip; nothing was changed"
        )
    return eips


def without_spent_adoption(desired: Desired, say: Callable[[str], None]) -> Desired:
    """Adoption inputs act on the first create only: those a resource of this stack
    adopted by when it was created (its recorded outputs say so) are dropped, as on
    the create of a replacement."""
    named = list(desired.adopt_eip_ids)
    spent = SEEN.acted(desired.adopt_batch_id, named)
    if not spent:
        return desired
    say(
        f"EipBatch {desired.batch_id}: not adopting {named_list(spent)} again: a resource "
        "of this stack adopted by these inputs already (adoption acts on the first create "
        "only; remove adopt_batch_id / adopt_eip_ids from the program)"
    )
    return attrs.evolve(
        desired,
        adopt_batch_id=None if desired.adopt_batch_id in spent else desired.adopt_batch_id,
        adopt_eip_ids=tuple(i for i in named if i not in set(spent)),
    )


def check_trim(doomed: list[PublicIp], wanted: int, adopted: int) -> None:
    """Adoption with a count below what it adopts releases the newest: refused before
    anything changes for a bound EIP, and for an EIP of a pulumi-batchip batch (a
    resource of this stack the deployment has not reached yet may own that batch)."""
    if made := [e.id for e in doomed if e.tags.get(BATCH_TAG_KEY)]:
        raise EipBatchError(
            f"count {wanted} is less than the {adopted} EIPs adopted, and "
            f"{named_list(made)} belong to a pulumi-batchip batch: adoption never "
            f"releases those in the same step. Set count to {adopted}, then lower it in "
            "a later `pulumi up`; nothing was changed"
        )
    if bound := [f"{e.id} (port {e.port_id})" for e in doomed if e.port_id]:
        raise EipBatchError(
            f"count {wanted} would release {named_list(bound)} right after adopting them, "
            "and they are bound: unbind them or raise count; nothing was changed"
        )


def restored(ops: EipSession, eips: Sequence[PublicIp], tags: Mapping[str, str]) -> str:
    """Give adopted EIPs their own tags back; say what is true after."""

    def give_back(eip: PublicIp) -> str | None:
        """The EIP's id when its tags could not be given back, else None."""
        added = {k: v for k, v in tags.items() if k not in eip.tags}
        changed = {k: v for k, v in eip.tags.items() if k in tags and tags[k] != v}
        try:
            if added:
                ops.client.delete_tags(eip.id, added)
            if changed:
                ops.client.create_tags(eip.id, changed)
        except BatchIpError:
            return eip.id
        return None

    # In parallel threads that keep the cleanup's deadline, as every retag does.
    failed = [eip_id for eip_id in ops.map(give_back, list(eips)) if eip_id is not None]
    if not eips:
        return "no adopted EIP was retagged."
    if not failed:
        return f"the {len(eips)} adopted EIPs have their own tags back."
    return (
        f"restoring the tags of {named_list(failed)} failed: they carry "
        f"{BATCH_TAG_KEY}*{tags[BATCH_TAG_KEY]}, which no state records; set their "
        f"{BATCH_TAG_KEY} tag back by hand, or adopt them with adopt_eip_ids."
    )


def own(ops: EipSession, batch_id: str, eips: list[PublicIp]) -> list[PublicIp]:
    """The members still this batch's: one another batch has since tagged (adopted)
    is that batch's, never released or reported by this one."""
    if taken := taken_by_another(eips, batch_id):
        ops.say(
            f"EipBatch {batch_id}: {named_list([e.id for e in taken])} now carry another "
            f"batch's {BATCH_TAG_KEY} tag (adopted by it): no longer this batch's"
        )
    return [e for e in eips if e not in taken]


def create_adopting(ops: EipSession, desired: Desired, *, operation: str) -> list[PublicIp]:
    """Existing EIPs become members of the new batch (tagged with it) instead of being
    created; then the batch is topped up or trimmed (newest first) to count. If a
    later step fails, the adopted EIPs get their own tags back."""
    batch_id, wanted = desired.batch_id, desired.count
    adopted = ordered(adoptable(ops, desired), [])
    doomed = adopted[wanted:]
    check_trim(doomed, wanted, len(adopted))
    ops.say(
        f"EipBatch {batch_id}: adopting {len(adopted)} EIPs "
        f"({named_list([e.id for e in adopted])}), then {wanted} in all"
    )
    tags = desired.tags
    done: list[PublicIp] = []

    def tag(eip: PublicIp) -> None:
        ops.client.create_tags(eip.id, tags)
        done.append(eip)

    try:
        ops.map(tag, adopted)
    except BatchIpError as exc:
        raise EipBatchError(
            f"EipBatch {operation} failed while adopting: {exc}. No EIP was created or "
            f"released; {restored(ops, done, tags)}"
        ) from exc
    keep = [e.id for e in adopted]
    if wanted > len(adopted):
        request = desired.request(wanted - len(adopted))
        ops.say(f"EipBatch {batch_id}: creating {request.count} EIPs")
        try:
            ids = create(ops, request, batch_id, base=len(adopted))
            new = [i for i in ids if i not in set(keep)]
            return ordered(created(ops, keep + new, new=new), keep)
        except BatchIpError as exc:
            failed = fail_with_cleanup(ops, batch_id, exc, keep=keep, operation=operation)
            raise EipBatchError(f"{failed} {restored(ops, adopted, tags)}") from exc
    if doomed:
        ops.say(f"EipBatch {batch_id}: releasing the {len(doomed)} newest adopted EIPs")
        delete(ops, [e.id for e in doomed])
    return ordered(ops.details(keep[:wanted]), keep)
