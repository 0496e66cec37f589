"""The BCC HTTP layer: routes, bce-auth-v1 verification, body validation, BCE shapes.

The state and its rules live in ``bcc.py``; this module turns requests into calls on
it and answers in the shapes the SDKs parse (reference/baidu-bcc.md):

- ``PUT /v2/instance/batchAddIp[?clientToken=]`` -> ``{"privateIps": [...], "eniPrivateIps": null}``
  (what the Go SDK's ``BatchAddIpResponse`` and the CCE driver read), or 200 with no
  body at all under ``bcc_add_ip_no_body`` (``--bcc-add-ip-no-body``): the API
  documentation says the response has no parameters.
- ``PUT /v2/instance/batchDelIp[?clientToken=]`` -> ``{"success": true, "status": 200}``
- ``GET /v2/instance/{id}`` -> ``{"instance": {..., "nicInfo": {"ips": [...], "ipv6s": [...]}}}``
- ``PUT /v2/instance/{id}?reboot`` (or ``?reboot=``) -> 200, empty body
- errors: ``{"requestId", "code", "message"}`` and the ``x-bce-request-id`` header.

Codes chosen where BCE documents none: throttling is 429 ``RateLimit`` (the code the
CCE driver matches); an unsupported route is 400 ``InvalidURI``. A body that is not
JSON is 400 ``MalformedJSON``; JSON of the wrong shape (missing ``instanceId``, wrong
types) is 400 ``InappropriateJSON``; well-typed but invalid values are 400
``InvalidParameter``. The state model's codes are listed in ``bcc.py``.

``batchAddIp`` takes ``privateIps`` or ``secondaryPrivateIpAddressCount``. With
addresses listed, a count of 0 means "not given": the Go SDK (``BatchAddIpArgs``,
``secondaryPrivateIpAddressCount`` without ``omitempty``) and the Java SDK
(``BatchAddIpRequest``, a primitive ``long``) always send it. An empty list likewise
means "not given" beside a count (the CCE driver sends ``"privateIps": []``).
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from werkzeug.wrappers import Request

from ..baidu.signer import BceAuthFailure, verify
from .app import ApiError, Call, EmulatorApp, EmulatorConfig, Route
from .bcc import (
    DEFAULT_IPV4_SUBNET,
    DEFAULT_IPV6_SUBNET,
    DEFAULT_MEMORY_GB,
    DEFAULT_REBOOT_SECONDS,
    BccState,
    InstanceView,
)

PREFIX = "/v2/instance"
VPC_ID = "vpc-emulator0001"
ZONE = "cn-bj-a"


# --- body validation ------------------------------------------------------------------


def _inappropriate(message: str) -> ApiError:
    return ApiError(
        400,
        "InappropriateJSON",
        "The JSON you provided was well-formed and valid, but not appropriate for this "
        f"operation. {message}",
    )


def _malformed() -> ApiError:
    return ApiError(400, "MalformedJSON", "The JSON you provided was not well-formed.")


def parse_body(call: Call, *, required: bool = True) -> dict[str, Any]:
    """The body as a JSON object; an absent optional body is ``{}``."""
    if not call.body.strip():
        if required:
            raise _malformed()
        return {}
    try:
        body = json.loads(call.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: deep nesting
        raise _malformed() from None
    if not isinstance(body, dict):
        raise _inappropriate("The body must be a JSON object.")
    return body


def required_str(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        raise _inappropriate(f"{key} is required.")
    if not isinstance(value, str) or not value:
        raise _inappropriate(f"{key} must be a non-empty string.")
    return value


def optional_str_list(body: Mapping[str, Any], key: str) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _inappropriate(f"{key} must be a list of strings.")
    return list(value)


def optional_int(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    # Integral floats (2.0) pass, as Java backends coerce them; booleans do not.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _inappropriate(f"{key} must be an integer.")
    if isinstance(value, float) and not value.is_integer():
        raise _inappropriate(f"{key} must be an integer.")
    return int(value)


def optional_bool(body: Mapping[str, Any], key: str, default: bool) -> bool:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _inappropriate(f"{key} must be a boolean.")
    return value


def fingerprint(operation: str, body: Mapping[str, Any]) -> str:
    """What a client token is bound to: the operation and the body, key order aside."""
    return operation + " " + json.dumps(body, sort_keys=True, separators=(",", ":"))


# --- rendering --------------------------------------------------------------------------


def _nic_address(address: str, primary: bool) -> dict[str, Any]:
    # "primary" is a string in the instance detail (a bool only in the ENI API).
    return {
        "privateIp": address,
        "primary": "true" if primary else "false",
        "eip": None,
        "eipId": None,
        "eipStatus": None,
        "eipSize": None,
        "eipAllocationId": None,
        "eipType": None,
        "eipGroupId": None,
    }


def _addresses(view: InstanceView, family: str) -> list[dict[str, Any]]:
    entries = []
    if family in view.primary:
        entries.append(_nic_address(view.primary[family], True))
    entries.extend(_nic_address(a, False) for a in view.secondary[family])
    return entries


def render_instance(view: InstanceView) -> dict[str, Any]:
    """The ``GET /v2/instance/{id}`` body (Go SDK ``InstanceModel`` fields)."""
    subnet_id = view.subnet_ids["ipv4"]
    memory = int(view.memory_gb) if view.memory_gb.is_integer() else view.memory_gb
    return {
        "instance": {
            "id": view.id,
            "name": view.id,
            "hostname": view.id.lower(),
            "instanceType": "N5",
            "spec": "bcc.g4.c2m8",
            "desc": "",
            "status": view.status,
            "paymentTiming": "Postpaid",
            "createTime": "2024-01-01T00:00:00Z",
            "expireTime": None,
            "publicIp": "",
            "internalIp": view.primary.get("ipv4", ""),
            "ipv6": view.primary.get("ipv6", ""),
            "cpuCount": 2,
            "memoryCapacityInGB": memory,
            "localDiskSizeInGB": 0,
            "imageId": "m-emulator",
            "networkCapacityInMbps": 0,
            "placementPolicy": "default",
            "zoneName": ZONE,
            "subnetId": subnet_id,
            "vpcId": VPC_ID,
            "autoRenew": False,
            "keypairId": "",
            "keypairName": "",
            "dedicatedHostId": None,
            "tags": [],
            "deploysetList": [],
            "nicInfo": {
                "eniId": view.eni_id,
                "eniUuid": view.eni_id,
                "name": "primary",
                "type": "primary",
                "subnetId": subnet_id,
                "subnetType": "BCC",
                "az": ZONE,
                "description": "",
                "deviceId": view.id,
                "status": "inuse",
                "macAddress": view.mac_address,
                "vpcId": VPC_ID,
                "createdTime": "2024-01-01T00:00:00Z",
                "eniNum": 0,
                "ips": _addresses(view, "ipv4"),
                "ipv6s": _addresses(view, "ipv6"),
                "securityGroups": [],
            },
        }
    }


# --- the service ----------------------------------------------------------------------


class BccApi:
    """The ``Service`` for BCC: everything under ``/v2/instance``."""

    name = "bcc"
    request_id_header = "x-bce-request-id"
    endpoint_host = "bcc.{region}.baidubce.com"

    def __init__(
        self, config: EmulatorConfig, *, reboot_seconds: float = DEFAULT_REBOOT_SECONDS
    ) -> None:
        self.config = config
        self.state = BccState(reboot_seconds=reboot_seconds)

    # -- routing -----------------------------------------------------------------------
    def owns(self, path: str) -> bool:
        return path.startswith(PREFIX)

    def match(self, method: str, path: str, query: Mapping[str, str]) -> Route | None:
        if not path.startswith(PREFIX + "/"):
            return None
        rest = path[len(PREFIX) + 1 :]
        if not rest or "/" in rest:
            return None
        if method == "PUT" and rest == "batchAddIp":
            return Route("BatchAddIp", self._batch_add_ip, {})
        if method == "PUT" and rest == "batchDelIp":
            return Route("BatchDelIp", self._batch_del_ip, {})
        if method == "GET":
            return Route("GetInstance", self._get_instance, {"instanceId": rest})
        # Both "?reboot" (Go SDK) and "?reboot=" (Python SDK) parse to reboot="".
        if method == "PUT" and "reboot" in query:
            return Route("RebootInstance", self._reboot, {"instanceId": rest})
        return None

    # -- handlers ----------------------------------------------------------------------
    def _idempotent(
        self, call: Call, operation: str, body: Mapping[str, Any], act: Callable[[], Any]
    ) -> tuple[int, Any]:
        """Run ``act`` under the request's clientToken, if it has one."""

        def answer() -> tuple[int, Any]:
            return 200, act()

        token = call.request.args.get("clientToken")
        if not token:  # the Python SDK sends none: no idempotence for such calls
            return answer()
        return self.state.once(token, fingerprint(operation, body), answer)

    def _batch_add_ip(self, call: Call) -> tuple[int, Any]:
        body = parse_body(call)
        instance_id = required_str(body, "instanceId")
        private_ips = optional_str_list(body, "privateIps") or None  # [] means "not given"
        count = optional_int(body, "secondaryPrivateIpAddressCount")
        if private_ips is not None and count == 0:
            # Go SDK BatchAddIpArgs / Java SDK BatchAddIpRequest send 0 beside the list.
            count = None
        ipv6 = optional_bool(body, "allocateMultiIpv6Addr", False)

        def act() -> dict[str, Any] | None:
            added = self.state.batch_add_ip(
                instance_id, private_ips=private_ips, count=count, ipv6=ipv6
            )
            if self.config.bcc_add_ip_no_body:
                return None  # "no response parameters", as documented: an empty body
            return {"privateIps": added, "eniPrivateIps": None}

        return self._idempotent(call, "BatchAddIp", body, act)

    def _batch_del_ip(self, call: Call) -> tuple[int, Any]:
        body = parse_body(call)
        instance_id = required_str(body, "instanceId")
        private_ips = optional_str_list(body, "privateIps")
        if private_ips is None:
            raise _inappropriate("privateIps is required.")

        def act() -> dict[str, Any]:
            self.state.batch_del_ip(instance_id, private_ips)
            return {"success": True, "status": 200}

        return self._idempotent(call, "BatchDelIp", body, act)

    def _get_instance(self, call: Call) -> tuple[int, Any]:
        return 200, render_instance(self.state.get_instance(call.params["instanceId"]))

    def _reboot(self, call: Call) -> tuple[int, Any]:
        body = parse_body(call, required=False)
        optional_bool(body, "forceStop", False)  # validated; a fake VM stops the same way
        self.state.reboot(call.params["instanceId"])
        return 200, None

    # -- Service protocol ----------------------------------------------------------------
    def authenticate(self, call: Call, now: float) -> None:
        try:
            verify(
                call.request.method,
                call.raw_path,
                call.raw_query,
                list(call.request.headers.items()),
                lookup_secret=self.config.bce_credentials.get,
                now=datetime.fromtimestamp(now, timezone.utc),
                max_skew_seconds=int(self.config.max_skew_seconds),
            )
        except BceAuthFailure as exc:
            raise ApiError(exc.status, exc.code, exc.message) from None
        except OverflowError:
            # A well-formed header whose timestamp plus expiration leaves the calendar
            # (9999-12-31T23:59:59Z/707, or an expiration of 10**40 seconds).
            raise ApiError(
                400,
                "InvalidHTTPAuthHeader",
                "The HTTP authorization header is invalid. Consult the service "
                "documentation for details.",
            ) from None

    def error_body(self, error: ApiError, request_id: str) -> Any:
        return {"requestId": request_id, "code": error.code, "message": error.message}

    def throttle_error(self) -> ApiError:
        return ApiError(429, "RateLimit", "Request rate limit exceeded, please retry later.")

    def region_error(self, region: str) -> ApiError:
        # A documented BCE common error (shared/reference/baidu-bcc.md, "Errors"): 403,
        # never a 404 that a read would take for "gone". The real endpoint of an unknown
        # region does not resolve at all; a known one serves only its own region.
        return ApiError(
            403,
            "AccessDenied",
            f"Access denied. Region {region[:64]} is not served here (emulator --regions).",
        )

    def not_found_error(self, method: str, path: str) -> ApiError:
        return ApiError(
            400,
            "InvalidURI",
            f"Could not parse the specified URI: the emulator serves no {method} {path}.",
        )

    def reset(self) -> None:
        self.state.reset()

    def snapshot(self) -> Any:
        return self.state.snapshot()

    # -- admin -------------------------------------------------------------------------
    def install_admin(self, app: EmulatorApp) -> None:
        app.add_admin("POST", "bcc/instances", self._admin_add_instance)

    def _admin_add_instance(self, request: Request) -> tuple[int, Any]:
        """``POST /_emulator/bcc/instances`` ``{"id", "status", "memory", "subnets",
        "reboot_seconds"}``, every field optional; answers the instance's snapshot."""
        raw = request.get_json(silent=True)
        if raw is None and not request.get_data():
            raw = {}
        if not isinstance(raw, dict):
            raise ApiError(400, "BadRequest", "POST bcc/instances takes a JSON object")
        instance_id = raw.get("id") or _new_instance_id()
        subnets = raw.get("subnets", [DEFAULT_IPV4_SUBNET, DEFAULT_IPV6_SUBNET])
        memory = raw.get("memory", DEFAULT_MEMORY_GB)
        reboot_seconds = raw.get("reboot_seconds")
        status = raw.get("status", "Running")
        if not isinstance(instance_id, str) or not isinstance(status, str):
            raise ApiError(400, "BadRequest", "id and status must be strings")
        if not isinstance(subnets, list) or not all(isinstance(s, str) for s in subnets):
            raise ApiError(400, "BadRequest", "subnets must be a list of CIDR strings")
        if not _is_number(memory) or not (reboot_seconds is None or _is_number(reboot_seconds)):
            raise ApiError(400, "BadRequest", "memory and reboot_seconds must be numbers")
        view = self.state.add_instance(
            instance_id,
            status=status,
            memory_gb=float(memory),
            subnets=subnets,
            reboot_seconds=None if reboot_seconds is None else float(reboot_seconds),
        )
        return 200, {"id": view.id, **view.to_json()}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _new_instance_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "i-" + "".join(secrets.choice(alphabet) for _ in range(8))
