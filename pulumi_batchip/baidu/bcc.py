"""A small typed client for the four BCC operations SecondaryIpSet needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import httpx

from ..config import BaiduSettings
from ..errors import BAIDU_BCC, decode_bce_error
from ..http import ApiCaller, RetryPolicy, json_object, new_http_client, path_segment
from .signer import BceSigner


@attrs.frozen
class NicAddress:
    private_ip: str
    primary: bool


@attrs.frozen
class Instance:
    id: str
    status: str
    ips: tuple[NicAddress, ...] = ()
    ipv6s: tuple[NicAddress, ...] = ()

    def addresses(self, *, ipv6: bool) -> tuple[str, ...]:
        """Every address of one family on the primary NIC, primary included."""
        return tuple(a.private_ip for a in (self.ipv6s if ipv6 else self.ips))

    def secondary_addresses(self, *, ipv6: bool) -> tuple[str, ...]:
        return tuple(a.private_ip for a in (self.ipv6s if ipv6 else self.ips) if not a.primary)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Instance:
        raw = body.get("instance") or {}
        nic = raw.get("nicInfo") or {}
        return cls(
            id=str(raw.get("id", "")),
            status=str(raw.get("status", "")),
            ips=tuple(_nic_address(e) for e in nic.get("ips") or ()),
            ipv6s=tuple(_nic_address(e) for e in nic.get("ipv6s") or ()),
        )


def _nic_address(entry: Mapping[str, Any]) -> NicAddress:
    # The detail API sends "primary" as the string "true"/"false" (the ENI API: a bool).
    primary = entry.get("primary")
    is_primary = primary is True or str(primary).lower() == "true"
    return NicAddress(private_ip=str(entry.get("privateIp", "")), primary=is_primary)


class BccClient:
    """``batchAddIp``, ``batchDelIp``, instance detail and reboot.

    Add and delete carry the caller's ``clientToken``, which makes them safe to retry:
    the API answers a repeated token with the first result.
    """

    def __init__(self, caller: ApiCaller) -> None:
        self._caller = caller

    @classmethod
    def from_settings(
        cls,
        settings: BaiduSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> BccClient:
        creds = settings.credentials
        auth = BceSigner(creds.access_key, creds.secret_key, security_token=creds.security_token)
        extra = {"timeout": timeout} if timeout is not None else {}
        client = new_http_client(
            base_url=settings.endpoint, auth=auth, transport=transport, **extra
        )
        caller = ApiCaller(client, cloud=BAIDU_BCC, decode_error=decode_bce_error, policy=policy)
        return cls(caller)

    def close(self) -> None:
        self._caller.close()

    def batch_add_ip(
        self,
        instance_id: str,
        *,
        client_token: str,
        private_ips: Sequence[str] | None = None,
        count: int | None = None,
        ipv6: bool = False,
    ) -> list[str]:
        """Add explicit addresses or ``count`` allocated ones; returns what was added."""
        if (private_ips is None) == (count is None):
            raise ValueError("give exactly one of private_ips and count")
        body: dict[str, Any] = {"instanceId": instance_id, "allocateMultiIpv6Addr": ipv6}
        if private_ips is not None:
            body["privateIps"] = list(private_ips)
        else:
            body["secondaryPrivateIpAddressCount"] = count
        response = self._caller.call(
            "BatchAddIp",
            "PUT",
            "/v2/instance/batchAddIp",
            params={"clientToken": client_token},
            json=body,
            idempotent=True,
        )
        added = json_object(response).get("privateIps")
        if isinstance(added, list):
            return [str(a) for a in added]
        # The docs promise no body; then the explicit list is what was added.
        return list(private_ips or ())

    def batch_del_ip(
        self, instance_id: str, private_ips: Sequence[str], *, client_token: str
    ) -> None:
        """All or nothing: one missing address rolls the whole call back."""
        self._caller.call(
            "BatchDelIp",
            "PUT",
            "/v2/instance/batchDelIp",
            params={"clientToken": client_token},
            json={"instanceId": instance_id, "privateIps": list(private_ips)},
            idempotent=True,
        )

    def get_instance(self, instance_id: str) -> Instance:
        response = self._caller.call(
            "GetInstance", "GET", f"/v2/instance/{path_segment(instance_id)}", idempotent=True
        )
        return Instance.from_json(json_object(response))

    def reboot(self, instance_id: str, *, force_stop: bool = False) -> None:
        # Not idempotent (a second reboot is refused while Starting): retried only
        # when the request surely did not arrive, and the caller polls the status.
        self._caller.call(
            "RebootInstance",
            "PUT",
            f"/v2/instance/{path_segment(instance_id)}",
            params={"reboot": ""},
            json={"forceStop": force_stop},
            idempotent=False,
        )
