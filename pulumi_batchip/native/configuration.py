"""The native provider's configuration: the ``batchip:`` keys of the stack config,
which the engine hands the provider as its inputs (``batchip:eipEndpoint`` arrives as
``eipEndpoint``). The engine gives a provider only its own namespace, so the contract's
``baiducloud:`` and ``huaweicloud:`` settings have ``batchip:`` names here, one per
setting of ``config.VENDOR_SETTINGS``: ``huaweicloud:secretKey`` is
``batchip:huaweiSecretKey``, ``baiducloud:region`` is ``batchip:baiduRegion``. Each goes
to the dynamic providers under its contract key, so the environment variable is the
fallback there as for the Python classes. The credentials among them are secrets: the
provider's inputs are kept in state, and Check hands them back marked secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.provider.experimental.property_value import PropertyValue

from .. import config as cfg
from ..errors import ConfigError
from .names import PACKAGE, native_name

# Every setting, as (key in the provider's inputs, the dynamic providers' config key).
SETTINGS = tuple((native_name(key), key) for key, _env in cfg.ALL_SETTINGS)
NAMES = tuple(name for name, _key in SETTINGS)
# The environment variable read when a setting is not configured.
ENV = {native_name(key): var for key, var in cfg.ALL_SETTINGS}
# The credentials: secret in the schema and in the provider's inputs in state.
SECRETS = frozenset(native_name(key) for key, _env in cfg.CREDENTIAL_SETTINGS)
# For the dynamic providers' messages: the key the user sets, by contract key.
SHOWN = {key: f"{PACKAGE}:{name}" for name, key in SETTINGS}
# Formats checked before anything runs (the values are no secrets).
RULES = {
    native_name(cfg.BAIDU_REGION[0]): cfg.baidu_region_problem,
    native_name(cfg.HUAWEI_REGION[0]): cfg.huawei_region_problem,
    native_name(cfg.HUAWEI_PROJECT_ID[0]): cfg.huawei_project_id_problem,
}
# What the engine itself may put among a provider's inputs.
ENGINE_KEYS = frozenset({"version", "pluginDownloadURL"})


def unknown_keys(args: Mapping[str, Any]) -> list[str]:
    """Keys that are no setting of this provider (a typo would otherwise pass silently)."""
    return sorted(k for k in args if k not in NAMES and k not in ENGINE_KEYS)


def unknown_key_reason(key: str) -> str:
    return (
        f"{PACKAGE}:{key} is not a setting of the batchip provider; its settings are "
        + ", ".join(f"{PACKAGE}:{n}" for n in NAMES)
        + " (each unset one is read from its environment variable)"
    )


def format_problems(
    args: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """(key, why) for each region or project id given in a form the vendor never uses,
    and each endpoint, timeout or switch the providers would refuse at their first
    call (checked here so that ``preview`` says it, before any resource)."""
    found = []
    for name, rule in RULES.items():
        value = args.get(name)
        if isinstance(value, str) and (problem := rule(value)):
            found.append((name, f"{PACKAGE}:{name} {problem}"))
    env = os.environ if env is None else env
    given = {key: _text(args[name]) for name, key in SETTINGS if args.get(name) is not None}
    switch = native_name(cfg.ALLOW_INSECURE_HTTP[0])
    if switch in args and _text(args[switch]).lower() not in _SWITCH_WORDS:
        found.append((switch, f"{PACKAGE}:{switch} must be true or false, not {args[switch]!r}"))
    allow = cfg.allows_insecure_http(given, env)
    for names in (cfg.EIP_JOB_TIMEOUT, cfg.HTTP_TIMEOUT, cfg.BCC_ENDPOINT, cfg.EIP_ENDPOINT):
        if names[0] not in given:
            continue
        try:
            if names in (cfg.EIP_JOB_TIMEOUT, cfg.HTTP_TIMEOUT):
                cfg.timeout_seconds(names, given, env)
            else:
                cfg.check_endpoint(given[names[0]], names, allow_insecure=allow)
        except ConfigError as refused:
            found.append((native_name(names[0]), str(refused)))
    return found


_SWITCH_WORDS = frozenset({"true", "false", "1", "0", "yes", "no", "on", "off"})


def secret_inputs(inputs: Mapping[str, PropertyValue]) -> dict[str, PropertyValue]:
    """The inputs with every credential marked secret, however the user set it: the
    engine keeps the provider's inputs in state and encrypts only secrets."""
    return {k: v.with_secret(True) if k in SECRETS else v for k, v in inputs.items()}


def request(args: Mapping[str, Any], project: str = PACKAGE) -> ConfigureRequest:
    """The dynamic providers' configure request holding these settings under their
    stack config keys (``huaweicloud:secretKey``, ``batchip:eipEndpoint``), which is
    where they look (before the environment)."""
    raw = {key: _text(args[name]) for name, key in SETTINGS if args.get(name) is not None}
    return ConfigureRequest(Config(raw_config=raw, project_name=project))


def _text(value: Any) -> str:
    """A setting as the stack config spells it (the engine may send typed values)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
