"""EipBatch: N Huawei Cloud elastic IPs created together, with their bandwidth."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

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
from ._provider import (
    BatchIpProvider,
    Failures,
    coerce_int,
    contains_unknown,
    is_unknown,
    named_list,
    progress,
)
from .eip_operations import (
    BATCH_TAG_KEY,
    RESERVED_TAG_KEYS,
    BatchOperations,
    EipBatchError,
    batch_tags,
    stack_tag_value,
)
from .errors import AuthError, BatchIpError
from .huawei.confirm import ListContradiction
from .huawei.eip import BandwidthSpec, BatchCreateRequest, EipClient, PublicIp
from .huawei.ownership import ADOPTED_KEYS, SEEN, adoption_refusals, taken_by_another

MAX_COUNT = 1000
PUBLICIP_TYPES = ("5_bgp", "5_sbgp", "5_union")
SHARE_TYPES = ("PER", "WHOLE")
CHARGE_MODES = ("bandwidth", "traffic")
# The strictest published rules, so a tag valid here is valid in every region.
# ASCII letters, digits, "_", "-" and CJK ideographs (bandwidth names also "."), as
# the EIP tag and bandwidth docs state; fullmatch, so a trailing newline never passes.
# Tag values: the current BatchCreatePublicipTags page and the API Reference's
# Table 4-41 leave out the "." older pages allowed (docs/design.md).
_CJK = "\u4e00-\u9fff"
TAG_KEY_RE = re.compile(rf"[A-Za-z0-9_\-{_CJK}]{{1,36}}")
TAG_VALUE_RE = re.compile(rf"[A-Za-z0-9_\-{_CJK}]{{0,43}}")
# A shared bandwidth holds at most 20 EIPs (API Reference §4.4.1; quota
# shareBandwidthIP 20).
WHOLE_MAX_EIPS = 20
MAX_USER_TAGS = 7  # 10 per EIP where the limit is lowest, minus our three
BANDWIDTH_NAME_RE = re.compile(rf"[A-Za-z0-9_.\-{_CJK}]{{1,64}}")
MAX_ID_LENGTH = 64  # ids, regions and project ids: bounded, so errors stay small
# region and project_id follow the vendor's formats (config.py, stated once there).
ID_RULES = {"region": cfg.huawei_region_problem, "project_id": cfg.huawei_project_id_problem}
BATCH_ID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
# Changing any of these means new EIPs; count and tags change in place.
REPLACE_KEYS = ("publicip_type", "ip_version", "enterprise_project_id", "region", "project_id")
# A bandwidth's size changes in place (UpdateBandwidth); its other settings replace.
BANDWIDTH_REPLACE_KEYS = ("share_type", "charge_mode", "name", "id")


def bandwidth_size_rule(size: int) -> str | None:
    """Sizes are 1..2000 Mbit/s in steps of 1 up to 300, 50 up to 1000, 500 above."""
    if not 1 <= size <= 2000:
        return f"must be within 1..2000 Mbit/s, not {size}"
    if 300 < size <= 1000 and size % 50:
        return f"above 300 Mbit/s must be a multiple of 50, not {size}"
    if size > 1000 and size % 500:
        return f"above 1000 Mbit/s must be a multiple of 500, not {size}"
    return None


def _check_bandwidth(raw: object, ip_version: object, f: Failures) -> dict[str, Any] | None:
    if is_unknown(raw):
        return None
    if not isinstance(raw, dict):
        f.add("bandwidth", "must be a BandwidthArgs or a dict with size and share_type")
        return None
    out: dict[str, Any] = {}
    unknown_keys = sorted(set(raw) - {"size", "share_type", "charge_mode", "name", "id"})
    if unknown_keys:
        f.add(
            "bandwidth", f"unknown keys {unknown_keys}; use size, share_type, charge_mode, name, id"
        )
    share = raw.get("share_type", "PER")
    if not is_unknown(share) and share not in SHARE_TYPES:
        f.add("bandwidth.share_type", f"must be one of {', '.join(SHARE_TYPES)}, not {share!r}")
    out["share_type"] = share
    bw_id = raw.get("id")
    if (
        bw_id is not None
        and not is_unknown(bw_id)
        and (not isinstance(bw_id, str) or not 0 < len(bw_id.strip()) <= MAX_ID_LENGTH)
    ):
        f.add("bandwidth.id", f"must be a bandwidth id (a string of 1..{MAX_ID_LENGTH})")
        bw_id = None
    if share == "WHOLE":
        if bw_id is None or (isinstance(bw_id, str) and not bw_id.strip()):
            f.add("bandwidth.id", "share_type WHOLE needs the id of an existing shared bandwidth")
        if ip_version == 6:
            f.add("bandwidth.share_type", "IPv6 EIPs cannot use a WHOLE (shared) bandwidth")
    elif bw_id is not None and share == "PER":
        f.add("bandwidth.id", "only a WHOLE (shared) bandwidth takes an id")
    if bw_id is not None:
        out["id"] = bw_id
    size = raw.get("size")
    if size is None:
        if share != "WHOLE":
            f.add("bandwidth.size", "is required for a dedicated (PER) bandwidth")
    elif not is_unknown(size):
        as_int = coerce_int(size)
        problem = (
            "must be a whole number of Mbit/s" if as_int is None else bandwidth_size_rule(as_int)
        )
        if problem:
            f.add("bandwidth.size", problem)
        size = as_int if as_int is not None else size
    if size is not None:
        out["size"] = size
    charge = raw.get("charge_mode", "bandwidth")
    if not is_unknown(charge):
        if charge not in CHARGE_MODES:
            f.add("bandwidth.charge_mode", f"must be bandwidth or traffic, not {charge!r}")
        elif charge == "traffic" and isinstance(size, int) and size > 300:
            f.add("bandwidth.size", "charge_mode traffic allows at most 300 Mbit/s")
    out["charge_mode"] = charge
    name = raw.get("name")
    if name is not None:
        if not is_unknown(name) and (
            not isinstance(name, str) or not BANDWIDTH_NAME_RE.fullmatch(name)
        ):
            f.add("bandwidth.name", "must be 1..64 letters, digits, '_', '-' or '.'")
        out["name"] = name
    return out


def _check_tags(raw: object, f: Failures) -> dict[str, Any] | None:
    if raw is None:
        return {}
    if is_unknown(raw):
        return None
    if not isinstance(raw, dict):
        f.add("tags", "must be a map of strings to strings")
        return None
    if len(raw) > MAX_USER_TAGS:
        f.add("tags", f"at most {MAX_USER_TAGS} tags (an EIP holds 10, three are ours)")
    for key, value in raw.items():
        if key in RESERVED_TAG_KEYS:
            f.add("tags", f"key {key!r} is reserved for pulumi-batchip")
        elif not isinstance(key, str) or not TAG_KEY_RE.fullmatch(key):
            f.add("tags", f"key {_short(key)} must be 1..36 letters, digits, '_' or '-'")
        if not is_unknown(value) and (
            not isinstance(value, str) or not TAG_VALUE_RE.fullmatch(value)
        ):
            f.add("tags", f"value of {_short(key)} must be 0..43 letters, digits, '_' or '-'")
    return dict(raw)


def check_inputs(news: Mapping[str, Any]) -> tuple[dict[str, Any], Failures]:
    """Every input rule of the README as failures on the offending property; unknown-safe."""
    f = Failures()
    out: dict[str, Any] = {}
    count = news.get("count")
    if is_unknown(count):
        out["count"] = count
    else:
        as_int = coerce_int(count)
        if as_int is None:
            f.add("count", f"must be a whole number within 1..{MAX_COUNT}, not {count!r}")
        elif not 1 <= as_int <= MAX_COUNT:
            f.add("count", f"must be within 1..{MAX_COUNT}, not {as_int}")
        out["count"] = as_int if as_int is not None else count
    ptype = news.get("publicip_type", "5_bgp")
    if not is_unknown(ptype) and ptype not in PUBLICIP_TYPES:
        f.add("publicip_type", f"must be one of {', '.join(PUBLICIP_TYPES)}, not {ptype!r}")
    out["publicip_type"] = ptype
    version = news.get("ip_version", 4)
    if not is_unknown(version):
        version = coerce_int(version) if coerce_int(version) is not None else version
        if version not in (4, 6):
            f.add("ip_version", f"must be 4 or 6, not {version!r}")
    out["ip_version"] = version
    bandwidth = _check_bandwidth(news.get("bandwidth"), version, f)
    out["bandwidth"] = bandwidth if bandwidth is not None else news.get("bandwidth")
    tags = _check_tags(news.get("tags"), f)
    out["tags"] = tags if tags is not None else news.get("tags")
    for key in ("enterprise_project_id", "region", "project_id"):
        value = news.get(key)
        if value is None:
            continue
        if is_unknown(value):
            pass
        elif key in ID_RULES:  # the vendor formats: in the endpoint host, the URL paths
            value = value.strip() if isinstance(value, str) else value
            if problem := ID_RULES[key](value):
                f.add(key, problem)
        elif not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_ID_LENGTH:
            f.add(key, f"must be a non-empty string of at most {MAX_ID_LENGTH} characters")
        out[key] = value
    if out.get("bandwidth") is None:
        f.add("bandwidth", "is required: BandwidthArgs(size=..., share_type='PER'|'WHOLE', ...)")
    elif (
        isinstance(out["bandwidth"], dict)
        and out["bandwidth"].get("share_type") == "WHOLE"
        and isinstance(out.get("count"), int)
        and out["count"] > WHOLE_MAX_EIPS
    ):
        f.add(
            "count",
            f"a shared (WHOLE) bandwidth holds at most {WHOLE_MAX_EIPS} EIPs, not {out['count']}",
        )
    _check_adoption(news, out, f)
    scope = news.get("stack_scope")
    if isinstance(scope, str) and scope:
        out["stack_scope"] = scope  # set by EipBatch itself: <project>/<stack>
    return out, f


SCHEMA_VERSION = 1


def migrate_state(props: Mapping[str, Any]) -> dict[str, Any]:
    """State written by any earlier version, brought to the current shape: the
    defaults `check` applies today, filled where older code left them out, so an
    absent key never reads as a change (a bandwidth without ``charge_mode`` would
    otherwise replace the whole batch)."""
    out = dict(props)
    out.setdefault("publicip_type", "5_bgp")
    out.setdefault("ip_version", 4)
    out["tags"] = dict(out.get("tags") or {})
    bandwidth = dict(out.get("bandwidth") or {})
    bandwidth.setdefault("share_type", "PER")
    bandwidth.setdefault("charge_mode", "bandwidth")
    out["bandwidth"] = bandwidth
    if "count" not in out and out.get("eip_ids") is not None:
        out["count"] = len(out["eip_ids"])
    out["schema_version"] = SCHEMA_VERSION
    return out


def _short(value: object) -> str:
    """A user's value quoted in an error, cut short (errors travel in gRPC metadata)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_adoption(news: Mapping[str, Any], out: dict[str, Any], f: Failures) -> None:
    batch = news.get("adopt_batch_id")
    if batch is not None:
        if not is_unknown(batch) and (
            not isinstance(batch, str) or not BATCH_ID_RE.match(batch.strip())
        ):
            f.add("adopt_batch_id", "must be the batch id of EIPs made by pulumi-batchip (a UUID)")
        out["adopt_batch_id"] = batch.strip() if isinstance(batch, str) else batch
    ids = news.get("adopt_eip_ids")
    if ids is None or is_unknown(ids):
        if ids is not None:
            out["adopt_eip_ids"] = ids
        return
    if not isinstance(ids, list) or not all(
        is_unknown(i) or (isinstance(i, str) and i.strip()) for i in ids
    ):
        f.add("adopt_eip_ids", "must be a list of EIP ids (non-empty strings)")
    elif len({i for i in ids if isinstance(i, str)}) != len(ids):
        f.add("adopt_eip_ids", "holds an id twice")
    out["adopt_eip_ids"] = ids


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


def _ordered(eips: list[PublicIp], previous: list[str]) -> list[PublicIp]:
    """Stable order: EIPs already in state keep their place, new ones follow by
    creation time, then address in numeric order (100.64.0.2 before 100.64.0.10)."""
    rank = {eip_id: n for n, eip_id in enumerate(previous)}
    known = sorted((e for e in eips if e.id in rank), key=lambda e: rank[e.id])
    new = sorted(
        (e for e in eips if e.id not in rank),
        key=lambda e: (e.create_time or "", _address_key(e.address), e.id),
    )
    return known + new


def _address_key(address: str | None) -> tuple[int, int]:
    """Numeric order of addresses (IPv4 before IPv6); none, or not an address, last."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return (7, 0)
    return (parsed.version, int(parsed))


class EipBatchProvider(BatchIpProvider):
    """The dynamic provider behind :class:`EipBatch` (pickled by reference: keep this
    class at this import path)."""

    def _ops(self, props: Mapping[str, Any]) -> tuple[BatchOperations, cfg.HuaweiSettings]:
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
        return BatchOperations(client, timeout=timeout, say=progress), settings

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

    # -- create ---------------------------------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        ops, settings = self._ops(props)
        batch_id = str(props.get("batch_id") or uuid.uuid4())
        SEEN.note_live(batch_id)
        wanted = int(props["count"])
        props = _without_spent_adoption(batch_id, props)
        if props.get("adopt_batch_id") or props.get("adopt_eip_ids"):
            eips = self._create_adopting(ops, batch_id, props, wanted)
            record = {
                ADOPTED_KEYS[0]: props.get("adopt_batch_id"),
                ADOPTED_KEYS[1]: list(props.get("adopt_eip_ids") or ()),
            }
            return CreateResult(batch_id, _outputs({**props, **record}, settings, batch_id, eips))
        request = _request(props, batch_id, wanted)
        progress(f"EipBatch {batch_id}: creating {request.count} EIPs")
        try:
            ids = ops.create(request, batch_id, base=0)
            eips = ops.created(ids, new=ids)
        except BatchIpError as exc:
            raise ops.fail_with_cleanup(batch_id, exc, operation="create") from exc
        return CreateResult(batch_id, _outputs(props, settings, batch_id, _ordered(eips, [])))

    def _create_adopting(
        self, ops: BatchOperations, batch_id: str, props: Mapping[str, Any], wanted: int
    ) -> list[PublicIp]:
        """Existing EIPs become members of the new batch (tagged with it) instead of
        being created; then the batch is topped up or trimmed (newest first) to count.
        If a later step fails, the adopted EIPs get their own tags back."""
        adopted = _ordered(_adoptable(ops, props), [])
        doomed = adopted[wanted:]
        _check_trim(doomed, wanted, len(adopted))
        progress(
            f"EipBatch {batch_id}: adopting {len(adopted)} EIPs "
            f"({named_list([e.id for e in adopted])}), then {wanted} in all"
        )
        tags = batch_tags(batch_id, dict(props.get("tags") or {}), props.get("stack_scope"))
        done: list[PublicIp] = []

        def tag(eip: PublicIp) -> None:
            ops.client.create_tags(eip.id, tags)
            done.append(eip)

        try:
            ops.map(tag, adopted)
        except BatchIpError as exc:
            raise EipBatchError(
                f"EipBatch create failed while adopting: {exc}. No EIP was created or "
                f"released; {_restored(ops, done, tags)}"
            ) from exc
        keep = [e.id for e in adopted]
        if wanted > len(adopted):
            request = _request(props, batch_id, wanted - len(adopted))
            progress(f"EipBatch {batch_id}: creating {request.count} EIPs")
            try:
                ids = ops.create(request, batch_id, base=len(adopted))
                new = [i for i in ids if i not in set(keep)]
                return _ordered(ops.created(keep + new, new=new), keep)
            except BatchIpError as exc:
                failed = ops.fail_with_cleanup(batch_id, exc, keep=keep, operation="create")
                raise EipBatchError(f"{failed} {_restored(ops, adopted, tags)}") from exc
        if doomed:
            progress(f"EipBatch {batch_id}: releasing the {len(doomed)} newest adopted EIPs")
            ops.delete([e.id for e in doomed])
        return _ordered(ops.details(keep[:wanted]), keep)

    # -- read -----------------------------------------------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        ops, settings = self._ops(props)
        if "count" in props:  # a `.get` view owns nothing
            SEEN.note_outputs(id_, props)
        ids = _batch_members(ops, id_, props)
        with _stopped(id_, "The batch stays in the state as it was."):
            eips = _ordered(_own(id_, ops.details(ids)), list(props.get("eip_ids") or ()))
        if not eips:
            return ReadResult(None, {})
        if "count" not in props:  # a `.get`: rebuild the inputs from what exists
            inputs = _inputs_from_cloud(eips)
            return ReadResult(id_, _outputs(inputs, settings, id_, eips), inputs)
        # `count` says what exists (the next diff compares the program's count with it).
        found = {**_with_cloud_sizes(migrate_state(props), eips), "count": len(eips)}
        return ReadResult(id_, _outputs(found, settings, id_, eips))

    # -- update ---------------------------------------------------------------------
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        olds = migrate_state(olds)
        ops, settings = self._ops(news)
        previous = list(olds.get("eip_ids") or ())
        tagged = ops.find_ids(id_)
        members = tagged + [i for i in previous if i not in set(tagged)]
        SEEN.note_outputs(id_, olds)
        with _stopped(id_, "Nothing was changed."):
            existing = _ordered(_own(id_, ops.details(members)), previous)
        # What the list shows carrying the batch tag counts too: a tag query that
        # answered short (a caller without rights) must not shrink the grow's base.
        tagged += [
            e.id for e in existing if e.tags.get(BATCH_TAG_KEY) == id_ and e.id not in set(tagged)
        ]
        wanted = int(news["count"])
        doomed = existing[wanted:]
        if bound := [e for e in doomed if e.port_id]:
            listing = ", ".join(f"{e.id} ({e.address}, port {e.port_id})" for e in bound)
            raise BatchIpError(
                f"EipBatch {id_}: count {len(existing)} -> {wanted} would release "
                f"{len(bound)} bound EIP(s): {listing}. Unbind them first (or keep the "
                "count); nothing was changed."
            )
        # Reversible steps first (resize, retag), the irreversible release last; if a
        # later step fails, the reversible ones are undone, so cloud and state agree.
        undo: list[tuple[str, Any]] = []
        old_tags, new_tags = dict(olds.get("tags") or {}), dict(news.get("tags") or {})
        try:
            if self._resize(ops, existing, olds, news):
                undo.append(
                    (
                        "bandwidth sizes",
                        lambda ids=[e.id for e in existing]: self._resize(
                            ops, ops.details(ids), news, olds
                        ),
                    )
                )
            if old_tags != new_tags:
                self._retag(ops, existing, old_tags, new_tags)
                undo.append(
                    ("tags", lambda e=list(existing): self._retag(ops, e, new_tags, old_tags))
                )
            if wanted > len(existing):
                existing = self._grow(ops, id_, news, existing, wanted, tagged=tagged)
            elif doomed:
                self._release(ops, id_, doomed)
                existing = existing[:wanted]
        except BatchIpError as exc:
            if not undo:
                raise
            raise BatchIpError(_undone(str(exc), undo)) from exc
        if undo:  # read back the new sizes and tags
            existing = ops.details([e.id for e in existing])
        record = {k: olds[k] for k in ADOPTED_KEYS if k in olds}
        return UpdateResult(_outputs({**news, **record}, settings, id_, existing))

    @staticmethod
    def _release(ops: BatchOperations, batch_id: str, doomed: list[PublicIp]) -> None:
        listed = named_list([f"{e.address or '-'} ({e.id})" for e in doomed], first=3)
        progress(f"EipBatch {batch_id}: releasing the {len(doomed)} newest EIPs: {listed}")
        try:
            ops.delete([e.id for e in doomed])
        except BatchIpError as exc:
            try:
                left = len(ops.details([e.id for e in doomed]))
                released = f"{len(doomed) - left} of the {len(doomed)} EIPs were released"
            except BatchIpError:
                released = "how many of them were released is unknown"
            raise BatchIpError(
                f"EipBatch {batch_id}: releasing {len(doomed)} EIPs failed: {exc}. "
                f"{released}; the state still lists all of them until `pulumi refresh`."
            ) from exc

    @staticmethod
    def _grow(
        ops: BatchOperations,
        batch_id: str,
        news: Mapping[str, Any],
        existing: list[PublicIp],
        wanted: int,
        *,
        tagged: list[str],
    ) -> list[PublicIp]:
        """Add EIPs into the batch; ``tagged``: what carries its tag now (those being
        deleted, not in ``existing``, are not counted)."""
        keep = [e.id for e in existing]
        leaving = [i for i in tagged if i not in set(keep)]
        request = _request(news, batch_id, wanted - len(existing))
        progress(f"EipBatch {batch_id}: adding {request.count} EIPs")
        try:
            ids = ops.create(request, batch_id, base=len(tagged) - len(leaving), ignore=leaving)
            added = [i for i in ids if i not in set(keep)]
            return _ordered(ops.created(keep + added, new=added), keep)
        except BatchIpError as exc:
            raise ops.fail_with_cleanup(batch_id, exc, keep=keep, operation="update") from exc

    @staticmethod
    def _resize(
        ops: BatchOperations,
        eips: list[PublicIp],
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
    ) -> bool:
        """A new size for dedicated bandwidths: resize each in place; True if any was.
        A shared (WHOLE) bandwidth's size belongs to whoever manages it: nothing to do."""
        new_bw, old_bw = dict(news.get("bandwidth") or {}), dict(olds.get("bandwidth") or {})
        size = new_bw.get("size")
        if new_bw.get("share_type", "PER") != "PER" or size is None or size == old_bw.get("size"):
            return False
        names = {e.bandwidth_id: e.bandwidth_name for e in eips if e.bandwidth_id}
        todo = sorted({e.bandwidth_id for e in eips if e.bandwidth_id and e.bandwidth_size != size})
        charge = str(new_bw.get("charge_mode") or "bandwidth")
        progress(f"resizing {len(todo)} dedicated bandwidths to {int(size)} Mbit/s")
        ops.map(
            lambda bw_id: ops.client.update_bandwidth_size(
                bw_id, int(size), charge_mode=charge, name=names.get(bw_id)
            ),
            todo,
        )
        return bool(todo)

    @staticmethod
    def _retag(
        ops: BatchOperations, eips: list[PublicIp], old: dict[str, str], new: dict[str, str]
    ) -> None:
        removed = {k: v for k, v in old.items() if k not in new}
        added = {k: v for k, v in new.items() if old.get(k) != v}
        changes = [f"{k}={v}" for k, v in sorted(added.items())]
        changes += [f"removing {k}" for k in sorted(removed)]
        progress(f"retagging {len(eips)} EIPs: {named_list(changes)}")

        def one(eip: PublicIp) -> None:
            if removed:
                ops.client.delete_tags(eip.id, removed)
            if added:
                ops.client.create_tags(eip.id, added)

        try:
            ops.map(one, eips)  # threads that see the operation's deadline
        except AuthError as exc:
            if exc.status != 403:
                raise
            raise EipBatchError(
                f"changing the tags was refused: {exc}. Huawei's tag APIs do not accept "
                "rights granted through an enterprise project: grant the EIP tag "
                "permissions on the project, or leave `tags` as they were."
            ) from exc

    # -- delete ---------------------------------------------------------------------
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        props = migrate_state(props)
        ops, _settings = self._ops(props)
        with _stopped(id_, "Nothing was released; the batch stays in the state."):
            eips = _own(id_, ops.details(_batch_members(ops, id_, props)))
        bound = [e for e in eips if e.port_id]
        if bound:
            listing = ", ".join(f"{e.id} ({e.address}, port {e.port_id})" for e in bound)
            raise BatchIpError(
                f"EipBatch {id_}: refusing to delete while {len(bound)} EIP(s) are bound: "
                f"{listing}. Unbind them (or delete what uses them) first; nothing was deleted."
            )
        progress(f"EipBatch {id_}: releasing {len(eips)} EIPs")
        ops.delete([e.id for e in eips])


@contextlib.contextmanager
def _stopped(batch_id: str, outcome: str) -> Iterator[None]:
    """A list that contradicts a read by id stops the operation; say what is true after."""
    try:
        yield
    except ListContradiction as exc:
        raise ListContradiction(f"EipBatch {batch_id}: {exc} {outcome}") from exc


def _undone(failure: str, undo: list[tuple[str, Any]]) -> str:
    """Undo the reversible steps after a later one failed; say what is true after."""
    restored, failed = [], []
    for what, step in reversed(undo):
        try:
            step()
            restored.append(what)
        except BatchIpError as exc:
            failed.append(f"{what} ({exc})")
    text = failure.rstrip(". ")
    if restored:
        text += f". Restored the {' and '.join(restored)} changed before it"
    if failed:
        text += (
            f". Restoring the {'; '.join(failed)} failed too: those are changed in the "
            "cloud and not in the state; `pulumi refresh` then `pulumi up` sets them again"
        )
    return text + "."


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


def _adoptable(ops: BatchOperations, props: Mapping[str, Any]) -> list[PublicIp]:
    """The EIPs the adoption inputs name, all checked before anything changes."""
    from_batch: list[str] = []
    if props.get("adopt_batch_id"):
        from_batch = ops.find_ids(str(props["adopt_batch_id"]))
        if not from_batch:
            raise EipBatchError(
                f"adopt_batch_id: no EIP carries {BATCH_TAG_KEY}*{props['adopt_batch_id']} "
                "(if a batch adopted it already, remove adopt_batch_id from the program: "
                "adoption inputs act on the first create only); nothing was changed"
            )
    named = [str(i) for i in props.get("adopt_eip_ids") or ()]
    eips = ops.details(
        from_batch + [i for i in named if i not in set(from_batch)],
        said_by="adopt_batch_id / adopt_eip_ids",
    )
    found = {e.id for e in eips}
    if missing := [i for i in named if i not in found]:
        raise EipBatchError(f"adopt_eip_ids: no EIP {', '.join(missing)}; nothing was changed")
    scope = props.get("stack_scope")
    reasons = adoption_refusals(
        eips,
        stack_tag=stack_tag_value(scope) if isinstance(scope, str) else None,
        publicip_type=str(props.get("publicip_type", "5_bgp")),
        ip_version=int(props.get("ip_version", 4)),
    )
    if reasons:
        raise EipBatchError(
            f"cannot adopt {len(reasons)} of the {len(eips)} EIPs: {'; '.join(reasons[:5])}"
            f"{f'; and {len(reasons) - 5} more' if len(reasons) > 5 else ''}. Adopt only "
            "what `python -m pulumi_batchip orphans` lists for this stack, or EIPs made "
            "outside pulumi-batchip; nothing was changed"
        )
    return eips


def _without_spent_adoption(batch_id: str, props: dict[str, Any]) -> dict[str, Any]:
    """Adoption inputs act on the first create only: those a resource of this stack
    adopted by when it was created (its recorded outputs say so) are dropped, as on
    the create of a replacement."""
    named = [str(i) for i in props.get("adopt_eip_ids") or ()]
    spent = SEEN.acted(props.get("adopt_batch_id"), named)
    if not spent:
        return props
    progress(
        f"EipBatch {batch_id}: not adopting {named_list(spent)} again: a resource of this "
        "stack adopted by these inputs already (adoption acts on the first create only; "
        "remove adopt_batch_id / adopt_eip_ids from the program)"
    )
    kept = dict(props)
    if props.get("adopt_batch_id") in spent:
        kept.pop("adopt_batch_id")
    left = [i for i in named if i not in set(spent)]
    if left:
        kept["adopt_eip_ids"] = left
    else:
        kept.pop("adopt_eip_ids", None)
    return kept


def _check_trim(doomed: list[PublicIp], wanted: int, adopted: int) -> None:
    """Adoption with a count below what it adopts releases the newest: refused before
    anything changes for a bound EIP, and for an EIP of a pulumi-batchip batch (a
    resource of this stack the deployment has not reached yet may own that batch)."""
    if made := [e.id for e in doomed if e.tags.get(BATCH_TAG_KEY)]:
        raise EipBatchError(
            f"count {wanted} is less than the {adopted} EIPs adopted, and "
            f"{named_list(made)} belong to a pulumi-batchip batch: adoption never "
            f"releases those in the same step. Set count to {adopted}, then lower it in "
            "a later `pulumi up`; nothing was changed"
        )
    if bound := [f"{e.id} (port {e.port_id})" for e in doomed if e.port_id]:
        raise EipBatchError(
            f"count {wanted} would release {named_list(bound)} right after adopting them, "
            "and they are bound: unbind them or raise count; nothing was changed"
        )


def _restored(ops: BatchOperations, eips: Sequence[PublicIp], tags: Mapping[str, str]) -> str:
    """Give adopted EIPs their own tags back; say what is true after."""
    failed: list[str] = []
    for eip in eips:
        added = {k: v for k, v in tags.items() if k not in eip.tags}
        changed = {k: v for k, v in eip.tags.items() if k in tags and tags[k] != v}
        try:
            if added:
                ops.client.delete_tags(eip.id, added)
            if changed:
                ops.client.create_tags(eip.id, changed)
        except BatchIpError:
            failed.append(eip.id)
    if not eips:
        return "no adopted EIP was retagged."
    if not failed:
        return f"the {len(eips)} adopted EIPs have their own tags back."
    return (
        f"restoring the tags of {named_list(failed)} failed: they carry "
        f"{BATCH_TAG_KEY}*{tags[BATCH_TAG_KEY]}, which no state records; set their "
        f"{BATCH_TAG_KEY} tag back by hand, or adopt them with adopt_eip_ids."
    )


def _own(batch_id: str, eips: list[PublicIp]) -> list[PublicIp]:
    """The members still this batch's: one another batch has since tagged (adopted)
    is that batch's, never released or reported by this one."""
    if taken := taken_by_another(eips, batch_id):
        progress(
            f"EipBatch {batch_id}: {named_list([e.id for e in taken])} now carry another "
            f"batch's {BATCH_TAG_KEY} tag (adopted by it): no longer this batch's"
        )
    return [e for e in eips if e not in taken]


def _batch_members(ops: BatchOperations, batch_id: str, props: Mapping[str, Any]) -> list[str]:
    """The batch tag's EIPs plus those the state lists: an EIP whose tags someone
    removed is still ours to keep track of and to delete."""
    ids = ops.find_ids(batch_id)
    return ids + [i for i in props.get("eip_ids") or () if i not in set(ids)]


def _request(props: Mapping[str, Any], batch_id: str, count: int) -> BatchCreateRequest:
    bw = dict(props["bandwidth"])
    share = bw.get("share_type", "PER")
    name = bw.get("name") or (f"batchip-{batch_id[:8]}" if share == "PER" else None)
    return BatchCreateRequest(
        count=count,
        publicip_type=str(props.get("publicip_type", "5_bgp")),
        ip_version=int(props.get("ip_version", 4)),
        bandwidth=BandwidthSpec(
            size=int(bw["size"]) if bw.get("size") is not None else 0,
            share_type=share,
            charge_mode=bw.get("charge_mode"),
            name=name,
            id=bw.get("id"),
        ),
        tags=batch_tags(batch_id, dict(props.get("tags") or {}), props.get("stack_scope")),
        enterprise_project_id=props.get("enterprise_project_id"),
    )


def _outputs(
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
