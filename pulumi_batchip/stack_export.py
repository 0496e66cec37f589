"""A `pulumi stack export`, read as far as this package needs it: the stack's name, the
stack config Pulumi stored, its resources and its interrupted operations.

Both front ends: the Python dynamic resources (``pulumi-python:dynamic/batchip:*``,
snake_case properties, the whole stack config in the ``pulumi-python`` provider's
inputs) and the native plugin's (``batchip:index:*``, camelCase properties, its
``batchip:`` settings in the ``batchip`` provider's inputs). Resources are handed out
as the dynamic ones spell them, whichever front end made them (``native.names``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from . import config as cfg
from .errors import BatchIpError
from .native.names import PACKAGE, native_name, snake_keys, type_token

EIP_BATCH = "pulumi-python:dynamic/batchip:EipBatch"
SECONDARY_IP_SET = "pulumi-python:dynamic/batchip:SecondaryIpSet"
DYNAMIC_PROVIDER = "pulumi:providers:pulumi-python"
# The plugin's type tokens of the same resources (``batchip:index:EipBatch``), and its
# provider's type.
NATIVE = {typ: type_token(typ.rpartition(":")[2]) for typ in (EIP_BATCH, SECONDARY_IP_SET)}
NATIVE_PROVIDER = f"pulumi:providers:{PACKAGE}"
# The plugin provider's inputs (its ``batchip:`` settings, ``huaweiRegion``) by the
# contract key each stands for (``huaweicloud:region``).
NATIVE_SETTINGS = {native_name(key): key for key, _env in cfg.ALL_SETTINGS}
INTERRUPTED = ("creating", "updating")


def is_native(resource: Mapping[str, Any]) -> bool:
    """Made by the plugin (a ``batchip:index:*`` resource), not a dynamic resource."""
    return resource.get("type") in NATIVE.values()


def _as_dynamic(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    """A resource with its inputs and outputs named as the dynamic ones are (the type
    is kept: ``is_native`` tells how the user's program spells them)."""
    if not is_native(resource):
        return resource
    renamed = dict(resource)
    for part in ("inputs", "outputs"):
        if isinstance(resource.get(part), dict):
            renamed[part] = snake_keys(resource[part])
    return renamed


class StateError(BatchIpError):
    """The file is not a usable `pulumi stack export`."""


@attrs.frozen
class StackState:
    """What a `pulumi stack export` says, as far as orphans go."""

    project: str
    stack: str
    # the stack config Pulumi stored (plaintext values only), under the contract's keys
    config: Mapping[str, str]
    resources: tuple[Mapping[str, Any], ...]
    pending: tuple[Mapping[str, Any], ...]  # interrupted operations: type, resource
    # config keys stored encrypted (an export made without --show-secrets), as the user
    # set them (``batchip:huaweiSecretKey`` for the plugin's)
    encrypted: frozenset[str] = frozenset()

    @property
    def scope(self) -> str:
        return f"{self.project}/{self.stack}"

    def of_type(self, typ: str) -> list[Mapping[str, Any]]:
        """The resources of dynamic type ``typ`` and of its plugin counterpart, their
        properties named as the dynamic ones'."""
        types = (typ, NATIVE.get(typ))
        return [_as_dynamic(r) for r in self.resources if r.get("type") in types]

    def pending_of_type(self, typ: str) -> list[Mapping[str, Any]]:
        """The same, of the interrupted creates and updates."""
        types = (typ, NATIVE.get(typ))
        return [
            _as_dynamic(p["resource"])
            for p in self.pending
            if p.get("type") in INTERRUPTED and p.get("resource", {}).get("type") in types
        ]

    def native(self, typ: str) -> bool:
        """Every resource of ``typ`` (and interrupted operation) is the plugin's, and
        there is one: what the user's program is told is spelled the plugin's way."""
        found = self.of_type(typ) + self.pending_of_type(typ)
        return bool(found) and all(is_native(r) for r in found)


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
    config, encrypted = _stack_config(resources)
    return StackState(project, stack, config, resources, pending, encrypted)


def _stack_config(
    resources: tuple[Mapping[str, Any], ...],
) -> tuple[cfg.StackConfig, frozenset[str]]:
    """The settings the providers in state were configured with, under the contract's
    keys: the dynamic provider's inputs are the stack config itself; the plugin's are
    its ``batchip:`` settings (``huaweiRegion`` for ``huaweicloud:region``), which
    messages then name as the user sets them (``batchip:huaweiRegion``). Also the keys
    held encrypted."""
    values: dict[str, str] = {}
    encrypted: dict[str, str] = {}  # contract key -> the key the user set
    dynamic = [r for r in resources if r.get("type") == DYNAMIC_PROVIDER]
    native = [r for r in resources if r.get("type") == NATIVE_PROVIDER]
    for provider in dynamic + native:
        is_plugin = provider.get("type") == NATIVE_PROVIDER
        for name, value in (provider.get("inputs") or {}).items():
            key = NATIVE_SETTINGS.get(name) if is_plugin else name
            if key is None:
                continue  # the engine's own inputs (version)
            plain = _plaintext(value)
            if plain is not None:
                values.setdefault(key, plain)
            elif isinstance(value, dict) and "ciphertext" in value:
                encrypted.setdefault(key, f"{PACKAGE}:{name}" if is_plugin else name)
    # The plugin's names in messages when no dynamic provider reads the contract's.
    shown = (
        {key: f"{PACKAGE}:{name}" for name, key in NATIVE_SETTINGS.items()}
        if native and not dynamic
        else {}
    )
    sealed = frozenset(user for key, user in encrypted.items() if key not in values)
    return cfg.StackConfig(values, shown), sealed


def _plaintext(value: Any) -> str | None:
    """A config value as stored: plain, or a secret shown by `--show-secrets`; as the
    stack config spells it (the engine may hand the plugin typed values)."""
    if isinstance(value, dict) and isinstance(value.get("plaintext"), str):
        try:
            value = json.loads(value["plaintext"])
        except ValueError:
            return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value if isinstance(value, str) else None
