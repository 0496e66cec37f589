"""EipBatch: N Huawei Cloud elastic IPs created together, with their bandwidth.

The provider is thin: each Pulumi method migrates the state, builds the desired
batch, makes one call into the procedures of ``pulumi_batchip.huawei`` and turns what
comes back into outputs. The inputs are declared in ``eip_inputs.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from . import config as cfg
from ._provider import BatchIpProvider, ProviderHalf, contains_unknown, is_unknown, progress

# The provider's half: loaded before any EipBatchProvider method runs (half=_HALF).
if TYPE_CHECKING:
    from .eip_inputs import BANDWIDTH_REPLACE_KEYS as BANDWIDTH_REPLACE_KEYS
    from .eip_inputs import REPLACE_KEYS as REPLACE_KEYS
    from .eip_inputs import SCHEMA_VERSION as SCHEMA_VERSION
    from .eip_inputs import bandwidth_size_rule as bandwidth_size_rule
    from .eip_inputs import check_inputs as check_inputs
    from .eip_inputs import migrate_state as migrate_state
    from .huawei.desired import Desired
    from .huawei.eip import EipClient, PublicIp
    from .huawei.lifecycle import create_batch, delete_batch, read_batch, update_batch
    from .huawei.ownership import ADOPTED_KEYS, SEEN
    from .huawei.session import EipSession
    from .huawei.tags import RESERVED_TAG_KEYS

_HALF = ProviderHalf(
    globals(),
    {
        ".eip_inputs": (
            "BANDWIDTH_REPLACE_KEYS",
            "REPLACE_KEYS",
            "SCHEMA_VERSION",
            "bandwidth_size_rule",
            "check_inputs",
            "migrate_state",
        ),
        ".huawei.desired": ("Desired",),
        ".huawei.eip": ("EipClient", "PublicIp"),
        ".huawei.lifecycle": ("create_batch", "delete_batch", "read_batch", "update_batch"),
        ".huawei.ownership": ("ADOPTED_KEYS", "SEEN"),
        ".huawei.session": ("EipSession",),
        ".huawei.tags": ("RESERVED_TAG_KEYS",),
    },
)


def __getattr__(name: str) -> Any:
    return _HALF.attribute(name)


@attrs.frozen
class BandwidthArgs:
    """The bandwidth of an EipBatch: a dedicated one per EIP (``share_type="PER"``) or
    an existing shared one (``share_type="WHOLE"`` with its ``id``)."""

    size: pulumi.Input[int] | None = None
    share_type: pulumi.Input[str] = "PER"
    charge_mode: pulumi.Input[str] | None = None
    name: pulumi.Input[str] | None = None
    id: pulumi.Input[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in attrs.asdict(self, recurse=False).items() if v is not None}


def _eip_output(eip: PublicIp) -> dict[str, Any]:
    return {
        "id": eip.id,
        "public_ip": eip.address or "",
        "bandwidth_id": eip.bandwidth_id or "",
        "status": eip.status,
        "port_id": eip.port_id or "",
    }


@_HALF.loading  # also called by the testing kit's mocks, outside the provider's methods
def outputs(
    props: Mapping[str, Any], settings: cfg.HuaweiSettings, batch_id: str, eips: list[PublicIp]
) -> dict[str, Any]:
    outs = {
        "schema_version": SCHEMA_VERSION,
        "batch_id": batch_id,
        "count": int(props.get("count", len(eips))),
        "publicip_type": props.get("publicip_type", "5_bgp"),
        "ip_version": int(props.get("ip_version", 4)),
        "bandwidth": dict(props.get("bandwidth") or {}),
        "tags": dict(props.get("tags") or {}),
        "region": settings.region,
        "project_id": settings.project_id,
        "eip_ids": [e.id for e in eips],
        "public_ips": [e.address or "" for e in eips],
        "bandwidth_ids": [e.bandwidth_id or "" for e in eips],
        "eips": [_eip_output(e) for e in eips],
    }
    if props.get("enterprise_project_id") is not None:
        outs["enterprise_project_id"] = props["enterprise_project_id"]
    for key in ADOPTED_KEYS:  # what the create adopted by: such inputs never act again
        if props.get(key):
            outs[key] = props[key]
    return outs


def _inputs_from_cloud(eips: list[PublicIp]) -> dict[str, Any]:
    first = eips[0]
    bandwidth: dict[str, Any] = {"share_type": first.bandwidth_share_type or "PER"}
    if bandwidth["share_type"] == "WHOLE":
        bandwidth["id"] = first.bandwidth_id
    else:
        bandwidth["size"] = first.bandwidth_size
        if first.bandwidth_name:
            bandwidth["name"] = first.bandwidth_name
    inputs: dict[str, Any] = {
        "count": len(eips),
        "publicip_type": first.type or "5_bgp",
        "ip_version": first.ip_version,
        "bandwidth": bandwidth,
        "tags": {k: v for k, v in first.tags.items() if k not in RESERVED_TAG_KEYS},
    }
    if first.enterprise_project_id:
        inputs["enterprise_project_id"] = first.enterprise_project_id
    return inputs


def _with_cloud_sizes(props: dict[str, Any], eips: list[PublicIp]) -> dict[str, Any]:
    """A dedicated bandwidth resized outside Pulumi shows in the refreshed outputs (so
    the next diff sees it and `up` restores the size the program asks for)."""
    # The user's tags as the cloud has them (set by hand, or left by a failed step):
    # the next diff then sees a difference and `up` sets the program's tags again.
    cloud_tags = [{k: v for k, v in e.tags.items() if k not in RESERVED_TAG_KEYS} for e in eips]
    if cloud_tags and any(t != dict(props.get("tags") or {}) for t in cloud_tags):
        props = {**props, "tags": next(t for t in cloud_tags if t != props.get("tags"))}
    bandwidth = dict(props.get("bandwidth") or {})
    if bandwidth.get("share_type", "PER") != "PER":
        return props
    sizes = {e.bandwidth_size for e in eips if e.bandwidth_size is not None}
    drifted = sorted(sizes - {bandwidth.get("size")})
    if drifted:
        bandwidth["size"] = drifted[-1]
        return {**props, "bandwidth": bandwidth}
    return props


class EipBatchProvider(BatchIpProvider, half=_HALF):
    """The dynamic provider behind :class:`EipBatch` (pickled by reference: keep this
    class at this import path)."""

    def _ops(self, props: Mapping[str, Any]) -> tuple[EipSession, cfg.HuaweiSettings]:
        settings = cfg.resolve_huawei(
            self.stack_config,
            region=props.get("region") or None,
            project_id=props.get("project_id") or None,
        )
        key = ("eip", settings.endpoint, settings.project_id, settings.credentials)
        http_timeout = self.http_timeout()
        client = self.cached_client(
            key, lambda: EipClient.from_settings(settings, timeout=http_timeout)
        )
        timeout = cfg.eip_job_timeout(self.stack_config)
        return EipSession(client, timeout=timeout, say=progress), settings

    # -- check / diff ---------------------------------------------------------------
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = check_inputs(news)
        SEEN.note_old_inputs(olds)
        # The batch id a create of these inputs gives its EIPs, chosen here so the
        # engine records it (in pending_operations, should the create be interrupted):
        # what `orphans` may release rests on it. An existing resource keeps its own.
        # The engine checks a replacement again without olds (step_generator.go,
        # "recompute the default values"), so a replacement gets a fresh one.
        if not olds:
            inputs["batch_id"] = str(uuid.uuid4())
        elif isinstance(olds.get("batch_id"), str):
            inputs["batch_id"] = olds["batch_id"]
        return CheckResult(inputs, failures.items)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        SEEN.note_outputs(id_, olds)
        olds = migrate_state(olds)
        replaces = []
        defaults = {
            "region": cfg.configured(cfg.HUAWEI_REGION, self.stack_config),
            "project_id": cfg.configured(cfg.HUAWEI_PROJECT_ID, self.stack_config),
        }
        for key in REPLACE_KEYS:
            new = news.get(key)
            if new is None:
                new = defaults.get(key) or olds.get(key)
            if is_unknown(new) or new != olds.get(key):
                replaces.append(key)
        new_bw, old_bw = news.get("bandwidth") or {}, olds.get("bandwidth") or {}
        if is_unknown(new_bw) or any(
            is_unknown(new_bw.get(k)) or new_bw.get(k) != old_bw.get(k)
            for k in BANDWIDTH_REPLACE_KEYS
        ):
            replaces.append("bandwidth")
        changes = list(replaces)
        if not is_unknown(new_bw) and (
            is_unknown(new_bw.get("size")) or new_bw.get("size") != old_bw.get("size")
        ):
            changes.append("bandwidth.size")
        count = news.get("count")
        if is_unknown(count) or count != len(olds.get("eip_ids") or ()):
            changes.append("count")
        if contains_unknown(news.get("tags")) or (news.get("tags") or {}) != (
            olds.get("tags") or {}
        ):
            changes.append("tags")
        return DiffResult(changes=bool(changes), replaces=replaces, stables=["batch_id"])

    def create(self, props: dict[str, Any]) -> CreateResult:
        ops, settings = self._ops(props)
        batch_id = str(props.get("batch_id") or uuid.uuid4())
        SEEN.note_live(batch_id)
        made = create_batch(ops, Desired.from_inputs(batch_id, props), operation="create")
        return CreateResult(
            batch_id, outputs({**props, **made.adopted}, settings, batch_id, made.eips)
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        ops, settings = self._ops(props)
        if "count" in props:  # a `.get` view owns nothing
            SEEN.note_outputs(id_, props)
        eips = read_batch(ops, id_, list(props.get("eip_ids") or ()))
        if not eips:
            return ReadResult(None, {})
        if "count" not in props:  # a `.get`: rebuild the inputs from what exists
            inputs = _inputs_from_cloud(eips)
            return ReadResult(id_, outputs(inputs, settings, id_, eips), inputs)
        # `count` says what exists (the next diff compares the program's count with it).
        found = {**_with_cloud_sizes(migrate_state(props), eips), "count": len(eips)}
        return ReadResult(id_, outputs(found, settings, id_, eips))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        olds = migrate_state(olds)
        ops, settings = self._ops(news)
        SEEN.note_outputs(id_, olds)
        eips = update_batch(
            ops,
            Desired.from_inputs(id_, olds),
            Desired.from_inputs(id_, news),
            list(olds.get("eip_ids") or ()),
            operation="update",
        )
        record = {k: olds[k] for k in ADOPTED_KEYS if k in olds}
        return UpdateResult(outputs({**news, **record}, settings, id_, eips))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        props = migrate_state(props)
        ops, _settings = self._ops(props)
        delete_batch(ops, id_, list(props.get("eip_ids") or ()))


class EipBatch(Resource, module="batchip", name="EipBatch"):
    """``count`` Huawei Cloud elastic IPs created together through ``batchpublicips``,
    each with a dedicated (``PER``) bandwidth or inside a shared (``WHOLE``) one.

    ``count``, ``tags`` and ``bandwidth.size`` change in place; anything else replaces the
    batch. Every EIP carries the tags ``managed-by=pulumi-batchip`` and
    ``pulumi-batchip-batch=<batch_id>``.
    """

    batch_id: pulumi.Output[str]
    """The batch id (also the resource id): the value of every EIP's batch tag."""
    count: pulumi.Output[int]
    """How many EIPs the batch holds."""
    publicip_type: pulumi.Output[str]
    """The EIP line type: ``5_bgp``, ``5_sbgp`` or ``5_union``."""
    ip_version: pulumi.Output[int]
    """4 or 6."""
    bandwidth: pulumi.Output[dict[str, Any]]
    """The bandwidth settings: size, share_type, charge_mode, name, id."""
    tags: pulumi.Output[dict[str, str]]
    """The user's tags (the two pulumi-batchip tags are not listed)."""
    enterprise_project_id: pulumi.Output[str | None]
    """The enterprise project the EIPs belong to, when given."""
    region: pulumi.Output[str]
    """The Huawei Cloud region, e.g. ``cn-north-4``."""
    project_id: pulumi.Output[str]
    """The Huawei Cloud project id."""
    eip_ids: pulumi.Output[list[str]]
    """The EIP ids, in a stable order (new EIPs are appended; the newest go first)."""
    public_ips: pulumi.Output[list[str]]
    """The public addresses of the requested IP version, in ``eip_ids`` order."""
    bandwidth_ids: pulumi.Output[list[str]]
    """Each EIP's bandwidth id, in ``eip_ids`` order."""
    eips: pulumi.Output[list[dict[str, str]]]
    """Per EIP: ``id``, ``public_ip``, ``bandwidth_id``, ``status``, ``port_id``."""

    def __init__(
        self,
        resource_name: str,
        *,
        count: pulumi.Input[int],
        bandwidth: BandwidthArgs | pulumi.Input[Mapping[str, Any]],
        publicip_type: pulumi.Input[str] = "5_bgp",
        ip_version: pulumi.Input[int] = 4,
        tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        enterprise_project_id: pulumi.Input[str] | None = None,
        region: pulumi.Input[str] | None = None,
        project_id: pulumi.Input[str] | None = None,
        adopt_batch_id: pulumi.Input[str] | None = None,
        adopt_eip_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``adopt_batch_id`` / ``adopt_eip_ids``: existing EIPs (say, left by an
        interrupted `pulumi up`) become members of this batch instead of being created;
        ``count`` then tops up or releases. They act on create only."""
        props = _seeded_props()
        props.update(
            count=count,
            bandwidth=bandwidth.to_dict() if isinstance(bandwidth, BandwidthArgs) else bandwidth,
            publicip_type=publicip_type,
            ip_version=ip_version,
            tags=tags,
            enterprise_project_id=enterprise_project_id,
            region=region,
            project_id=project_id,
            adopt_batch_id=adopt_batch_id,
            adopt_eip_ids=adopt_eip_ids,
            # Scopes the EIPs to this stack (a tag), so `orphans` finds only its own.
            stack_scope=f"{pulumi.get_project()}/{pulumi.get_stack()}",
        )
        super().__init__(EipBatchProvider(), resource_name, props, opts)

    @staticmethod
    def get(
        resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
    ) -> EipBatch:
        """A read-only view of an existing batch, by its batch id: Pulumi never updates
        or deletes a resource read this way. To own existing EIPs, create an EipBatch
        with ``adopt_batch_id`` or ``adopt_eip_ids``."""
        merged = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        resource = EipBatch.__new__(EipBatch)
        Resource.__init__(resource, EipBatchProvider(), resource_name, _seeded_props(), merged)
        return resource


def _seeded_props() -> dict[str, Any]:
    # Outputs resolve only for keys present in props (as None until known).
    return dict.fromkeys(
        (
            "batch_id",
            "count",
            "publicip_type",
            "ip_version",
            "bandwidth",
            "tags",
            "enterprise_project_id",
            "region",
            "project_id",
            "eip_ids",
            "public_ips",
            "bandwidth_ids",
            "eips",
        )
    )
