"""The Huawei EIP HTTP layer: routes, SDK-HMAC-SHA256 checks, body validation, shapes.

The state and its rules live in ``eip.py``; this module turns requests into calls on
it and answers as the EIP API does (reference/huawei-eip.md):

- ``POST /v2/{project_id}/batchpublicips`` -> 200 ``{"job_id"}``
- ``POST /v1/{project_id}/publicips`` -> 200 ``{"publicip"}`` in ``PENDING_CREATE``
- ``GET /v1/{project_id}/jobs/{job_id}`` -> the job detail
- ``GET /v1/{project_id}/publicips[/{id}]`` -> ``{"publicips": [...]}`` / ``{"publicip"}``
- ``POST /v2.0/{project_id}/publicips/resource_instances/action`` -> by tags
- ``POST /v2.0/{project_id}/publicips/{id}/tags/action`` -> 204
- ``DELETE /v1/{project_id}/publicips/{id}`` -> 204;
  ``DELETE /v2/{project_id}/batchpublicips`` -> 200 ``{"job_ids"}``

Errors: services answer ``{"code", "message"}``, the API gateway ``{"error_code",
"error_msg", "request_id"}``; every answer carries ``X-Request-Id``.

Choices where the documentation is silent or unconfirmed:

- Body not JSON -> 400 ``EIP.7901``; JSON of the wrong shape or values -> 400
  ``VPC.0501``. Types follow the SDK models: ``ip_version`` is the string
  ``"ipv4"``/``"ipv6"`` here (an integer is refused); numbers must be integers.
- Tag keys: 1..128 letters (any script), digits, ``_``, ``-``; values: 0..255 of the
  same plus ``.`` (the 2025 BatchCreatePublicipTags page; older pages said 36/43).
  At most 20 tags per EIP.
- ``CreatePublicip`` (one EIP, v1) validates bandwidth, enterprise project and quota
  as batch create does; ``publicip.ip_version`` is the integer 4 or 6 there (absent,
  null or ``""`` -> 4), ``alias`` is 1..64 letters, digits, ``_``, ``-``, ``.``.
  ``ip_address`` and ``port_id`` (a chosen address, binding at creation) are not
  emulated: 400 ``VPC.0501`` saying so.
- ``BatchCreatePublicips`` requires the top-level ``enterprise_project_id`` (the
  international API reference, "Assigning EIPs in Batches", marks it Mandatory): absent
  or null -> 400 ``VPC.0501`` naming it; no default is filled in. It may be the string
  ``"0"``, a UUID, or the number ``0`` (the documented request example sends
  ``"enterprise_project_id" : 0``). ``publicip.enterprise_project_id`` is optional;
  given at both levels, they must agree. ``CreatePublicip`` (v1) documents the field
  as optional with default ``0``, and keeps that default.
- ``publicip_number`` is 0..50 (the Chinese reference, 2025-12-31: "value range 0~50"); a
  job for 0 EIPs succeeds having created none. ``bandwidth.name`` is required with
  ``PER`` (absent or null -> 400) but may be ``""`` (the documented request example
  sends ``"name" : ""`` with ``PER``): the bandwidth then gets a generated name.
  ``publicip.id`` and ``publicip.profile`` are accepted and ignored.
- A ``WHOLE`` bandwidth ``id`` must name an existing shared bandwidth (400
  ``VPC.0501`` otherwise); one exists by default, ``POST /_emulator/eip/bandwidths``
  adds more.
- ``ListPublicips``: sorted by id; ``marker`` is compared, so a deleted marker still
  works; ``limit`` absent or 0 means 2000, larger values are capped at 2000.
- Deletes are asynchronous (see ``eip.py``): a released EIP is ``PENDING_DELETE`` for
  ``delete_seconds``. Batch delete answers one job id per call, ``{"job_ids": [id]}``
  (the documented response example), and is all or nothing: an unknown id -> 404
  ``VPC.0504``, a bound EIP -> 409 ``VPC.0517``, and nothing is released (the vendor
  documents nothing partial). An EIP already ``PENDING_DELETE`` is accepted, by batch
  and by single delete (204), and left as it is. The job ids are not kept (the SDK
  says they cannot be queried): an unknown job -> 404 ``VPC.0504`` too.
- ``tags_forbidden`` (``--tags-forbidden``): ``ListPublicipsByTags`` and the tag
  actions answer 403 ``VPC.2201`` "Policy doesn't allow vpc:publicipTags:... to be
  performed." (the fine-grained permission code of the EIP error table), before the
  body is looked at. The EIP permission table ("EIP Tags") marks every tag API as not
  supporting enterprise-project authorization, so rights granted only through an
  enterprise project end there.
- The ``empty`` fault (``ListPublicips``, ``ListPublicipsByTags``): the query is
  checked as usual, then answered 200 with an empty list and ``total_count`` 0, as the
  EIP API Reference ("Precautions for API Permissions") says a caller without enough
  rights is answered.
- The tag action route serves ``BatchCreatePublicipTags`` and
  ``BatchDeletePublicipTags``; the body's ``action`` names the operation for the
  request log and fault rules (``Route.operation_from_body``). Its body is checked
  before the EIP is looked up. Deleting a tag whose ``value`` is given only removes
  it if the value matches; missing tags are not an error (as documented).
- The credentials' project is ``X-Project-Id`` when sent (any other than the
  emulator's project -> 401 ``APIGW.0301``), else the emulator's project; a path with
  another project id -> 400 ``VPC.0007`` "urlTenantId is not equal tokenTenantId", as
  the EIP error-code table documents.
- An unknown path or method -> 404 ``APIGW.0101``, as the gateway answers.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import attrs
from werkzeug.wrappers import Request

from ..huawei.signer import HEADER_PROJECT_ID, HuaweiAuthFailure, verify
from .app import ApiError, Call, EmulatorApp, EmulatorConfig, Handler, Route
from .eip import (
    CODE_INVALID,
    MAX_TAGS_PER_EIP,
    BandwidthSpec,
    Clock,
    CreateSpec,
    EipError,
    EipState,
    JobFault,
    TagFilter,
)
from .faults import EMPTY_ACTION

CODE_BAD_BODY = "EIP.7901"
CODE_TENANT_MISMATCH = "VPC.0007"
CODE_GATEWAY_AUTH = "APIGW.0301"
CODE_GATEWAY_NO_API = "APIGW.0101"
CODE_GATEWAY_THROTTLED = "APIGW.0308"
CODE_POLICY_DENIED = "VPC.2201"  # EIP error codes: 403, fine-grained permission missing

PUBLICIP_TYPES = frozenset({"5_bgp", "5_sbgp", "5_union"})
IP_VERSIONS = {"ipv4": 4, "ipv6": 6}
SHARE_TYPES = frozenset({"PER", "WHOLE"})
CHARGE_MODES = frozenset({"bandwidth", "traffic"})
MAX_PUBLICIP_NUMBER = 50
LIST_LIMIT_MAX = 2000
TAG_QUERY_LIMIT_MAX = 1000
TAG_FILTER_MAX_KEYS = 10
TAG_FILTER_MAX_VALUES = 10
TRAFFIC_MAX_SIZE = 300

_TAG_KEY_RE = re.compile(r"[\w-]{1,128}")
# BatchCreatePublicipTags, Table 4-41: values take letters, digits, "_", "-" and CJK
# (no ".", which older pages allowed).
_TAG_VALUE_RE = re.compile(r"[\w-]{0,255}")
_BANDWIDTH_NAME_RE = re.compile(r"[\w.-]{1,64}")
_ALIAS_RE = _BANDWIDTH_NAME_RE  # the same rule: 1-64 letters, digits, _ - .
_EPS_ID_RE = re.compile(
    r"0|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_PROJECT_IN_PATH = re.compile(r"/v[0-9.]+/([^/]+)")


# --- body validation ------------------------------------------------------------------


def invalid(message: str) -> ApiError:
    return ApiError(400, CODE_INVALID, message)


def parse_body(body: bytes) -> dict[str, Any]:
    """The body as a JSON object: not JSON is ``EIP.7901``, not an object ``VPC.0501``."""
    try:
        data = json.loads(body.decode("utf-8")) if body.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: deep nesting
        data = None
    if data is None:
        raise ApiError(400, CODE_BAD_BODY, "The request body is not valid JSON.")
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object.")
    return data


def _object(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = body.get(key)
    if not isinstance(value, dict):
        raise invalid(f"{key} is required and must be an object.")
    return value


def _int(body: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = body.get(key, default)
    # bool is an int in Python, never in the API.
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(f"{key} must be an integer.")
    return value


def _opt_str(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid(f"{key} must be a string.")
    return value


def _choice(body: Mapping[str, Any], key: str, allowed: Collection[str]) -> str:
    value = body.get(key)
    # isinstance first: a JSON list or object is unhashable, and never a valid choice.
    if not isinstance(value, str) or value not in allowed:
        raise invalid(f"{key} must be one of {sorted(allowed)}, not {value!r}.")
    return value


def bandwidth_size_ok(size: int) -> bool:
    """1..2000 Mbit/s, in steps of 1 up to 300, 50 up to 1000, 500 above."""
    if not 1 <= size <= 2000:
        return False
    if size <= 300:
        return True
    return size % (50 if size <= 1000 else 500) == 0


def check_tag(key: object, value: object) -> tuple[str, str]:
    if not isinstance(key, str) or not _TAG_KEY_RE.fullmatch(key):
        raise invalid(f"Tag key {key!r} is invalid: 1-128 letters, digits, underscores or hyphens.")
    if not isinstance(value, str) or not _TAG_VALUE_RE.fullmatch(value):
        raise invalid(
            f"Tag value {value!r} is invalid: 0-255 letters, digits, underscores or hyphens."
        )
    return key, value


def _unique_tags(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for key, value in pairs:
        if key in tags:
            raise invalid(f"Tag key {key!r} is repeated.")
        tags[key] = value
    if len(tags) > MAX_TAGS_PER_EIP:
        raise invalid(f"An EIP can have at most {MAX_TAGS_PER_EIP} tags.")
    return tags


def _create_tags(raw: object) -> dict[str, str]:
    """``publicip.tags``: ``"key*value"`` strings."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise invalid("publicip.tags must be a list of 'key*value' strings.")
    pairs = []
    for item in raw:
        if not isinstance(item, str) or "*" not in item:
            raise invalid(f"Tag {item!r} must be a 'key*value' string.")
        key, _, value = item.partition("*")
        pairs.append(check_tag(key, value))
    return _unique_tags(pairs)


def _eps_id(body: Mapping[str, Any], key: str, where: str) -> str | None:
    """An enterprise project id: ``"0"``, a UUID, or the number 0 (the BatchCreatePublicips
    request example sends ``"enterprise_project_id" : 0``), as a string; None if absent."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return "0"
    if not isinstance(value, str) or not _EPS_ID_RE.fullmatch(value):
        raise invalid(f"{where} {value!r} must be '0' or a UUID.")
    return value


def _enterprise_project(
    body: Mapping[str, Any], publicip: Mapping[str, Any], *, required: bool
) -> str:
    """The EIPs' enterprise project. ``required``: the top-level field must be given
    (BatchCreatePublicips); otherwise it defaults to ``"0"`` (CreatePublicip, v1)."""
    outer = _eps_id(body, "enterprise_project_id", "enterprise_project_id")
    inner = _eps_id(publicip, "enterprise_project_id", "publicip.enterprise_project_id")
    if outer is None and required:
        raise invalid("enterprise_project_id is required: '0' (the default project) or a UUID.")
    if outer is not None and inner is not None and outer != inner:
        raise invalid("enterprise_project_id differs between the body and publicip.")
    if outer is not None:
        return outer
    return inner if inner is not None else "0"


def parse_bandwidth(raw: Mapping[str, Any], ip_version: int) -> BandwidthSpec:
    share_type = _choice(raw, "share_type", SHARE_TYPES)
    charge_mode = raw.get("charge_mode") or "bandwidth"
    if not isinstance(charge_mode, str) or charge_mode not in CHARGE_MODES:
        raise invalid(f"bandwidth.charge_mode must be one of {sorted(CHARGE_MODES)}.")
    if share_type == "WHOLE":
        if ip_version == 6:
            raise invalid("IPv6 EIPs cannot use a WHOLE (shared) bandwidth.")
        bandwidth_id = _opt_str(raw, "id")
        if not bandwidth_id:
            raise invalid("bandwidth.id is required when share_type is WHOLE.")
        # size and name are ignored with an id, as documented.
        return BandwidthSpec(share_type="WHOLE", charge_mode=charge_mode, id=bandwidth_id)
    size = _int(raw, "size")
    if not bandwidth_size_ok(size):
        raise invalid(
            f"bandwidth.size {size} is invalid: 1-300 in steps of 1, 300-1000 in steps "
            "of 50, 1000-2000 in steps of 500."
        )
    if charge_mode == "traffic" and size > TRAFFIC_MAX_SIZE:
        raise invalid(f"bandwidth.size is at most {TRAFFIC_MAX_SIZE} when charged by traffic.")
    name = raw.get("name")
    # "" passes: the documented request example sends "name" : "" with PER.
    if not isinstance(name, str) or (name and not _BANDWIDTH_NAME_RE.fullmatch(name)):
        raise invalid(
            "bandwidth.name is required with share_type PER: 1-64 letters, digits, "
            "underscores, hyphens or periods."
        )
    return BandwidthSpec(share_type="PER", size=size, name=name, charge_mode=charge_mode)


def parse_create(body: Mapping[str, Any]) -> CreateSpec:
    count = _int(body, "publicip_number")
    # 0..50: the Chinese API reference (2025-12-31), publicip_number "value range 0~50".
    if not 0 <= count <= MAX_PUBLICIP_NUMBER:
        raise invalid(f"publicip_number must be within 0..{MAX_PUBLICIP_NUMBER}.")
    publicip = _object(body, "publicip")
    publicip_type = _choice(publicip, "type", PUBLICIP_TYPES)
    version = publicip.get("ip_version", "ipv4")
    if not isinstance(version, str) or version not in IP_VERSIONS:
        raise invalid(f"publicip.ip_version must be 'ipv4' or 'ipv6', not {version!r}.")
    ip_version = IP_VERSIONS[version]
    return CreateSpec(
        count=count,
        publicip_type=publicip_type,
        ip_version=ip_version,
        bandwidth=parse_bandwidth(_object(body, "bandwidth"), ip_version),
        tags=_create_tags(publicip.get("tags")),
        # Mandatory at the top level (international API reference, BatchCreatePublicips).
        enterprise_project_id=_enterprise_project(body, publicip, required=True),
    )


def parse_single_create(body: Mapping[str, Any]) -> tuple[CreateSpec, str | None]:
    """``CreatePublicip``: ``{"publicip": {"type", "ip_version", "alias"}, "bandwidth",
    "enterprise_project_id"}``; returns the spec (count 1) and the alias."""
    publicip = _object(body, "publicip")
    for unsupported in ("ip_address", "port_id"):
        if publicip.get(unsupported) is not None:
            raise invalid(f"publicip.{unsupported} is not supported by the emulator.")
    publicip_type = _choice(publicip, "type", PUBLICIP_TYPES)
    version = publicip.get("ip_version")
    if version is None or version == "":
        version = 4
    if isinstance(version, bool) or version not in (4, 6):
        raise invalid(f"publicip.ip_version must be the integer 4 or 6, not {version!r}.")
    alias = _opt_str(publicip, "alias")
    if alias is not None and not _ALIAS_RE.fullmatch(alias):
        raise invalid(
            "publicip.alias must be 1-64 letters, digits, underscores, hyphens or periods."
        )
    spec = CreateSpec(
        count=1,
        publicip_type=publicip_type,
        ip_version=int(version),
        bandwidth=parse_bandwidth(_object(body, "bandwidth"), int(version)),
        # Optional, default 0 (API reference, "Assigning an EIP").
        enterprise_project_id=_enterprise_project(body, publicip, required=False),
    )
    return spec, alias


def parse_tag_action(body: Mapping[str, Any]) -> tuple[str, list[tuple[str, str | None]]]:
    """``{"action": "create"|"delete", "tags": [{"key", "value"}]}``."""
    action = _choice(body, "action", ("create", "delete"))
    raw = body.get("tags")
    if not isinstance(raw, list) or not raw:
        raise invalid("tags must be a non-empty list of {key, value} objects.")
    pairs: list[tuple[str, str | None]] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"]:
            raise invalid("Each tag needs a non-empty string key.")
        if action == "create":
            pairs.append(check_tag(item["key"], item.get("value")))
        else:
            # Deleting checks no character set; the value, when given, must match.
            pairs.append((item["key"], _opt_str(item, "value")))
    if action == "create":
        _unique_tags((k, v or "") for k, v in pairs)
    return action, pairs


def parse_tag_filters(raw: object) -> list[TagFilter]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > TAG_FILTER_MAX_KEYS:
        raise invalid(f"tags must be a list of at most {TAG_FILTER_MAX_KEYS} objects.")
    filters: list[TagFilter] = []
    for item in raw:
        key = item.get("key") if isinstance(item, dict) else None
        values = item.get("values") if isinstance(item, dict) else None
        if not isinstance(key, str) or not key or len(key) > 127:
            raise invalid("Each tag filter needs a key of 1-127 characters.")
        if not isinstance(values, list) or len(values) > TAG_FILTER_MAX_VALUES:
            raise invalid(f"tag values must be a list of at most {TAG_FILTER_MAX_VALUES}.")
        if any(not isinstance(v, str) or len(v) > 255 for v in values):
            raise invalid("Each tag value must be a string of at most 255 characters.")
        if len(set(values)) != len(values) or key in {f.key for f in filters}:
            raise invalid("Tag filter keys and the values of one key must not repeat.")
        filters.append(TagFilter(key=key, values=tuple(values)))
    return filters


def parse_name_match(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise invalid("matches must be a list of {key, value} objects.")
    name: str | None = None
    for item in raw:
        if not isinstance(item, dict) or item.get("key") != "resource_name":
            raise invalid("matches supports only the key 'resource_name'.")
        value = item.get("value")
        if not isinstance(value, str) or len(value) > 255:
            raise invalid("matches value must be a string of at most 255 characters.")
        name = value
    return name


def parse_list_query(args: Any) -> dict[str, Any]:
    """``ListPublicips`` query parameters (a werkzeug MultiDict)."""
    try:
        limit = int(args.get("limit") or 0)
        version = args.get("ip_version")
        ip_version = int(version) if version else None
    except ValueError:
        raise invalid("limit and ip_version must be integers.") from None
    if limit < 0:
        raise invalid("limit must not be negative.")
    if ip_version not in (None, 4, 6):
        raise invalid("ip_version must be 4 or 6.")
    return {
        "ids": args.getlist("id"),
        "marker": args.get("marker") or None,
        "limit": min(limit or LIST_LIMIT_MAX, LIST_LIMIT_MAX),
        "ip_version": ip_version,
        "port_ids": args.getlist("port_id"),
        "addresses": args.getlist("public_ip_address"),
        "enterprise_project_id": args.get("enterprise_project_id") or None,
    }


def tag_operation(body: bytes) -> str:
    """The operation a tag action call is, from its body (create unless it says delete)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return "BatchCreatePublicipTags"
    action = data.get("action") if isinstance(data, dict) else None
    return "BatchDeletePublicipTags" if action == "delete" else "BatchCreatePublicipTags"


def _utf8_header(value: str) -> str:
    # WSGI hands header values over as latin-1; the signature is over their UTF-8 bytes.
    try:
        return value.encode("latin-1").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value


# --- routing ----------------------------------------------------------------------------


def _path_pattern(template: str) -> re.Pattern[str]:
    """``/v1/{project_id}/publicips/{publicip_id}`` -> a regex with named groups."""
    return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + r"/?")


@attrs.frozen
class _RouteSpec:
    method: str
    pattern: re.Pattern[str] = attrs.field(converter=_path_pattern)
    operation: str
    handler: Handler
    operation_from_body: Callable[[bytes], str] | None = None


class EipApi:
    """The EIP API over :class:`EipState`, as an :class:`~.app.Service`."""

    name = "eip"
    request_id_header = "X-Request-Id"
    endpoint_host = "vpc.{region}.myhuaweicloud.com"  # EIP shares the VPC endpoint

    def __init__(self, config: EmulatorConfig, *, clock: Clock = time.time) -> None:
        self.config = config
        self.state = EipState(
            project_id=config.hw_project_id,
            job_seconds=config.job_seconds,
            quota=config.eip_quota,
            clock=clock,
            delete_seconds=config.delete_seconds,
            job_fail_word=config.job_fail_word,
        )
        pid = "/{project_id}"
        eip = f"/v1{pid}/publicips/{{publicip_id}}"
        self._routes = (
            _RouteSpec("POST", f"/v2{pid}/batchpublicips", "BatchCreatePublicips", self._create),
            _RouteSpec("DELETE", f"/v2{pid}/batchpublicips", "BatchDeletePublicIp", self._bulk_del),
            _RouteSpec("POST", f"/v1{pid}/publicips", "CreatePublicip", self._create_one),
            _RouteSpec("GET", f"/v1{pid}/jobs/{{job_id}}", "ShowResourcesJobDetail", self._job),
            _RouteSpec("GET", f"/v1{pid}/publicips", "ListPublicips", self._list),
            _RouteSpec(
                "PUT", f"/v1{pid}/bandwidths/{{bandwidth_id}}", "UpdateBandwidth", self._resize
            ),
            _RouteSpec("GET", eip, "ShowPublicip", self._show),
            _RouteSpec("DELETE", eip, "DeletePublicip", self._delete),
            _RouteSpec(
                "POST",
                f"/v2.0{pid}/publicips/resource_instances/action",
                "ListPublicipsByTags",
                self._by_tags,
            ),
            _RouteSpec(
                "POST",
                f"/v2.0{pid}/publicips/{{publicip_id}}/tags/action",
                "BatchCreatePublicipTags",  # or BatchDeletePublicipTags: see tag_operation
                self._tag_action,
                tag_operation,
            ),
        )

    # -- Service protocol ------------------------------------------------------------------
    def owns(self, path: str) -> bool:
        # /v2/instance... is Baidu BCC's.
        return path.startswith(("/v1/", "/v2/", "/v2.0/")) and not path.startswith("/v2/instance")

    def match(self, method: str, path: str, query: Mapping[str, str]) -> Route | None:
        for spec in self._routes:
            found = spec.pattern.fullmatch(path)
            if found is not None and spec.method == method:
                return Route(
                    spec.operation, spec.handler, found.groupdict(), spec.operation_from_body
                )
        return None

    def authenticate(self, call: Call, now: float) -> None:
        headers = [(k, _utf8_header(v)) for k, v in call.request.headers.items()]
        try:
            verify(
                call.request.method,
                call.raw_path,
                call.raw_query,
                headers,
                call.body,
                lookup_secret=self.config.hw_credentials.get,
                now=datetime.fromtimestamp(now, timezone.utc),
                max_skew_seconds=self.config.max_skew_seconds,
            )
        except HuaweiAuthFailure as exc:
            raise ApiError(exc.status, exc.code, exc.message) from None
        self._check_project(call)

    def _check_project(self, call: Call) -> None:
        token_project = call.request.headers.get(HEADER_PROJECT_ID) or self.config.hw_project_id
        if token_project != self.config.hw_project_id:
            raise ApiError(
                401,
                CODE_GATEWAY_AUTH,
                f"Incorrect IAM authentication information: project {token_project[:64]} not found",
            )
        found = _PROJECT_IN_PATH.match(call.request.path)
        if found is not None and found.group(1) != token_project:
            raise ApiError(400, CODE_TENANT_MISMATCH, "urlTenantId is not equal tokenTenantId")

    def error_body(self, error: ApiError, request_id: str) -> Any:
        if error.code.startswith("APIGW."):
            return {"error_code": error.code, "error_msg": error.message, "request_id": request_id}
        return {"code": error.code, "message": error.message}

    def throttle_error(self) -> ApiError:
        return ApiError(
            429,
            CODE_GATEWAY_THROTTLED,
            "The throttling threshold has been reached: policy user over ratelimit",
        )

    def region_error(self, region: str) -> ApiError:
        # A project id belongs to one region: another region's gateway refuses it as bad
        # IAM information (401, like _check_project), never a 404 a read takes for "gone".
        return ApiError(
            401,
            CODE_GATEWAY_AUTH,
            f"Incorrect IAM authentication information: region {region[:64]} is not "
            "served here (emulator --regions)",
        )

    def not_found_error(self, method: str, path: str) -> ApiError:
        return ApiError(
            404,
            CODE_GATEWAY_NO_API,
            "The API does not exist or has not been published in the environment",
        )

    def reset(self) -> None:
        self.state.reset()

    def snapshot(self) -> Any:
        return self.state.snapshot()

    # -- handlers --------------------------------------------------------------------------
    def _create(self, call: Call) -> tuple[int, Any]:
        spec = parse_create(parse_body(call.body))
        fault = call.fault
        job_fault = (
            JobFault(fault.action, fault.created, fault.code, fault.message, fault.job_status)
            if fault
            else None
        )
        job_id = _state_call(lambda: self.state.batch_create(spec, job_fault))
        return 200, {"job_id": job_id}

    def _create_one(self, call: Call) -> tuple[int, Any]:
        spec, alias = parse_single_create(parse_body(call.body))
        created = _state_call(lambda: self.state.create_one(spec, alias=alias))
        return 200, {"publicip": created}

    def _job(self, call: Call) -> tuple[int, Any]:
        return 200, _state_call(lambda: self.state.job(call.params["job_id"]))

    def _show(self, call: Call) -> tuple[int, Any]:
        return 200, {"publicip": _state_call(lambda: self.state.show(call.params["publicip_id"]))}

    def _resize(self, call: Call) -> tuple[int, Any]:
        option = _object(parse_body(call.body), "bandwidth")
        size = option.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or not bandwidth_size_ok(size):
            raise invalid("bandwidth.size must be 1..2000 Mbit/s in the allowed increments.")
        # Without charge_mode the bandwidth becomes bandwidth-billed (UpdateBandwidth,
        # Table 4-62: "bandwidth" is the default), as the API does.
        charge_mode = option.get("charge_mode", "bandwidth")
        if charge_mode not in CHARGE_MODES:
            raise invalid("bandwidth.charge_mode must be bandwidth or traffic.")
        name = option.get("name")
        if name is not None and not (isinstance(name, str) and _BANDWIDTH_NAME_RE.fullmatch(name)):
            raise invalid("bandwidth.name must be 1-64 letters, digits, _, - or periods.")
        bandwidth_id = call.params["bandwidth_id"]
        return 200, {
            "bandwidth": _state_call(
                lambda: self.state.resize_bandwidth(bandwidth_id, size, charge_mode, name)
            )
        }

    def _list(self, call: Call) -> tuple[int, Any]:
        query = parse_list_query(call.request.args)
        if _answers_empty(call):
            return 200, {"publicips": []}
        return 200, {"publicips": self.state.list_page(**query)}

    def _refuse_tags(self, action: str) -> None:
        """403 under ``tags_forbidden``: the EIP permission table ("EIP Tags") marks every
        tag API as not supporting enterprise-project authorization."""
        if self.config.tags_forbidden:
            raise ApiError(
                403, CODE_POLICY_DENIED, f"Policy doesn't allow {action} to be performed."
            )

    def _by_tags(self, call: Call) -> tuple[int, Any]:
        self._refuse_tags("vpc:publicipTags:get")
        body = parse_body(call.body)
        action = _choice(body, "action", ("filter", "count"))
        found = self.state.by_tags(
            parse_tag_filters(body.get("tags")), name_contains=parse_name_match(body.get("matches"))
        )
        if _answers_empty(call):
            found = []
        if action == "count":
            return 200, {"total_count": len(found)}
        limit = _int(body, "limit", TAG_QUERY_LIMIT_MAX)
        offset = _int(body, "offset", 0)
        if not 1 <= limit <= TAG_QUERY_LIMIT_MAX or offset < 0:
            raise invalid(f"limit must be within 1..{TAG_QUERY_LIMIT_MAX}, offset at least 0.")
        return 200, {"resources": found[offset : offset + limit], "total_count": len(found)}

    def _tag_action(self, call: Call) -> tuple[int, Any]:
        verb = "delete" if tag_operation(call.body) == "BatchDeletePublicipTags" else "create"
        self._refuse_tags(f"vpc:publicipTags:{verb}")
        action, pairs = parse_tag_action(parse_body(call.body))
        publicip_id = call.params["publicip_id"]
        if action == "create":
            tags = {k: v or "" for k, v in pairs}
            _state_call(lambda: self.state.create_tags(publicip_id, tags))
        else:
            _state_call(lambda: self.state.delete_tags(publicip_id, pairs))
        return 204, None

    def _delete(self, call: Call) -> tuple[int, Any]:
        _state_call(lambda: self.state.delete(call.params["publicip_id"]))
        return 204, None

    def _bulk_del(self, call: Call) -> tuple[int, Any]:
        ids = parse_body(call.body).get("publicip_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise invalid("publicip_ids must be a non-empty list of EIP ids.")
        return 200, {"job_ids": _state_call(lambda: self.state.batch_delete(ids))}

    # -- admin -----------------------------------------------------------------------------
    def install_admin(self, app: EmulatorApp) -> None:
        app.add_admin("POST", "eip/bind", self._admin_bind)
        app.add_admin("POST", "eip/unbind", self._admin_unbind)
        app.add_admin("POST", "eip/bandwidths", self._admin_bandwidth)

    def _admin_bind(self, request: Request) -> tuple[int, Any]:
        body = _admin_body(request)
        publicip_id, port_id = body.get("publicip_id"), body.get("port_id")
        private_ip = body.get("private_ip_address")
        if not isinstance(publicip_id, str) or not isinstance(port_id, str) or not port_id:
            raise ApiError(400, "BadAdminRequest", "eip/bind takes {publicip_id, port_id}")
        if private_ip is not None and not isinstance(private_ip, str):
            raise ApiError(400, "BadAdminRequest", "private_ip_address must be a string")
        _state_call(lambda: self.state.bind(publicip_id, port_id, private_ip))
        return 200, {"publicip": self.state.show(publicip_id)}

    def _admin_unbind(self, request: Request) -> tuple[int, Any]:
        publicip_id = _admin_body(request).get("publicip_id")
        if not isinstance(publicip_id, str):
            raise ApiError(400, "BadAdminRequest", "eip/unbind takes {publicip_id}")
        _state_call(lambda: self.state.unbind(publicip_id))
        return 200, {"publicip": self.state.show(publicip_id)}

    def _admin_bandwidth(self, request: Request) -> tuple[int, Any]:
        body = _admin_body(request)
        name = body.get("name", "shared-bandwidth")
        size = body.get("size", 100)
        bandwidth_id = body.get("id")
        charge_mode = body.get("charge_mode", "bandwidth")
        if (
            not isinstance(name, str)
            or not isinstance(size, int)
            or not bandwidth_size_ok(size)
            or not isinstance(charge_mode, str)
            or charge_mode not in CHARGE_MODES
            or (bandwidth_id is not None and not isinstance(bandwidth_id, str))
        ):
            raise ApiError(
                400,
                "BadAdminRequest",
                "eip/bandwidths takes {id?, name?, size? (a valid size), charge_mode?}",
            )
        created = _state_call(
            lambda: self.state.add_shared_bandwidth(
                name=name, size=size, charge_mode=charge_mode, bandwidth_id=bandwidth_id
            )
        )
        return 200, {"bandwidth": created}


def _answers_empty(call: Call) -> bool:
    """The ``empty`` fault: a valid query answered as Huawei answers a caller without
    enough rights, HTTP 200 with an empty list (and ``total_count`` 0)."""
    return call.fault is not None and call.fault.action == EMPTY_ACTION


def _state_call(act: Callable[[], Any]) -> Any:
    """Run a state-model call, turning its refusals into API errors."""
    try:
        return act()
    except EipError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None


def _admin_body(request: Request) -> Mapping[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "BadAdminRequest", "the admin API takes a JSON object")
    return body
