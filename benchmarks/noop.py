"""A dynamic resource that does nothing: the engine's own cost per resource.

``NoOpEip`` takes the same inputs as the baseline's ``SingleEip`` and returns outputs
of the same shape, but its provider makes no API call and never sleeps. ``pulumi up``
of N of them therefore costs exactly what the engine, the language host, the Python
SDK and the dynamic-provider server spend on N resources (registration, Check,
Create, the state checkpoints), and nothing else. Its provider is a module-level class,
pickled by reference like ``SingleEipProvider``, so the provider process imports this
module (and only ``pulumi``) to run it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, Resource, ResourceProvider


class NoOpEipProvider(ResourceProvider):
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("publicip_type", "ip_version", "bandwidth_size", "bandwidth_name")
        replaces = [k for k in keys if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        eip_id = str(uuid.uuid4())
        outputs = {**props, "eip_id": eip_id, "public_ip": "192.0.2.1", "status": "DOWN"}
        return CreateResult(eip_id, outputs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class NoOpEip(Resource, module="bench", name="NoOpEip"):
    """Looks like ``SingleEip`` to the engine; touches nothing."""

    eip_id: pulumi.Output[str]
    public_ip: pulumi.Output[str]
    status: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        bandwidth_size: pulumi.Input[int],
        bandwidth_name: pulumi.Input[str],
        publicip_type: pulumi.Input[str] = "5_bgp",
        ip_version: pulumi.Input[int] = 4,
        charge_mode: pulumi.Input[str] = "bandwidth",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "bandwidth_size": bandwidth_size,
            "bandwidth_name": bandwidth_name,
            "publicip_type": publicip_type,
            "ip_version": ip_version,
            "charge_mode": charge_mode,
            "eip_id": None,
            "public_ip": None,
            "status": None,
        }
        super().__init__(NoOpEipProvider(), resource_name, props, opts)
