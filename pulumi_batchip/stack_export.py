"""A `pulumi stack export`, read as far as this package needs it: the stack's name, the
stack config Pulumi stored, its resources and its interrupted operations."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from .errors import BatchIpError

EIP_BATCH = "pulumi-python:dynamic/batchip:EipBatch"
SECONDARY_IP_SET = "pulumi-python:dynamic/batchip:SecondaryIpSet"
DYNAMIC_PROVIDER = "pulumi:providers:pulumi-python"
INTERRUPTED = ("creating", "updating")


class StateError(BatchIpError):
    """The file is not a usable `pulumi stack export`."""


@attrs.frozen
class StackState:
    """What a `pulumi stack export` says, as far as orphans go."""

    project: str
    stack: str
    config: Mapping[str, str]  # the stack config Pulumi stored (plaintext values only)
    resources: tuple[Mapping[str, Any], ...]
    pending: tuple[Mapping[str, Any], ...]  # interrupted operations: type, resource
    # config keys stored encrypted (an export made without --show-secrets)
    encrypted: frozenset[str] = frozenset()

    @property
    def scope(self) -> str:
        return f"{self.project}/{self.stack}"

    def of_type(self, typ: str) -> list[Mapping[str, Any]]:
        return [r for r in self.resources if r.get("type") == typ]

    def pending_of_type(self, typ: str) -> list[Mapping[str, Any]]:
        return [
            p["resource"]
            for p in self.pending
            if p.get("type") in INTERRUPTED and p.get("resource", {}).get("type") == typ
        ]


def load_state(text: str) -> StackState:
    try:
        raw = json.loads(text)
        deployment = raw["deployment"]
    except (ValueError, KeyError, TypeError):
        raise StateError(
            "the state file is not `pulumi stack export` output (no deployment)"
        ) from None
    resources = tuple(deployment.get("resources") or ())
    pending = tuple(deployment.get("pending_operations") or ())
    urns = [r.get("urn", "") for r in resources] + [
        p.get("resource", {}).get("urn", "") for p in pending
    ]
    for urn in urns:
        parts = urn.split("::")
        if urn.startswith("urn:pulumi:") and len(parts) >= 2:
            stack, project = parts[0].removeprefix("urn:pulumi:"), parts[1]
            break
    else:
        raise StateError("the state names no resource, so it names no stack: nothing to scan")
    config: dict[str, str] = {}
    encrypted: set[str] = set()
    for provider in (r for r in resources if r.get("type") == DYNAMIC_PROVIDER):
        for key, value in (provider.get("inputs") or {}).items():
            plain = _plaintext(value)
            if plain is not None:
                config[key] = plain
            elif isinstance(value, dict) and "ciphertext" in value:
                encrypted.add(key)
    return StackState(
        project, stack, config, resources, pending, frozenset(encrypted - set(config))
    )


def _plaintext(value: Any) -> str | None:
    """A config value as stored: plain, or a secret shown by `--show-secrets`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("plaintext"), str):
        try:
            decoded = json.loads(value["plaintext"])
        except ValueError:
            return None
        return decoded if isinstance(decoded, str) else None
    return None
