"""Whose an EIP is, from what is recorded, never from what a list happens to show.

Two records say it. The stack's state: a batch owns the ids its outputs list, and an
interrupted create's batch id is in the inputs the engine keeps in
``pending_operations`` (``check`` chooses it). The EIP's tags: a batch writes its
batch tag (and the stack tag) when it creates or adopts an EIP. An EIP is a batch's
when both agree; an EIP another batch has since tagged (adopted) is that batch's.

The provider sees the state only through what the engine hands it: the old inputs in
``check``, the old outputs in ``diff``, ``read``, ``update`` and ``delete``.
:data:`SEEN` keeps that for the life of the provider process (one deployment), so
adoption can refuse a batch a resource of this stack owns, and can tell adoption
inputs that already acted (a create records what it adopted in its outputs,
:data:`ADOPTED_KEYS`) from new ones.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from .eip import PublicIp

BATCH_TAG_KEY = "pulumi-batchip-batch"
STACK_TAG_KEY = "pulumi-batchip-stack"
# What a create adopted, kept in the outputs for the resource's life.
ADOPTED_KEYS = ("adopted_batch_id", "adopted_eip_ids")


@attrs.define
class Seen:
    """What this provider process has seen recorded in the stack's state."""

    live_batches: set[str] = attrs.field(factory=set)
    adopted_batches: set[str] = attrs.field(factory=set)  # what live batches adopted by
    adopted_eips: set[str] = attrs.field(factory=set)
    _guard: threading.Lock = attrs.field(factory=threading.Lock)

    def note_old_inputs(self, olds: Mapping[str, Any]) -> None:
        """A resource's recorded inputs (``check``'s olds): its batch is live."""
        if isinstance(olds.get("batch_id"), str):
            self.note_live(olds["batch_id"])

    def note_outputs(self, batch_id: str, outputs: Mapping[str, Any]) -> None:
        """A live batch's recorded outputs: what its create adopted by."""
        with self._guard:
            self.live_batches.add(batch_id)
            if isinstance(outputs.get(ADOPTED_KEYS[0]), str):
                self.adopted_batches.add(outputs[ADOPTED_KEYS[0]])
            ids = outputs.get(ADOPTED_KEYS[1])
            if isinstance(ids, list):
                self.adopted_eips.update(i for i in ids if isinstance(i, str))

    def note_live(self, batch_id: str) -> None:
        with self._guard:
            self.live_batches.add(batch_id)

    def is_live(self, batch_id: str) -> bool:
        with self._guard:
            return batch_id in self.live_batches

    def acted(self, adopt_batch_id: str | None, adopt_eip_ids: Sequence[str]) -> list[str]:
        """The adoption inputs a resource of this stack already adopted by."""
        with self._guard:
            done = [adopt_batch_id] if adopt_batch_id in self.adopted_batches else []
            return done + [i for i in adopt_eip_ids if i in self.adopted_eips]


SEEN = Seen()


def batch_of(eip: PublicIp) -> str | None:
    return eip.tags.get(BATCH_TAG_KEY)


def taken_by_another(eips: Sequence[PublicIp], batch_id: str) -> list[PublicIp]:
    """Members the state lists whose batch tag names another batch: that batch adopted
    them, so they are its to keep or release, no longer this one's."""
    return [e for e in eips if batch_of(e) not in (None, batch_id)]


def adoption_refusals(
    eips: Sequence[PublicIp],
    *,
    stack_tag: str | None,
    publicip_type: str,
    ip_version: int,
    seen: Seen = SEEN,
) -> list[str]:
    """Why each EIP that cannot be adopted cannot (empty: all can)."""
    reasons = []
    for e in eips:
        theirs = e.tags.get(STACK_TAG_KEY)
        batch = batch_of(e)
        if theirs is not None and theirs != stack_tag:
            reasons.append(f"{e.id} belongs to another stack (its {STACK_TAG_KEY} tag)")
        elif batch is not None and seen.is_live(batch):
            reasons.append(f"{e.id} is in batch {batch}, which a resource of this stack owns")
        elif e.ip_version != ip_version:
            reasons.append(f"{e.id} is IPv{e.ip_version}, not IPv{ip_version} like this batch")
        elif e.type and e.type != publicip_type:
            reasons.append(f"{e.id} is of publicip_type {e.type}, not {publicip_type}")
    return reasons
