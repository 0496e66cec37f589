"""A small typed client for the four BCC operations SecondaryIpSet needs."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import httpx

from ..config import BaiduSettings
from ..errors import BAIDU_BCC, ValidationError, decode_bce_error
from ..http import ApiCaller, RetryPolicy, json_object, new_http_client, path_segment
from .signer import BceSigner, query_string


def canonical_address(text: str) -> str:
    """One spelling per address (``ipaddress``'s ``.compressed``: lower case, zeros
    compressed), so that ``2400:DA00:E003:0000:0219:0000:0000:002F`` from the cloud and
    ``2400:da00:e003:0:219::2f`` in state compare equal. Text that is no address comes
    back stripped, otherwise unchanged: it then equals no address we own."""
    stripped = text.strip()
    try:
        return ipaddress.ip_address(stripped).compressed
    except ValueError:
        return stripped


@attrs.frozen
class NicAddress:
    private_ip: str  # canonical (canonical_address): compare with this
    primary: bool
    text: str = ""  # the cloud's own spelling, sent back when deleting it

    @property
    def cloud_text(self) -> str:
        return self.text or self.private_ip


@attrs.frozen
class Instance:
    id: str
    status: str
    ips: tuple[NicAddress, ...] = ()
    ipv6s: tuple[NicAddress, ...] = ()

    def addresses(self, *, ipv6: bool) -> tuple[str, ...]:
        """Every address of one family on the primary NIC, primary included (canonical)."""
        return tuple(a.private_ip for a in (self.ipv6s if ipv6 else self.ips))

    def secondary_addresses(self, *, ipv6: bool) -> tuple[str, ...]:
        """The secondary addresses of one family, canonical (see canonical_address)."""
        return tuple(a.private_ip for a in (self.ipv6s if ipv6 else self.ips) if not a.primary)

    def cloud_text(self, addresses: Sequence[str], *, ipv6: bool) -> list[str]:
        """``addresses`` (canonical) as the cloud itself spells them, for batchDelIp;
        one the NIC does not show is sent canonical."""
        spelled = {a.private_ip: a.cloud_text for a in (self.ipv6s if ipv6 else self.ips)}
        return [spelled.get(a, a) for a in addresses]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Instance:
        raw = body.get("instance")
        raw = raw if isinstance(raw, Mapping) else {}
        nic = raw.get("nicInfo")
        nic = nic if isinstance(nic, Mapping) else {}
        return cls(
            id=str(raw.get("id", "")),
            status=str(raw.get("status", "")),
            ips=_nic_addresses(nic.get("ips")),
            ipv6s=_nic_addresses(nic.get("ipv6s")),
        )


def _nic_addresses(entries: object) -> tuple[NicAddress, ...]:
    if not isinstance(entries, list):
        return ()
    return tuple(_nic_address(e) for e in entries if isinstance(e, Mapping))


def _nic_address(entry: Mapping[str, Any]) -> NicAddress:
    # The detail API sends "primary" as the string "true"/"false" (the ENI API: a bool).
    primary = entry.get("primary")
    is_primary = primary is True or str(primary).lower() == "true"
    text = str(entry.get("privateIp", ""))
    return NicAddress(private_ip=canonical_address(text), primary=is_primary, text=text)


def _instance_segment(instance_id: str) -> str:
    """The instance id as a URL path segment; one that would change the path's meaning
    is refused as a BatchIpError (never a bare ValueError), quoted briefly."""
    try:
        return path_segment(instance_id)
    except ValueError:
        shown = repr(instance_id)
        if len(shown) > 80:
            shown = f"{shown[:80]}... ({len(instance_id)} characters)"
        raise ValidationError(
            "instance_id", f"{shown} is not an instance id that can be placed in a URL"
        ) from None


def _with_query(path: str, params: Mapping[str, str]) -> str:
    """``path?query`` with the query as the BCE SDK sends it (a space as ``%20``; httpx's
    ``params=`` would send ``+``), so what goes on the wire is what was signed."""
    return f"{path}?{query_string(params)}"


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
            _with_query("/v2/instance/batchAddIp", {"clientToken": client_token}),
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
            _with_query("/v2/instance/batchDelIp", {"clientToken": client_token}),
            json={"instanceId": instance_id, "privateIps": list(private_ips)},
            idempotent=True,
        )

    def get_instance(self, instance_id: str) -> Instance:
        response = self._caller.call(
            "GetInstance", "GET", f"/v2/instance/{_instance_segment(instance_id)}", idempotent=True
        )
        return Instance.from_json(json_object(response))

    def reboot(self, instance_id: str, *, force_stop: bool = False) -> None:
        # Not idempotent (a second reboot is refused while Starting): retried only
        # when the request surely did not arrive, and the caller polls the status.
        self._caller.call(
            "RebootInstance",
            "PUT",
            _with_query(f"/v2/instance/{_instance_segment(instance_id)}", {"reboot": ""}),
            json={"forceStop": force_stop},
            idempotent=False,
        )
