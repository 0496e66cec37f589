"""The native provider's configuration: the ``batchip:`` keys of the stack config,
which the engine hands the provider as its inputs (``batchip:eipEndpoint`` arrives as
``eipEndpoint``). The Baidu and Huawei credentials, regions and project id come from
the environment of the process running ``pulumi`` (README, "Configuration"): the engine
gives a provider only its own namespace, and the provider's inputs are kept in state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from .. import config as cfg
from .resources import PACKAGE

# The provider's own settings, as (key in the provider's inputs, stack config key).
SETTINGS = tuple(
    (key.partition(":")[2], key)
    for key, _env in (
        cfg.BCC_ENDPOINT,
        cfg.EIP_ENDPOINT,
        cfg.ALLOW_INSECURE_HTTP,
        cfg.EIP_JOB_TIMEOUT,
        cfg.HTTP_TIMEOUT,
    )
)
NAMES = tuple(name for name, _key in SETTINGS)
# What the engine itself may put among a provider's inputs.
ENGINE_KEYS = frozenset({"version", "pluginDownloadURL"})


def unknown_keys(args: Mapping[str, Any]) -> list[str]:
    """Keys that are no setting of this provider (a typo would otherwise pass silently)."""
    return sorted(k for k in args if k not in NAMES and k not in ENGINE_KEYS)


def unknown_key_reason(key: str) -> str:
    return (
        f"{PACKAGE}:{key} is not a setting of the batchip provider; its settings are "
        + ", ".join(f"{PACKAGE}:{n}" for n in NAMES)
        + " (credentials, regions and the project id come from the environment)"
    )


def request(args: Mapping[str, Any], project: str = PACKAGE) -> ConfigureRequest:
    """The dynamic providers' configure request holding these settings under their
    stack config keys (``batchip:eipEndpoint``), which is where they look."""
    raw = {key: _text(args[name]) for name, key in SETTINGS if args.get(name) is not None}
    return ConfigureRequest(Config(raw_config=raw, project_name=project))


def _text(value: Any) -> str:
    """A setting as the stack config spells it (the engine may send typed values)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
