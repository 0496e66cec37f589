"""``BatchIpMocks``: Pulumi mocks that know our two resource types.

Plain ``pulumi.runtime.Mocks`` never call a dynamic provider, so a bad input (say
``EipBatch(count=5000)``) would pass a user's unit test and fail only at ``pulumi up``.
These mocks run the real provider ``check`` first and fail with the engine's own
wording, then answer with realistic outputs, or create the resources for real through
the provider against an emulator.
"""

from __future__ import annotations

import ipaddress
import threading
import uuid
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import ConfigureRequest
from pulumi.runtime import rpc

from .. import config as cfg
from .._provider import CONFIG_KEYS, BatchIpProvider
from ..baidu.secrecy import opaque_id
from ..baidu.set_state import Desired as SecondaryDesired
from ..baidu.set_state import outputs_of as secondary_outputs
from ..eip_batch import EipBatchProvider
from ..eip_batch import outputs as eip_outputs
from ..huawei.eip import PublicIp
from ..secondary_ip_set import SecondaryIpSetProvider, parse_import_id

SECONDARY_IP_SET = "pulumi-python:dynamic/batchip:SecondaryIpSet"
EIP_BATCH = "pulumi-python:dynamic/batchip:EipBatch"
PROVIDER_KEY = "__provider"

# Offline answers use the emulator's default networks, so they look like its answers.
_V4_SUBNET = ipaddress.IPv4Network("192.168.0.0/24")
_V6_PREFIX = ipaddress.IPv6Network("2400:da00:e003:0:219::/80")
_EIP_V4_POOL = ipaddress.IPv4Network("100.64.0.0/10")
_EIP_V6_POOL = ipaddress.IPv6Network("2001:db8::/32")


class InputCheckFailed(Exception):
    """An input breaks a rule of our ``check``: the message is what ``pulumi up``
    prints, one line per problem."""


class BatchIpMocks(pulumi.runtime.Mocks):
    """Mocks for unit tests of stacks that use pulumi-batchip.

    ``emulator``: ``None`` (offline: realistic made-up outputs), a running emulator
    (what ``start_emulator()`` or the ``batchip_emulator`` fixture gives) or its base
    URL: our resources are then really created through the provider against it, and
    :meth:`destroy_all` releases them. ``fallback``: your own ``Mocks`` for every other
    resource type and for calls (default: echo the inputs).
    """

    def __init__(
        self, emulator: object | None = None, fallback: pulumi.runtime.Mocks | None = None
    ) -> None:
        self._fallback = fallback
        self._lock = threading.Lock()
        self._providers: dict[str, BatchIpProvider] = {
            SECONDARY_IP_SET: SecondaryIpSetProvider(),
            EIP_BATCH: EipBatchProvider(),
        }
        self._created: list[tuple[str, str, dict[str, Any]]] = []
        self._next_host: dict[tuple[str, bool], int] = {}
        self._next_eip = 0
        self._url: str | None = None
        if emulator is not None:
            self._url = emulator if isinstance(emulator, str) else getattr(emulator, "url", None)
            if not isinstance(self._url, str):
                raise TypeError("emulator must be a running emulator (with .url) or a base URL")
            config = _emulator_config(self._url, emulator)
            for provider in self._providers.values():
                provider.configure(ConfigureRequest(config))  # type: ignore[arg-type]

    # -- pulumi.runtime.Mocks -----------------------------------------------------------
    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        provider = self._providers.get(args.typ)
        if provider is None:
            if self._fallback is not None:
                return self._fallback.new_resource(args)
            return args.resource_id or f"{args.name}_id", dict(args.inputs)
        inputs = {k: v for k, v in _unwrap(dict(args.inputs)).items() if k != PROVIDER_KEY}
        if args.resource_id:  # Resource.get: the engine reads, it never checks
            return self._read(args.typ, provider, args.resource_id, inputs)
        checked = provider.check({}, inputs)
        if checked.failures:
            raise InputCheckFailed(
                "\n".join(
                    f"{args.typ} resource '{args.name}': property {f.property} value "
                    f"{{{_go_value(inputs, f.property)}}} has a problem: {f.reason}"
                    for f in checked.failures
                )
            )
        props = dict(checked.inputs or inputs)
        if self._url is not None:
            created = provider.create(props)
            outs = dict(created.outs or {})
            with self._lock:
                self._created.append((args.typ, str(created.id), outs))
            return str(created.id), outs
        if args.typ == SECONDARY_IP_SET:
            return self._offline_secondary(props)
        return self._offline_eips(props)

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if self._fallback is not None:
            answer = self._fallback.call(args)
            return answer if isinstance(answer, tuple) else (answer, None)
        return {}, None

    # -- the emulator -----------------------------------------------------------------
    def destroy_all(self) -> None:
        """Delete, newest first, everything these mocks created in the emulator (what
        ``pulumi destroy`` would do). Raises the first error after trying them all."""
        with self._lock:
            created, self._created = self._created, []
        errors: list[Exception] = []
        for typ, id_, outs in reversed(created):
            try:
                self._providers[typ].delete(id_, outs)
            except Exception as exc:  # keep releasing the others
                errors.append(exc)
        if errors:
            raise errors[0]

    def _read(
        self, typ: str, provider: BatchIpProvider, id_: str, inputs: dict[str, Any]
    ) -> tuple[str | None, dict[str, Any]]:
        if self._url is not None:
            read = provider.read(id_, dict(inputs))
            return read.id, dict(read.outs or {})
        if typ == SECONDARY_IP_SET:
            instance_id, addresses = parse_import_id(id_)
            version = ipaddress.ip_address(addresses[0]).version
            props = {"instance_id": instance_id, "private_ips": addresses, "ipv6": version == 6}
            return id_, secondary_outputs(
                SecondaryDesired.from_props(props), self._baidu_region({}), addresses
            )
        return id_, {**inputs, "batch_id": id_}

    # -- offline answers ----------------------------------------------------------------
    def _offline_secondary(self, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        desired = SecondaryDesired.from_props(props)
        if desired.private_ips is not None:
            addresses = list(desired.private_ips)
        else:
            addresses = self._allocate(desired.instance_id, desired.ipv6, desired.count or 0)
        region = self._baidu_region(props)
        outs = secondary_outputs(desired, region, addresses)
        if desired.secret:  # as the real provider: the id names no secret address
            return opaque_id(desired.instance_id), outs
        return f"{desired.instance_id}/{','.join(addresses)}", outs

    def _allocate(self, instance_id: str, ipv6: bool, count: int) -> list[str]:
        network: ipaddress.IPv4Network | ipaddress.IPv6Network = _V6_PREFIX if ipv6 else _V4_SUBNET
        with self._lock:
            start = self._next_host.get((instance_id, ipv6), 10)
            self._next_host[(instance_id, ipv6)] = start + count
        return [str(network.network_address + start + n) for n in range(count)]

    def _offline_eips(self, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        count = int(props["count"])
        ipv6 = int(props.get("ip_version", 4)) == 6
        bandwidth = dict(props.get("bandwidth") or {})
        with self._lock:
            first = self._next_eip
            self._next_eip += count
        eips = []
        for n in range(first + 1, first + count + 1):
            shared = bandwidth.get("share_type") == "WHOLE"
            eips.append(
                PublicIp(
                    id=str(uuid.uuid4()),
                    status="DOWN",
                    type=str(props.get("publicip_type", "5_bgp")),
                    ip_version=6 if ipv6 else 4,
                    public_ip_address=str(_EIP_V4_POOL.network_address + n),
                    public_ipv6_address=str(_EIP_V6_POOL.network_address + n) if ipv6 else None,
                    bandwidth_id=str(bandwidth["id"]) if shared else str(uuid.uuid4()),
                )
            )
        batch_id = str(uuid.uuid4())
        settings = cfg.HuaweiSettings(
            credentials=cfg.Credentials("mock", "mock"),
            region=str(props.get("region") or self._setting(cfg.HUAWEI_REGION) or "cn-north-4"),
            project_id=str(
                props.get("project_id")
                or self._setting(cfg.HUAWEI_PROJECT_ID)
                or "0123456789abcdef0123456789abcdef"
            ),
            endpoint="",
        )
        return batch_id, eip_outputs(props, settings, batch_id, eips)

    def _baidu_region(self, props: Mapping[str, Any]) -> str:
        return str(props.get("region") or self._setting(cfg.BAIDU_REGION) or "bj")

    @staticmethod
    def _setting(names: tuple[str, str]) -> str | None:
        """Stack config as the test set it (``pulumi.runtime.set_all_config``), else env."""
        return cfg.configured(names, _stack_config())


def _stack_config() -> dict[str, str]:
    found = {}
    for key in CONFIG_KEYS:
        value = pulumi.runtime.get_config(key)
        if value is not None:
            found[key] = str(value)
    return found


def _emulator_config(url: str, emulator: object) -> dict[str, str]:
    from ..emulator import DEFAULT_BCE_CREDENTIALS, DEFAULT_HW_CREDENTIALS, DEFAULT_HW_PROJECT_ID

    app_config = getattr(getattr(emulator, "app", None), "config", None)
    bce = dict(getattr(app_config, "bce_credentials", None) or DEFAULT_BCE_CREDENTIALS)
    hw = dict(getattr(app_config, "hw_credentials", None) or DEFAULT_HW_CREDENTIALS)
    project = str(getattr(app_config, "hw_project_id", None) or DEFAULT_HW_PROJECT_ID)
    [(bce_ak, bce_sk), *_] = bce.items()
    [(hw_ak, hw_sk), *_] = hw.items()
    return {
        cfg.BAIDU_ACCESS_KEY[0]: bce_ak,
        cfg.BAIDU_SECRET_KEY[0]: bce_sk,
        cfg.BAIDU_REGION[0]: "bj",
        cfg.BCC_ENDPOINT[0]: url,
        cfg.HUAWEI_ACCESS_KEY[0]: hw_ak,
        cfg.HUAWEI_SECRET_KEY[0]: hw_sk,
        cfg.HUAWEI_REGION[0]: "cn-north-4",
        cfg.HUAWEI_PROJECT_ID[0]: project,
        cfg.EIP_ENDPOINT[0]: url,
    }


def _unwrap(value: Any) -> Any:
    """Secret-wrapped values (as mocks see them) to plain ones."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _unwrap(value.get("value"))
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _go_value(inputs: Mapping[str, Any], prop: str) -> str:
    """The engine prints the top-level property's value the way Go formats it."""
    if prop not in inputs:
        return "<nil>"
    return _go_format(inputs[prop])


def _go_format(value: Any) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join("{" + _go_format(v) + "}" for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{{{_go_format(v)}}}" for k, v in sorted(value.items())) + "]"
    return str(value)
