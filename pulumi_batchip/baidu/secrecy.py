"""Keeping a SecondaryIpSet's secret addresses out of plain text.

The dynamic provider server tells the engine it accepts no secrets, so secret inputs
reach the provider as plain values: it cannot tell which were secret. The resource
class can (it sees the Outputs before they are serialised) and passes
``secret_addresses=True`` when ``private_ips`` is secret. The engine keeps an output
secret when the input of the same name was; the rest is the provider's job: the id
(never secret in Pulumi), progress lines and error messages.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import secrets
from collections.abc import Iterator, Sequence
from contextvars import ContextVar

import pulumi

from .._provider import progress as _progress
from ..errors import BatchIpError

HIDDEN_FLAG = "secret_addresses"
# The id of a secret set: "<instance id>/secret-<random hex>". Random, not a hash of
# the addresses: a VM's subnet holds few enough addresses to try every one.
OPAQUE_PREFIX = "secret-"
REDACTED = "<secret address>"

# Set for the length of one RPC on a secret set (each gRPC worker thread has its own).
_HIDING: ContextVar[bool] = ContextVar("batchip_hiding", default=False)
# Runs of characters an IPv4/IPv6 literal is made of; each run is checked by ipaddress.
_CANDIDATE = re.compile(r"[0-9A-Fa-f:.]*[.:][0-9A-Fa-f:.]*")


def hiding() -> bool:
    return _HIDING.get()


@contextlib.contextmanager
def hidden(secret: bool) -> Iterator[None]:
    """While inside, on a secret set: ``named`` gives counts, ``progress`` redacts IP
    literals, and an exception leaving is re-raised as a BatchIpError with its IP
    literals redacted and without its chain (the server sends the whole traceback)."""
    if not secret:
        yield
        return
    token = _HIDING.set(True)
    try:
        yield
    except Exception as exc:
        raise BatchIpError(redact(str(exc))) from None
    finally:
        _HIDING.reset(token)


def _one(match: re.Match[str]) -> str:
    text = match.group()
    core = text.strip(".:")
    try:
        ipaddress.ip_address(core)
    except ValueError:
        return text
    start = text.index(core)
    return f"{text[:start]}{REDACTED}{text[start + len(core) :]}"


def redact(text: str) -> str:
    """``text`` with every IPv4/IPv6 literal replaced by REDACTED."""
    return _CANDIDATE.sub(_one, text)


def named(addresses: Sequence[str]) -> str:
    """Every address, or on a secret set only how many."""
    if hiding():
        n = len(addresses)
        return f"{n} secret address{'' if n == 1 else 'es'}"
    return ", ".join(addresses)


def progress(line: str) -> None:
    _progress(redact(line) if hiding() else line)


def opaque_id(instance_id: str) -> str:
    return f"{instance_id}/{OPAQUE_PREFIX}{secrets.token_hex(8)}"


def is_opaque(id_rest: str) -> bool:
    return id_rest.startswith(OPAQUE_PREFIX)


def secret_flag(value: object) -> pulumi.Output[bool | None] | None:
    """For the resource class: an Output of True once the Input ``value`` turns out
    secret, else of None (no input at all). It is itself neither secret nor unknown,
    so the provider reads it in preview as well."""
    if value is None:
        return None
    inner = pulumi.Output.from_input(value)

    async def flag() -> bool | None:
        return True if await inner.is_secret() else None

    async def known() -> bool:
        return True

    return pulumi.Output(set(), flag(), known())
