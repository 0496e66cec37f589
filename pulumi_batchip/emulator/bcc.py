"""BCC state model: instances, their primary NIC's addresses, reboots, client tokens.

No HTTP here (``bcc_api.py`` is the HTTP layer). One re-entrant lock guards
everything, so each operation checks all its rules and then acts as one step: a
call is all-or-nothing, as on BCE.

Vendor codes chosen where BCE documents none (reference/baidu-bcc.md):

=========================================  ====  ===========================================
case                                       HTTP  code
=========================================  ====  ===========================================
unknown instance                           404   ``NoSuchObject`` (the code the CCE driver sees)
bad address / family / reserved /          400   ``InvalidParameter``
outside the subnet / primary deleted
address already used in the subnet         409   ``PrivateIpInUseException``
over the per-instance limit                400   ``VmMemoryCanNotAttachMoreIpException``
subnet has no free address                 400   ``SubnetHasNoMoreIpException``
address to delete is not on the instance   400   ``PrivateIPNotExistException``
reboot of an instance that is not Running  409   ``Instance.RebootInstanceOperationForbidden``
same clientToken, different request        409   ``IdempotentParameterMismatch``
=========================================  ====  ===========================================
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import attrs

from .app import ApiError

DEFAULT_INSTANCE_ID = "i-DhjUXmSA"
DEFAULT_IPV4_SUBNET = "192.168.0.0/24"
DEFAULT_IPV6_SUBNET = "2400:da00:e003:0:219::/80"
# Over 64 GB: the ENI rule gives 40 secondary addresses per family (the README promises 40).
DEFAULT_MEMORY_GB = 128
DEFAULT_REBOOT_SECONDS = 0.5
TOKEN_TTL_SECONDS = 24 * 3600.0
MAX_TOKEN_LENGTH = 64
# Network address plus the first three (gateway, DNS, ...), like most clouds; and the
# last address (IPv4 broadcast; kept symmetric for IPv6). The first usable is .4.
RESERVED_HEAD = 4
RESERVED_TAIL = 1
INSTANCE_STATUSES = frozenset(
    {
        "Running",
        "Starting",
        "Stopping",
        "Stopped",
        "Deleted",
        "Scaling",
        "Expired",
        "Error",
        "SnapshotProcessing",
        "ImageProcessing",
        "ChangeVpc",
        "Recycled",
    }
)
FAMILIES = ("ipv4", "ipv6")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
T = TypeVar("T")


# --- errors -------------------------------------------------------------------------


def no_such_instance(instance_id: str) -> ApiError:
    return ApiError(404, "NoSuchObject", f"The instance {instance_id} does not exist.")


def invalid_parameter(message: str) -> ApiError:
    return ApiError(400, "InvalidParameter", message)


# --- rules --------------------------------------------------------------------------


def ip_limit(memory_gb: float) -> int:
    """Secondary addresses per family, by memory (the CCE driver's ENI rule)."""
    if memory_gb < 2:
        return 2
    if memory_gb <= 8:
        return 8
    if memory_gb <= 32:
        return 16
    if memory_gb <= 64:
        return 30
    return 40


def family_of(address: IPAddress) -> str:
    return "ipv6" if address.version == 6 else "ipv4"


def parse_address(text: str) -> IPAddress:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise invalid_parameter(f"privateIp {text!r} is not a valid IP address.") from None


def _short_hash(text: str, length: int = 8) -> str:
    # Stable ids derived from names: the same instance renders the same on every run.
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return digest[:length]


# --- model --------------------------------------------------------------------------


@attrs.define
class Subnet:
    """A subnet shared by every instance placed in it: an address is used once."""

    network: Network
    used: set[IPAddress] = attrs.field(factory=set)

    @property
    def subnet_id(self) -> str:
        return f"sbn-{_short_hash(str(self.network), 12)}"

    def _bounds(self) -> tuple[int, int]:
        first = int(self.network.network_address) + RESERVED_HEAD
        last = int(self.network.broadcast_address) - RESERVED_TAIL
        return first, last

    def is_assignable(self, address: IPAddress) -> bool:
        first, last = self._bounds()
        return address in self.network and first <= int(address) <= last

    def free(self, count: int) -> list[IPAddress] | None:
        """The ``count`` lowest free addresses, or None if there are not enough."""
        first, last = self._bounds()
        found: list[IPAddress] = []
        candidate = first
        # Walk from the bottom, skipping used ones: O(used + count) even for a /80.
        while len(found) < count and candidate <= last:
            address = ipaddress.ip_address(candidate)
            if address not in self.used:
                found.append(address)
            candidate += 1
        return found if len(found) == count else None

    def capacity(self) -> int:
        first, last = self._bounds()
        return max(0, last - first + 1)


@attrs.define
class Instance:
    id: str
    memory_gb: float
    subnets: dict[str, Subnet]
    primary: dict[str, IPAddress]
    status: str = "Running"
    reboot_seconds: float = DEFAULT_REBOOT_SECONDS
    starting_until: float | None = None
    secondary: dict[str, list[IPAddress]] = attrs.field(
        factory=lambda: {family: [] for family in FAMILIES}
    )

    @property
    def limit(self) -> int:
        return ip_limit(self.memory_gb)

    @property
    def eni_id(self) -> str:
        return f"eni-{_short_hash(self.id, 12)}"

    @property
    def mac_address(self) -> str:
        raw = _short_hash(self.id, 10)
        return "fa:16:" + ":".join(raw[i : i + 2] for i in range(0, 8, 2))

    def settle(self, now: float) -> None:
        """Finish a reboot whose time is up: status is computed lazily from timestamps."""
        until = self.starting_until
        if self.status == "Starting" and until is not None and now >= until:
            self.status = "Running"
            self.starting_until = None

    def owns(self, address: IPAddress) -> bool:
        family = family_of(address)
        return address == self.primary.get(family) or address in self.secondary[family]


@attrs.frozen
class InstanceView:
    """A consistent copy of one instance, for the HTTP layer to render."""

    id: str
    status: str
    memory_gb: float
    limit: int
    eni_id: str
    mac_address: str
    subnet_ids: dict[str, str]
    subnets: dict[str, str]
    primary: dict[str, str]
    secondary: dict[str, list[str]]

    @classmethod
    def of(cls, instance: Instance) -> InstanceView:
        return cls(
            id=instance.id,
            status=instance.status,
            memory_gb=instance.memory_gb,
            limit=instance.limit,
            eni_id=instance.eni_id,
            mac_address=instance.mac_address,
            subnet_ids={f: s.subnet_id for f, s in instance.subnets.items()},
            subnets={f: str(s.network) for f, s in instance.subnets.items()},
            primary={f: str(a) for f, a in instance.primary.items()},
            secondary={f: [str(a) for a in instance.secondary[f]] for f in FAMILIES},
        )

    def to_json(self) -> dict[str, Any]:
        memory: float | int = int(self.memory_gb) if self.memory_gb.is_integer() else self.memory_gb
        return {
            "status": self.status,
            "memory": memory,
            "limit": self.limit,
            "subnets": [self.subnets[f] for f in FAMILIES if f in self.subnets],
            "primary": dict(self.primary),
            "secondary": {f: list(v) for f, v in self.secondary.items()},
        }


@attrs.define
class _TokenRecord:
    fingerprint: str
    result: Any
    last_seen: float


def check_client_token(token: str) -> None:
    if len(token) > MAX_TOKEN_LENGTH or not (token.isascii() and token.isprintable()):
        raise invalid_parameter(
            f"clientToken must be printable ASCII of at most {MAX_TOKEN_LENGTH} characters."
        )


class BccState:
    """Every instance and subnet, and the client tokens seen in the last 24 h."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        reboot_seconds: float = DEFAULT_REBOOT_SECONDS,
    ) -> None:
        self._clock = clock
        self._reboot_seconds = reboot_seconds
        # Re-entrant: an idempotent call holds it around the operation it replays.
        self._lock = threading.RLock()
        self._instances: dict[str, Instance] = {}
        self._subnets: dict[Network, Subnet] = {}
        self._tokens: dict[str, _TokenRecord] = {}
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the default instance only, no tokens."""
        with self._lock:
            self._instances.clear()
            self._subnets.clear()
            self._tokens.clear()
            self.add_instance(
                DEFAULT_INSTANCE_ID,
                memory_gb=DEFAULT_MEMORY_GB,
                subnets=[DEFAULT_IPV4_SUBNET, DEFAULT_IPV6_SUBNET],
            )

    def add_instance(
        self,
        instance_id: str,
        *,
        status: str = "Running",
        memory_gb: float = DEFAULT_MEMORY_GB,
        subnets: Sequence[str] = (DEFAULT_IPV4_SUBNET, DEFAULT_IPV6_SUBNET),
        reboot_seconds: float | None = None,
    ) -> InstanceView:
        """Place a new instance; its primary addresses are the lowest free ones."""
        _check_new_instance(instance_id, status, memory_gb, reboot_seconds)
        networks = _parse_subnets(subnets)
        with self._lock:
            if instance_id in self._instances:
                raise ApiError(409, "InstanceAlreadyExists", f"{instance_id} already exists")
            # Check everything before registering anything: a refused request leaves no trace.
            placed = {family: self._placed_subnet(network) for family, network in networks.items()}
            primary = {family: _first_free(subnet) for family, subnet in placed.items()}
            for family, subnet in placed.items():
                self._subnets.setdefault(subnet.network, subnet)
                subnet.used.add(primary[family])
            instance = Instance(
                id=instance_id,
                memory_gb=float(memory_gb),
                subnets=placed,
                primary=primary,
                status=status,
                reboot_seconds=self._reboot_seconds if reboot_seconds is None else reboot_seconds,
            )
            if status == "Starting":
                instance.starting_until = self._clock() + instance.reboot_seconds
            self._instances[instance_id] = instance
            return InstanceView.of(instance)

    def _placed_subnet(self, network: Network) -> Subnet:
        """The registered subnet with this CIDR, or a new one that overlaps none."""
        existing = self._subnets.get(network)
        if existing is not None:
            return existing
        for other in self._subnets:
            if other.version == network.version and _overlaps(network, other):
                raise ApiError(400, "BadRequest", f"subnet {network} overlaps {other}")
        return Subnet(network)

    # -- queries -----------------------------------------------------------------------
    def _get(self, instance_id: str) -> Instance:
        instance = self._instances.get(instance_id)
        if instance is None:
            raise no_such_instance(instance_id)
        instance.settle(self._clock())
        return instance

    def get_instance(self, instance_id: str) -> InstanceView:
        with self._lock:
            return InstanceView.of(self._get(instance_id))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            for instance in self._instances.values():
                instance.settle(now)
            return {
                "instances": {
                    iid: InstanceView.of(inst).to_json() for iid, inst in self._instances.items()
                }
            }

    # -- operations ----------------------------------------------------------------------
    def batch_add_ip(
        self,
        instance_id: str,
        *,
        private_ips: Sequence[str] | None = None,
        count: int | None = None,
        ipv6: bool = False,
    ) -> list[str]:
        """Add the given addresses or ``count`` allocated ones; all or nothing."""
        if (private_ips is None) == (count is None):
            raise invalid_parameter(
                "Exactly one of privateIps and secondaryPrivateIpAddressCount is required."
            )
        family = "ipv6" if ipv6 else "ipv4"
        with self._lock:
            instance = self._get(instance_id)
            subnet = instance.subnets.get(family)
            if subnet is None:
                raise invalid_parameter(f"The instance {instance_id} has no {family} subnet.")
            if private_ips is not None:
                addresses = self._check_explicit(instance, subnet, private_ips, family)
            else:
                addresses = self._allocate(instance, subnet, count or 0, family)
            for address in addresses:
                subnet.used.add(address)
                instance.secondary[family].append(address)
            return [str(a) for a in addresses]

    def _check_explicit(
        self, instance: Instance, subnet: Subnet, texts: Sequence[str], family: str
    ) -> list[IPAddress]:
        if not texts:
            raise invalid_parameter("privateIps must not be empty.")
        addresses = [parse_address(t) for t in texts]
        for address in addresses:
            if family_of(address) != family:
                raise invalid_parameter(
                    f"privateIp {address} is not {family}: allocateMultiIpv6Addr must be "
                    f"{'true' if family_of(address) == 'ipv6' else 'false'} for it."
                )
        _refuse_duplicates(addresses)
        for address in addresses:
            if not subnet.is_assignable(address):
                raise invalid_parameter(
                    f"privateIp {address} is not an assignable address of subnet "
                    f"{subnet.subnet_id} ({subnet.network})."
                )
        for address in addresses:
            if address in subnet.used:
                raise ApiError(
                    409, "PrivateIpInUseException", f"The private ip {address} is in use."
                )
        self._check_limit(instance, family, len(addresses))
        return addresses

    def _allocate(
        self, instance: Instance, subnet: Subnet, count: int, family: str
    ) -> list[IPAddress]:
        if count < 1:
            raise invalid_parameter("secondaryPrivateIpAddressCount must be at least 1.")
        self._check_limit(instance, family, count)
        free = subnet.free(count)
        if free is None:
            raise ApiError(
                400,
                "SubnetHasNoMoreIpException",
                f"The subnet {subnet.subnet_id} has no more ip for {count} address(es).",
            )
        return free

    @staticmethod
    def _check_limit(instance: Instance, family: str, adding: int) -> None:
        held = len(instance.secondary[family])
        if held + adding > instance.limit:
            raise ApiError(
                400,
                "VmMemoryCanNotAttachMoreIpException",
                f"The instance {instance.id} ({instance.memory_gb:g} GB) can hold at most "
                f"{instance.limit} secondary {family} addresses; it has {held}, "
                f"{adding} more requested.",
            )

    def batch_del_ip(self, instance_id: str, private_ips: Sequence[str]) -> None:
        """Delete secondary addresses; one address not on the instance fails the call."""
        if not private_ips:
            raise invalid_parameter("privateIps must not be empty.")
        addresses = [parse_address(t) for t in private_ips]
        _refuse_duplicates(addresses)
        with self._lock:
            instance = self._get(instance_id)
            for address in addresses:
                if address == instance.primary.get(family_of(address)):
                    raise invalid_parameter(f"The primary ip {address} cannot be deleted.")
            for address in addresses:
                if address not in instance.secondary[family_of(address)]:
                    raise ApiError(
                        400,
                        "PrivateIPNotExistException",
                        f"The private ip {address} does not exist on {instance_id}.",
                    )
            for address in addresses:
                family = family_of(address)
                instance.secondary[family].remove(address)
                instance.subnets[family].used.discard(address)

    def reboot(self, instance_id: str) -> None:
        """Running -> Starting; Running again ``reboot_seconds`` later."""
        with self._lock:
            instance = self._get(instance_id)
            if instance.status != "Running":
                raise ApiError(
                    409,
                    "Instance.RebootInstanceOperationForbidden",
                    f"The instance {instance_id} is {instance.status}; only a Running "
                    "instance can be rebooted.",
                )
            instance.status = "Starting"
            instance.starting_until = self._clock() + instance.reboot_seconds

    # -- idempotence -------------------------------------------------------------------
    def once(self, token: str, fingerprint: str, action: Callable[[], T]) -> T:
        """Run ``action`` once per client token; a repeat gets a copy of the first result.

        Only successes are kept: a failed call changed nothing (all or nothing), so
        running it again is what the client would get from a replay anyway, and it
        lets a client succeed once the cause (say, a full subnet) is gone.
        """
        check_client_token(token)
        with self._lock:
            now = self._clock()
            self._expire_tokens(now)
            record = self._tokens.get(token)
            if record is not None:
                if record.fingerprint != fingerprint:
                    raise ApiError(
                        409,
                        "IdempotentParameterMismatch",
                        f"The clientToken {token} was used with a different request.",
                    )
                record.last_seen = now
                return copy.deepcopy(record.result)  # type: ignore[no-any-return]
            result = action()
            self._tokens[token] = _TokenRecord(fingerprint, copy.deepcopy(result), now)
            return result

    def _expire_tokens(self, now: float) -> None:
        stale = [t for t, r in self._tokens.items() if now - r.last_seen > TOKEN_TTL_SECONDS]
        for token in stale:
            del self._tokens[token]


def _first_free(subnet: Subnet) -> IPAddress:
    free = subnet.free(1)
    if free is None:
        raise ApiError(400, "BadRequest", f"subnet {subnet.network} is full")
    return free[0]


def _overlaps(a: Network, b: Network) -> bool:
    first_a, last_a = int(a.network_address), int(a.broadcast_address)
    first_b, last_b = int(b.network_address), int(b.broadcast_address)
    return first_a <= last_b and first_b <= last_a


def _refuse_duplicates(addresses: Iterable[IPAddress]) -> None:
    seen: set[IPAddress] = set()
    for address in addresses:
        if address in seen:
            raise invalid_parameter(f"privateIp {address} is given more than once.")
        seen.add(address)


def _check_new_instance(
    instance_id: str, status: str, memory_gb: float, reboot_seconds: float | None
) -> None:
    if not instance_id or "/" in instance_id or not instance_id.isprintable():
        raise ApiError(400, "BadRequest", "instance id must be a non-empty path segment")
    if status not in INSTANCE_STATUSES:
        raise ApiError(400, "BadRequest", f"status must be one of {sorted(INSTANCE_STATUSES)}")
    if not (math.isfinite(memory_gb) and memory_gb > 0):
        raise ApiError(400, "BadRequest", "memory must be a positive number of GB")
    if reboot_seconds is not None and not (math.isfinite(reboot_seconds) and reboot_seconds >= 0):
        raise ApiError(400, "BadRequest", "reboot_seconds must be a finite, non-negative number")


def _parse_subnets(subnets: Sequence[str]) -> dict[str, Network]:
    """One IPv4 subnet (required) and at most one IPv6 prefix, with room for a primary."""
    networks: dict[str, Network] = {}
    for text in subnets:
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            raise ApiError(400, "BadRequest", f"subnet {text!r}: {exc}") from None
        family = "ipv6" if network.version == 6 else "ipv4"
        if family in networks:
            raise ApiError(400, "BadRequest", f"more than one {family} subnet given")
        if Subnet(network).capacity() < 1:
            raise ApiError(400, "BadRequest", f"subnet {network} is too small")
        networks[family] = network
    if "ipv4" not in networks:
        raise ApiError(400, "BadRequest", "an instance needs an IPv4 subnet")
    return networks
