"""Property names across the two front ends: the operations and the dynamic providers
speak snake_case (``publicip_type``), a Pulumi package schema camelCase
(``publicipType``, what every language's SDK generator expects).

One rule both ways, for every key at any depth, except the keys of a user's map
(``tags``): those are data, not names. Also the plugin's other names: its package, the
resources' type tokens and its settings' names (``batchip:huaweiRegion``), which
``orphans`` reads in a stack export as well (this module imports nothing heavy).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

PACKAGE = "batchip"

# Maps whose keys are the user's data, never renamed (snake and camel spell them alike).
USER_MAPS = frozenset({"tags"})

_UPPER = re.compile(r"[A-Z]")


def to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_snake(name: str) -> str:
    return _UPPER.sub(lambda m: "_" + m.group(0).lower(), name)


def camel_text(text: str, names: Iterable[str]) -> str:
    """A message of the providers with the snake_case property ``names`` in it spelled
    as the schema spells them (``give exactly one of private_ips and count`` ->
    ``privateIps``). Only those names: a user's value in a message stays as given."""
    snake = sorted({n for n in names if "_" in n}, key=len, reverse=True)
    if not snake:
        return text
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, snake)) + r")\b")
    return pattern.sub(lambda m: to_camel(m.group(0)), text)


def type_token(resource: str) -> str:
    """The plugin's type token of a resource class: ``EipBatch`` ->
    ``batchip:index:EipBatch``."""
    return f"{PACKAGE}:index:{resource}"


def native_name(key: str) -> str:
    """A setting's name among the provider's inputs: ``batchip:eipEndpoint`` ->
    ``eipEndpoint``, ``huaweicloud:projectId`` -> ``huaweiProjectId``."""
    namespace, _, name = key.partition(":")
    if namespace == PACKAGE:
        return name
    return namespace.removesuffix("cloud") + name[:1].upper() + name[1:]


def path_to_camel(path: str) -> str:
    """A property path such as ``bandwidth.share_type`` (a check failure, a diff key)."""
    return ".".join(to_camel(part) for part in path.split("."))


def _renamed(value: Any, rename: Callable[[str], str]) -> Any:
    if isinstance(value, dict):
        return {
            rename(k): (v if rename(k) in USER_MAPS or k in USER_MAPS else _renamed(v, rename))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_renamed(v, rename) for v in value]
    return value


def camel_keys(props: dict[str, Any]) -> dict[str, Any]:
    """Outputs of the operations as the schema names them."""
    renamed: dict[str, Any] = _renamed(props, to_camel)
    return renamed


def snake_keys(props: dict[str, Any]) -> dict[str, Any]:
    """Inputs or state as the schema names them, for the operations."""
    renamed: dict[str, Any] = _renamed(props, to_snake)
    return renamed
