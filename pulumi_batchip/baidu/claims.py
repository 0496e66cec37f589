"""Which SecondaryIpSet claims which addresses on which VM, in this provider process.

BCC marks no owner on an address, so this is the strongest guard there is: a set
never deletes or adopts an address another set of this process claims (one the VM
handed to another set after it was removed behind our back, or one adopted twice).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .secrecy import named
from .set_state import OWNER_KEY


class Claims:
    """The claims of created, updated, read or diffed sets. A set claims by its owner
    key (OWNER_KEY), or by its id when its state predates the key: two sets can share
    an id (same addresses), never an owner key. Module-level (CLAIMS), like the VM
    locks: the server may hold several provider objects."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        # VM -> claimant -> (the set's id, its addresses)
        self._by_vm: dict[str, dict[str, tuple[str, frozenset[str]]]] = {}

    def claim(self, instance_id: str, who: str, set_id: str, addresses: Sequence[str]) -> None:
        with self._guard:
            self._by_vm.setdefault(instance_id, {})[who] = (set_id, frozenset(addresses))

    def release(self, instance_id: str, who: str) -> None:
        with self._guard:
            self._by_vm.get(instance_id, {}).pop(who, None)

    def by_others(self, instance_id: str, who: str, set_id: str) -> frozenset[str]:
        """What other sets claim. A claimant without owner key (``who`` is its id)
        cannot tell itself from another set of the same id: those are left out."""
        legacy = who == set_id
        with self._guard:
            sets = self._by_vm.get(instance_id, {})
            return frozenset().union(
                *(
                    addresses
                    for key, (sid, addresses) in sets.items()
                    if key != who and not (legacy and sid == set_id)
                )
            )


CLAIMS = Claims()


def claimant(id_: str, props: Mapping[str, Any]) -> str:
    """Who claims in CLAIMS: the set's owner key, else (state of older code) its id."""
    owner = props.get(OWNER_KEY)
    return owner if isinstance(owner, str) else id_


def claim_diffed(id_: str, state: Mapping[str, Any], say: Callable[[str], None]) -> None:
    """Every set of the program is diffed on each `up`: what it owns (``state``,
    migrated) is claimed, and an address another set claims too is warned about."""
    if not isinstance(state.get("instance_id"), str):
        return
    instance_id = str(state["instance_id"])
    who = claimant(id_, state)
    CLAIMS.claim(instance_id, who, id_, state["private_ips"])
    theirs = CLAIMS.by_others(instance_id, who, id_)
    if twice := [a for a in state["private_ips"] if a in theirs]:
        say(
            f"SecondaryIpSet {id_}: WARNING: {named(twice)} on VM {instance_id} "
            "is owned by another SecondaryIpSet of this stack too. Neither set "
            "deletes it while the other claims it in the same deployment; remove "
            "it from the private_ips of the set that should not own it"
        )
