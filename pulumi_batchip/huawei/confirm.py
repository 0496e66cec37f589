"""Confirming, by id, what a list answer leaves out.

Huawei's EIP API Reference ("Permissions Policies and Supported Actions", "Precautions
for API Permissions") says a caller without enough rights gets HTTP 200 and an empty
list when it queries network resources. An empty (or short) list is therefore no proof
that an EIP is gone: only a read by id (``ShowPublicip``) answering 404 is. Before the
provider forgets an EIP that the state, a job or the tag query says exists, it reads a
bounded sample of the missing ones by id; one that is still there means the list was
not telling the whole truth, and the operation stops with :class:`ListContradiction`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..errors import AuthError, BatchIpError, NotFoundError
from .eip import EipClient, PublicIp

# Ids read one by one when a list leaves EIPs out: enough to tell an empty answer of a
# caller without rights (every one still there) from EIPs deleted out of band (404),
# few enough that a refresh after a large out-of-band delete stays cheap.
CONFIRM_SAMPLE = 5
PENDING_DELETE = "PENDING_DELETE"
PERMISSION_HINT = (
    "Huawei answers a caller without enough rights with HTTP 200 and an empty list "
    "(EIP API Reference, 'Precautions for API Permissions'): grant this user the EIP read "
    "rights on the EIPs' enterprise project (vpc:publicIps:list and vpc:publicIps:get; "
    "vpc:publicipTags:get for the tag query, which takes project-level rights only), "
    "then run the command again"
)


class ListContradiction(BatchIpError):
    """A list answer left out EIPs that a read by id still finds (or could not read)."""


def sample(ids: Sequence[str], size: int = CONFIRM_SAMPLE) -> list[str]:
    """Up to ``size`` ids spread over ``ids`` (first, last and between), in order."""
    if len(ids) <= size:
        return list(ids)
    step = (len(ids) - 1) / (size - 1)
    return [ids[round(n * step)] for n in range(size)]


def read_by_id(
    client: EipClient,
    ids: Sequence[str],
    *,
    run: Callable[[Callable[[str], PublicIp | None], Sequence[str]], list[PublicIp | None]],
) -> list[PublicIp]:
    """The records of those ``ids`` that still exist (a 404 is gone); ``run`` maps the
    reads over the ids (the caller's bounded, deadline-aware pool)."""

    def one(publicip_id: str) -> PublicIp | None:
        try:
            return client.show_publicip(publicip_id)
        except NotFoundError:
            return None
        except AuthError as exc:
            raise ListContradiction(
                f"cannot tell whether EIP {publicip_id} still exists: the list left it out "
                f"and reading it by id was refused ({exc}). {PERMISSION_HINT}."
            ) from exc

    return [eip for eip in run(one, ids) if eip is not None]


def confirm_absent(
    client: EipClient,
    missing: Sequence[str],
    *,
    what: str,
    run: Callable[[Callable[[str], PublicIp | None], Sequence[str]], list[PublicIp | None]],
) -> None:
    """Raise :class:`ListContradiction` unless every sampled id of ``missing`` (EIPs a
    list left out) reads 404 or ``PENDING_DELETE`` by id. ``what``: who says they exist
    (the state, the jobs, the batch tag), for the error."""
    if not missing:
        return
    checked = sample(missing)
    there = [e for e in read_by_id(client, checked, run=run) if e.status != PENDING_DELETE]
    if there:
        raise ListContradiction(contradiction(len(missing), there, what))


def contradiction(missing: int, there: Sequence[PublicIp], what: str) -> str:
    listing = ", ".join(f"{e.id} ({e.status})" for e in there[:5])
    return (
        f"the EIP list left out {missing} EIP(s) {what} says exist, but reading them by id "
        f"finds {len(there)} of the {min(missing, CONFIRM_SAMPLE)} read still there: "
        f"{listing}. {PERMISSION_HINT}."
    )
