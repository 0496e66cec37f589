"""EipBatch's inputs, declared once: each field's README row, default, whether a change
replaces the batch, and its rule as code; the cross-field rules are small named
validators below. ``check_inputs``, ``REPLACE_KEYS`` and ``migrate_state`` come from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from . import config as cfg
from ._provider import Failures, coerce_int, is_unknown
from .huawei.tags import RESERVED_TAG_KEYS
from .inputs import Declaration, Field, Rule

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
BATCH_ID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
# A bandwidth's size changes in place (UpdateBandwidth); its other settings replace.
BANDWIDTH_REPLACE_KEYS = ("share_type", "charge_mode", "name", "id")
BANDWIDTH_KEYS = ("size", *BANDWIDTH_REPLACE_KEYS)
BANDWIDTH_DEFAULTS = {"share_type": "PER", "charge_mode": "bandwidth"}
SCHEMA_VERSION = 1


def bandwidth_size_rule(size: int) -> str | None:
    """Sizes are 1..2000 Mbit/s in steps of 1 up to 300, 50 up to 1000, 500 above."""
    if not 1 <= size <= 2000:
        return f"must be within 1..2000 Mbit/s, not {size}"
    if 300 < size <= 1000 and size % 50:
        return f"above 300 Mbit/s must be a multiple of 50, not {size}"
    if size > 1000 and size % 500:
        return f"above 1000 Mbit/s must be a multiple of 500, not {size}"
    return None


def _short(value: object) -> str:
    """A user's value quoted in an error, cut short (errors travel in gRPC metadata)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# -- the rules of single fields: (raw value, failures, inputs checked so far) -> value --
def _count(raw: Any, f: Failures, _out: Mapping[str, Any]) -> Any:
    as_int = coerce_int(raw)
    if as_int is None:
        f.add("count", f"must be a whole number within 1..{MAX_COUNT}, not {raw!r}")
    elif not 1 <= as_int <= MAX_COUNT:
        f.add("count", f"must be within 1..{MAX_COUNT}, not {as_int}")
    return as_int if as_int is not None else raw


def _publicip_type(raw: Any, f: Failures, _out: Mapping[str, Any]) -> Any:
    if raw not in PUBLICIP_TYPES:
        f.add("publicip_type", f"must be one of {', '.join(PUBLICIP_TYPES)}, not {raw!r}")
    return raw


def _ip_version(raw: Any, f: Failures, _out: Mapping[str, Any]) -> Any:
    version = coerce_int(raw) if coerce_int(raw) is not None else raw
    if version not in (4, 6):
        f.add("ip_version", f"must be 4 or 6, not {version!r}")
    return version


def _bandwidth(raw: Any, f: Failures, out: Mapping[str, Any]) -> Any:
    if not isinstance(raw, dict):
        f.add("bandwidth", "must be a BandwidthArgs or a dict with size and share_type")
        return raw
    checked: dict[str, Any] = {}
    unknown_keys = sorted(set(raw) - set(BANDWIDTH_KEYS))
    if unknown_keys:
        f.add(
            "bandwidth", f"unknown keys {unknown_keys}; use size, share_type, charge_mode, name, id"
        )
    share = raw.get("share_type", BANDWIDTH_DEFAULTS["share_type"])
    if not is_unknown(share) and share not in SHARE_TYPES:
        f.add("bandwidth.share_type", f"must be one of {', '.join(SHARE_TYPES)}, not {share!r}")
    checked["share_type"] = share
    bw_id = _bandwidth_id(raw.get("id"), share, out.get("ip_version"), f)
    if bw_id is not None:
        checked["id"] = bw_id
    size = _bandwidth_size(raw.get("size"), share, f)
    if size is not None:
        checked["size"] = size
    charge = raw.get("charge_mode", BANDWIDTH_DEFAULTS["charge_mode"])
    if not is_unknown(charge):
        if charge not in CHARGE_MODES:
            f.add("bandwidth.charge_mode", f"must be bandwidth or traffic, not {charge!r}")
        elif charge == "traffic" and isinstance(size, int) and size > 300:
            f.add("bandwidth.size", "charge_mode traffic allows at most 300 Mbit/s")
    checked["charge_mode"] = charge
    name = raw.get("name")
    if name is not None:
        if not is_unknown(name) and (
            not isinstance(name, str) or not BANDWIDTH_NAME_RE.fullmatch(name)
        ):
            f.add("bandwidth.name", "must be 1..64 letters, digits, '_', '-' or '.'")
        checked["name"] = name
    return checked


def _bandwidth_id(bw_id: Any, share: Any, ip_version: Any, f: Failures) -> Any:
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
    return bw_id


def _bandwidth_size(size: Any, share: Any, f: Failures) -> Any:
    if size is None:
        if share != "WHOLE":
            f.add("bandwidth.size", "is required for a dedicated (PER) bandwidth")
        return None
    if is_unknown(size):
        return size
    as_int = coerce_int(size)
    problem = "must be a whole number of Mbit/s" if as_int is None else bandwidth_size_rule(as_int)
    if problem:
        f.add("bandwidth.size", problem)
    return as_int if as_int is not None else size


def _tags(raw: Any, f: Failures, _out: Mapping[str, Any]) -> Any:
    if not isinstance(raw, dict):
        f.add("tags", "must be a map of strings to strings")
        return raw
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


def _enterprise_project_id(raw: Any, f: Failures, _out: Mapping[str, Any]) -> Any:
    if not isinstance(raw, str) or not 0 < len(raw.strip()) <= MAX_ID_LENGTH:
        f.add(
            "enterprise_project_id",
            f"must be a non-empty string of at most {MAX_ID_LENGTH} characters",
        )
    return raw


def _vendor_format(key: str, problem_of: Callable[[Any], str | None]) -> Rule:
    """region and project_id follow the vendor's formats (config.py, stated once there):
    they go into the endpoint host and the URL paths."""

    def rule(raw: Any, f: Failures, _out: Mapping[str, Any]) -> Any:
        value = raw.strip() if isinstance(raw, str) else raw
        if problem := problem_of(value):
            f.add(key, problem)
        return value

    return rule


def _adopt_batch_id(raw: Any, f: Failures, _out: Mapping[str, Any]) -> Any:
    if not isinstance(raw, str) or not BATCH_ID_RE.match(raw.strip()):
        f.add("adopt_batch_id", "must be the batch id of EIPs made by pulumi-batchip (a UUID)")
    return raw.strip() if isinstance(raw, str) else raw


def _adopt_eip_ids(raw: Any, f: Failures, _out: Mapping[str, Any]) -> Any:
    if not isinstance(raw, list) or not all(
        is_unknown(i) or (isinstance(i, str) and i.strip()) for i in raw
    ):
        f.add("adopt_eip_ids", "must be a list of EIP ids (non-empty strings)")
    elif len({i for i in raw if isinstance(i, str)}) != len(raw):
        f.add("adopt_eip_ids", "holds an id twice")
    return raw


def _stack_scope(raw: Any, _f: Failures, _out: Mapping[str, Any]) -> Any:
    return raw  # set by EipBatch itself: <project>/<stack>


_ADOPTION_RULE = (
    "become members of this batch, tagged with it, instead of being created; `count` then "
    "tops up or releases the newest; checked before anything changes (each must exist and "
    "be of `ip_version`); acts on create only"
)

DECLARATION = Declaration(
    "EipBatch",
    (
        Field(
            "count", "int", f"1..{MAX_COUNT}; changes in place", "in place", _count, required=True
        ),
        Field(
            "publicip_type",
            "str",
            "`5_bgp` (default), `5_sbgp`, `5_union`; replaces",
            "replaces",
            _publicip_type,
            default="5_bgp",
        ),
        Field(
            "ip_version", "int", "4 (default) or 6; replaces", "replaces", _ip_version, default=4
        ),
        Field(
            "bandwidth",
            "`BandwidthArgs` or dict",
            "`size` 1..2000 Mbit/s in steps of 1 up to 300, 50 up to 1000, 500 above; "
            "`share_type` `PER` (dedicated, one per EIP) or `WHOLE` (an existing shared "
            "bandwidth: give its `id`; not for IPv6); `charge_mode` `bandwidth` (default) or "
            "`traffic` (≤ 300 Mbit/s); `name` (generated for PER when absent). A new `size` "
            "resizes dedicated bandwidths in place (`UpdateBandwidth`); any other change "
            "replaces",
            "in place",  # its size; BANDWIDTH_REPLACE_KEYS replace
            _bandwidth,
            required=True,
        ),
        Field(
            "tags",
            "dict[str, str]",
            f"at most {MAX_USER_TAGS}; keys 1..36 of ASCII letters, digits, `_`, `-` and CJK "
            "characters; values 0..43 of those and `.`; changes in place",
            "in place",
            _tags,
            default={},
        ),
        Field(
            "enterprise_project_id", "str", "optional; replaces", "replaces", _enterprise_project_id
        ),
        Field(
            "region",
            "str",
            "a Huawei region id (`cn-north-4`; see Configuration); default from config/env; "
            "replaces",
            "replaces",
            _vendor_format("region", cfg.huawei_region_problem),
        ),
        Field(
            "project_id",
            "str",
            "a 32-hex-character project id (see Configuration); default from config/env; replaces",
            "replaces",
            _vendor_format("project_id", cfg.huawei_project_id_problem),
        ),
        Field(
            "adopt_batch_id",
            "str",
            f"the EIPs of an existing batch (by its batch id) {_ADOPTION_RULE}",
            "nothing",
            _adopt_batch_id,
        ),
        Field(
            "adopt_eip_ids",
            "list[str]",
            f"existing EIPs (by id) {_ADOPTION_RULE}",
            "nothing",
            _adopt_eip_ids,
        ),
        Field("stack_scope", "str", "", "nothing", _stack_scope, hidden=True),
    ),
)
# Changing any of these means new EIPs; count and tags change in place.
REPLACE_KEYS = DECLARATION.replace_keys


# -- cross-field rules ------------------------------------------------------------------
def _count_required(news: Mapping[str, Any], out: dict[str, Any], f: Failures) -> None:
    if "count" not in out:
        out["count"] = None
        f.add("count", f"must be a whole number within 1..{MAX_COUNT}, not None")


def _bandwidth_required(news: Mapping[str, Any], out: dict[str, Any], f: Failures) -> None:
    if out.get("bandwidth") is None:
        f.add("bandwidth", "is required: BandwidthArgs(size=..., share_type='PER'|'WHOLE', ...)")


def _whole_holds_twenty(news: Mapping[str, Any], out: dict[str, Any], f: Failures) -> None:
    bandwidth, count = out.get("bandwidth"), out.get("count")
    if (
        isinstance(bandwidth, dict)
        and bandwidth.get("share_type") == "WHOLE"
        and isinstance(count, int)
        and count > WHOLE_MAX_EIPS
    ):
        f.add(
            "count", f"a shared (WHOLE) bandwidth holds at most {WHOLE_MAX_EIPS} EIPs, not {count}"
        )


def _stack_scope_set(news: Mapping[str, Any], out: dict[str, Any], f: Failures) -> None:
    if not (isinstance(out.get("stack_scope"), str) and out["stack_scope"]):
        out.pop("stack_scope", None)  # only a scope EipBatch set itself counts


CROSS_FIELD = (_count_required, _bandwidth_required, _whole_holds_twenty, _stack_scope_set)


def check_inputs(news: Mapping[str, Any]) -> tuple[dict[str, Any], Failures]:
    """Every input rule of the README as failures on the offending property; unknown-safe."""
    failures = Failures()
    out = DECLARATION.check_fields(news, failures)
    for validate in CROSS_FIELD:
        validate(news, out, failures)
    return out, failures


def migrate_state(props: Mapping[str, Any]) -> dict[str, Any]:
    """State written by any earlier version, brought to the current shape: the
    defaults `check` applies today, filled where older code left them out, so an
    absent key never reads as a change (a bandwidth without ``charge_mode`` would
    otherwise replace the whole batch)."""
    out = dict(props)
    for key, default in DECLARATION.defaults.items():
        out.setdefault(key, default)
    out["tags"] = dict(out.get("tags") or {})
    out["bandwidth"] = {**BANDWIDTH_DEFAULTS, **dict(out.get("bandwidth") or {})}
    if "count" not in out and out.get("eip_ids") is not None:
        out["count"] = len(out["eip_ids"])
    out["schema_version"] = SCHEMA_VERSION
    return out
