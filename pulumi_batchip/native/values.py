"""Property values across the two front ends: the engine's ``PropertyValue``s (secrets,
unknowns, numbers as floats) and the plain Python values the providers' methods take,
with unknowns as ``pulumi.output.Unknown`` as the dynamic provider server gives them.

A secret is unwrapped on the way in and the top-level property holding it noted, so
the way out marks that property secret again (what the engine does for a provider that
does not take secrets, here done by the provider since it does take them: the
SecondaryIpSet adapter needs to see that ``privateIps`` is secret).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi.output import UNKNOWN as UNKNOWN_VALUE
from pulumi.output import Unknown
from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import UNKNOWN

from ..errors import BatchIpError


def plain(value: PropertyValue) -> Any:
    """The value without its secret and dependency marks; unknowns as ``Unknown``."""
    inner = value.value
    if isinstance(inner, Computed) or inner == UNKNOWN:
        return UNKNOWN_VALUE
    if inner is None or isinstance(inner, bool | float | str):
        return inner
    if isinstance(inner, Mapping):
        return {k: plain(v) for k, v in inner.items()}
    if isinstance(inner, tuple | list):
        return [plain(v) for v in inner]
    raise BatchIpError(f"batchip resources take no {type(inner).__name__} values")


def plain_map(props: Mapping[str, PropertyValue]) -> tuple[dict[str, Any], frozenset[str]]:
    """The plain values, and the names of the properties that hold a secret."""
    values = {k: plain(v) for k, v in props.items()}
    return values, frozenset(k for k, v in props.items() if v.contains_secret())


def wire(value: Any) -> PropertyValue:
    if isinstance(value, Unknown):
        # The engine's own unknown sentinel, as it sends them: the SDK (3.260) cannot
        # marshal a ``PropertyValue.computed()`` at any depth.
        return PropertyValue(UNKNOWN)
    if value is None or isinstance(value, bool | str):
        return PropertyValue(value)
    if isinstance(value, int | float):
        return PropertyValue(float(value))
    if isinstance(value, Mapping):
        return PropertyValue({str(k): wire(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return PropertyValue([wire(v) for v in value])
    raise BatchIpError(f"cannot send a {type(value).__name__} to the Pulumi engine")


def wire_map(values: Mapping[str, Any], secret: Iterable[str] = ()) -> dict[str, PropertyValue]:
    """``values`` for the engine, the properties named in ``secret`` marked secret."""
    hidden = frozenset(secret)
    return {k: wire(v).with_secret(k in hidden) for k, v in values.items()}
