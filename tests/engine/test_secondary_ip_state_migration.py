"""SecondaryIpSet state written by older code, through the server: migrated in place
without a replacement; state of a newer release is refused."""

from __future__ import annotations

import pytest

from pulumi_batchip.secondary_ip_set import SCHEMA_KEY, SCHEMA_VERSION

from ..conftest import Admin
from .harness import EngineResource, ProviderError
from .secondary_ip_support import inputs, resource_fixture, secondary

res = resource_fixture("hardened")


# -- state written by older code, through the server ------------------------------------------
@pytest.mark.parametrize(
    "missing", [("ipv6",), ("reboot",), ("region",), ("ipv6", "reboot", "region")]
)
def test_old_state_needs_no_replacement_and_migrates(
    res: EngineResource, admin: Admin, missing: tuple[str, ...]
) -> None:
    res.up(inputs(count=2))
    owned = list(res.outputs["private_ips"])
    assert res.outputs[SCHEMA_KEY] == SCHEMA_VERSION
    # As older code left it in state.
    res.outputs = {k: v for k, v in res.outputs.items() if k not in (*missing, SCHEMA_KEY)}
    assert res.up(inputs(count=2)) == "same"
    assert res.up(inputs(count=3)) == "update"
    assert res.outputs[SCHEMA_KEY] == SCHEMA_VERSION
    assert res.outputs["region"] == "bj" and res.outputs["ipv6"] is False
    assert res.outputs["private_ips"][:2] == owned
    res.outputs = {k: v for k, v in res.outputs.items() if k not in (*missing, SCHEMA_KEY)}
    assert res.refresh() == "refreshed"
    assert res.outputs[SCHEMA_KEY] == SCHEMA_VERSION
    res.outputs = {k: v for k, v in res.outputs.items() if k not in (*missing, SCHEMA_KEY)}
    res.destroy()
    assert secondary(admin) == []


def test_state_from_a_newer_release_is_refused(res: EngineResource, admin: Admin) -> None:
    res.up(inputs(count=1))
    res.outputs = {**res.outputs, SCHEMA_KEY: SCHEMA_VERSION + 1}
    with pytest.raises(ProviderError, match="upgrade pulumi-batchip"):
        res.up(inputs(count=2))
    assert len(secondary(admin)) == 1
    res.outputs = {**res.outputs, SCHEMA_KEY: SCHEMA_VERSION}
    res.destroy()
