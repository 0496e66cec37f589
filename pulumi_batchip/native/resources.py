"""The two resources as the native provider serves them: each type token's provider
object (the dynamic provider's own class: one core, two front ends), its declared
inputs, and the little the dynamic resource class does in the user's program that a
native provider must do itself on the engine's side."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .._provider import BatchIpProvider
from ..baidu.secrecy import HIDDEN_FLAG
from ..baidu.set_state import OWNER_KEY
from ..eip_batch import EipBatchProvider
from ..eip_inputs import DECLARATION as EIP_DECLARATION
from ..inputs import Declaration
from ..secondary_ip_inputs import DECLARATION as SET_DECLARATION
from ..secondary_ip_set import SecondaryIpSetProvider
from .names import PACKAGE, to_camel, type_token

__all__ = ["PACKAGE", "Kind", "kinds", "stack_scope"]

# (the user's inputs in snake_case, the names of the secret ones, the URN) -> the
# inputs the dynamic resource class would have sent.
Prepare = Callable[[dict[str, Any], frozenset[str], str], dict[str, Any]]


@attrs.frozen
class Kind:
    token: str
    declaration: Declaration
    provider: BatchIpProvider
    prepare: Prepare
    # Inputs set by the plugin (from the request, as the dynamic resource class does in
    # the user's program) or by the provider's check (the batch id, the owner key),
    # which state and an import's inputs carry.
    own_keys: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.token.rpartition(":")[2]

    def input_names(self) -> tuple[str, ...]:
        """The schema's names of the inputs the user gives (hidden ones are set for
        them, as are ``own_keys``)."""
        return tuple(to_camel(f.name) for f in self.declaration.fields if not f.hidden)

    def known_inputs(self) -> frozenset[str]:
        """Every input name a request may carry: the user's, the hidden and own ones."""
        return frozenset(to_camel(n) for n in (*self.declaration.names, *self.own_keys))

    def secret_outputs(self, outs: Mapping[str, Any], secret: frozenset[str]) -> frozenset[str]:
        """What stays secret in outputs: what was secret coming in, and the addresses of
        a set whose addresses were a secret input."""
        hidden = set(secret & outs.keys())
        if outs.get(HIDDEN_FLAG) is True:
            hidden.add("private_ips")
        return frozenset(hidden)


def stack_scope(urn: str) -> str | None:
    """``<project>/<stack>`` of ``urn:pulumi:<stack>::<project>::<type>::<name>``, as
    EipBatch tags its EIPs with (what ``orphans`` looks for)."""
    parts = urn.split("::")
    if len(parts) < 4 or not parts[0].startswith("urn:pulumi:"):
        return None
    return f"{parts[1]}/{parts[0].removeprefix('urn:pulumi:')}"


def _eip_batch(news: dict[str, Any], _secret: frozenset[str], urn: str) -> dict[str, Any]:
    prepared = {k: v for k, v in news.items() if k != "stack_scope"}
    scope = stack_scope(urn)
    if scope:
        prepared["stack_scope"] = scope
    return prepared


def _secondary_ip_set(news: dict[str, Any], secret: frozenset[str], _urn: str) -> dict[str, Any]:
    prepared = {k: v for k, v in news.items() if k != HIDDEN_FLAG}
    if "private_ips" in secret:
        prepared[HIDDEN_FLAG] = True
    return prepared


def kinds() -> dict[str, Kind]:
    """One provider object per type, for the life of the plugin process."""
    found = (
        Kind(
            type_token("EipBatch"),
            EIP_DECLARATION,
            EipBatchProvider(),
            _eip_batch,
            own_keys=("stack_scope", "batch_id"),
        ),
        Kind(
            type_token("SecondaryIpSet"),
            SET_DECLARATION,
            SecondaryIpSetProvider(),
            _secondary_ip_set,
            own_keys=(HIDDEN_FLAG, OWNER_KEY),
        ),
    )
    return {kind.token: kind for kind in found}
