"""The benchmark baseline: one Huawei EIP per Pulumi resource, as a typical user writes it.

``SingleEip`` is a dynamic resource whose ``create`` sends one ``POST
/v1/{project_id}/publicips`` and polls ``GET /v1/{project_id}/publicips/{id}`` until the
EIP is ``DOWN``; ``delete`` sends ``DELETE /v1/{project_id}/publicips/{id}`` and checks
with a ``GET`` that it is gone (404). N addresses are N resources, which ``pulumi up``
runs at most four at a time in the one provider process.

It is deliberately *not* handicapped: it reuses pulumi-batchip's signer, HTTP client
(keep-alive, one shared client per endpoint) and configuration resolution, and polls
on the same schedule as ``EipBatch`` (0.25 s, then x1.5 up to 5 s). So the comparison
measures batching, not a worse HTTP stack. No retries: nothing fails in the benchmark.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx
import pulumi
from pulumi.dynamic import (
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
)

from pulumi_batchip import config as cfg
from pulumi_batchip.http import new_http_client
from pulumi_batchip.huawei.signer import HuaweiSigner

POLL_FIRST = 0.25  # the same schedule as EipBatch's job polling
POLL_FACTOR = 1.5
POLL_MAX = 5.0
DEADLINE_SECONDS = 600.0
CONFIG_KEYS = (
    cfg.HUAWEI_ACCESS_KEY,
    cfg.HUAWEI_SECRET_KEY,
    cfg.HUAWEI_SECURITY_TOKEN,
    cfg.HUAWEI_REGION,
    cfg.HUAWEI_PROJECT_ID,
    cfg.EIP_ENDPOINT,
)

# One client per endpoint and credentials for the whole provider process (httpx
# clients cannot be pickled into the provider, so they live here).
_clients: dict[tuple[str, str, str], httpx.Client] = {}
_clients_lock = threading.Lock()
_config: dict[str, str] = {}


def _session() -> tuple[httpx.Client, str]:
    settings = cfg.resolve_huawei(_config)
    key = (settings.endpoint, settings.credentials.access_key, settings.project_id)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            creds = settings.credentials
            auth = HuaweiSigner(
                creds.access_key,
                creds.secret_key,
                security_token=creds.security_token,
                project_id=settings.project_id,
            )
            client = new_http_client(base_url=settings.endpoint, auth=auth)
            _clients[key] = client
    return client, settings.project_id


def _ok(response: httpx.Response, what: str) -> dict[str, Any]:
    if not response.is_success:
        raise RuntimeError(f"{what} failed: HTTP {response.status_code} {response.text[:200]}")
    return dict(response.json()) if response.content else {}


def _outputs(props: Mapping[str, Any], publicip: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **props,
        "eip_id": publicip["id"],
        "public_ip": publicip.get("public_ip_address"),
        "status": publicip.get("status"),
    }


class SingleEipProvider(ResourceProvider):
    """One EIP per resource (pickled by reference: a module-level class)."""

    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        for key, _env in CONFIG_KEYS:
            value = req.config.get(key)
            if value is not None:
                _config[key] = str(value)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("publicip_type", "ip_version", "bandwidth_size", "bandwidth_name")
        replaces = [k for k in keys if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        client, project = _session()
        body = {
            "publicip": {"type": props["publicip_type"], "ip_version": int(props["ip_version"])},
            "bandwidth": {
                "name": props["bandwidth_name"],
                "size": int(props["bandwidth_size"]),
                "share_type": "PER",
                "charge_mode": props.get("charge_mode") or "bandwidth",
            },
        }
        created = _ok(client.post(f"/v1/{project}/publicips", json=body), "CreatePublicip")
        publicip = created["publicip"]
        eip_id = str(publicip["id"])
        deadline = time.monotonic() + DEADLINE_SECONDS
        interval = POLL_FIRST
        while publicip.get("status") != "DOWN":
            if publicip.get("status") == "ERROR" or time.monotonic() > deadline:
                raise RuntimeError(f"EIP {eip_id} ended {publicip.get('status')}")
            time.sleep(interval)
            interval = min(interval * POLL_FACTOR, POLL_MAX)
            shown = client.get(f"/v1/{project}/publicips/{eip_id}")
            publicip = _ok(shown, "ShowPublicip")["publicip"]
        return CreateResult(eip_id, _outputs(props, publicip))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client, project = _session()
        shown = client.get(f"/v1/{project}/publicips/{id_}")
        if shown.status_code == 404:
            return ReadResult(None, {})
        return ReadResult(id_, _outputs(props, _ok(shown, "ShowPublicip")["publicip"]))

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        client, project = _session()
        deleted = client.delete(f"/v1/{project}/publicips/{id_}")
        if deleted.status_code != 404:
            _ok(deleted, "DeletePublicip")
        deadline = time.monotonic() + DEADLINE_SECONDS
        interval = POLL_FIRST
        while client.get(f"/v1/{project}/publicips/{id_}").status_code != 404:
            if time.monotonic() > deadline:
                raise RuntimeError(f"EIP {id_} still exists after its delete")
            time.sleep(interval)
            interval = min(interval * POLL_FACTOR, POLL_MAX)


class SingleEip(Resource, module="bench", name="SingleEip"):
    """One Huawei Cloud EIP with a dedicated bandwidth."""

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
        super().__init__(SingleEipProvider(), resource_name, props, opts)
