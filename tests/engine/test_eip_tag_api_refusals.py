"""The tag APIs refused (rights only through an enterprise project, or a region
without them): EIPs are found by listing; what cannot work says what to grant."""

from __future__ import annotations

import pytest

from pulumi_batchip.emulator import EmulatorConfig, start_emulator

from ..conftest import Admin
from .eip_helpers import serving
from .harness import EngineResource, ProviderError, ProviderProcess
from .test_eip_batch_engine import TYPE, assert_state_matches, held, inputs


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (403, "VPC.0008", "Forbidden: no permission for enterprise project"),
        (404, "APIGW.0101", "The API does not exist or has not been published"),
    ],
)
def test_tag_api_forbidden_falls_back_to_listing(
    provider_server: ProviderProcess, admin: Admin, status: int, code: str, message: str
) -> None:
    """Rights granted only through an enterprise project do not cover the tag APIs
    (403), and older references offer tag management only in some regions (404): the
    batch's EIPs are then found by listing them and matching their tags."""
    admin.faults(
        {
            "operation": "ListPublicipsByTags",
            "action": "error",
            "status": status,
            "code": code,
            "message": message,
            "times": 0,
        }
    )
    res = EngineResource(provider_server, TYPE, "ep-only")
    res.up(inputs(count=3))
    assert_state_matches(res, admin)
    assert f"the tag API answered {status}" in provider_server.stderr
    res.refresh()
    assert len(res.outputs["eip_ids"]) == 3
    res.destroy()
    assert held(admin) == {}
    listed = [r for r in admin.requests() if r["operation"] == "ListPublicips"]
    assert listed and all(r["status"] == 200 for r in listed)


def test_nothing_works_says_what_to_grant(provider_server: ProviderProcess, admin: Admin) -> None:
    res = EngineResource(provider_server, TYPE, "no-rights")
    res.up(inputs(count=1))
    for operation in ("ListPublicipsByTags", "ListPublicips"):
        admin.faults(
            {"operation": operation, "action": "error", "status": 403, "code": "APIGW.0302"}
            | {"times": 0}
        )
    with pytest.raises(ProviderError) as info:
        res.refresh()
    details = info.value.details
    assert "the tag API refused" in details and "listing the EIPs failed too" in details
    assert "Grant the EIP permissions on the project" in details
    admin.clear_faults()
    res.destroy()
    assert held(admin) == {}


def test_tag_change_refused_by_permissions_says_what_to_grant() -> None:
    """With the tag APIs forbidden (rights only through an enterprise project), the
    batch is still created, read and destroyed; a tag change fails with a clear
    message, not a raw 403."""
    config = EmulatorConfig(job_seconds=0.2, tags_forbidden=True)
    with start_emulator(config=config) as emu, serving(emu.url) as server:
        admin = Admin(emu.url)
        try:
            res = EngineResource(server, TYPE, "ep-tags")
            res.up(inputs(count=2, tags={"env": "a"}))
            with pytest.raises(ProviderError) as info:
                res.up(inputs(count=2, tags={"env": "b"}))
            details = info.value.details
            assert "changing the tags was refused" in details
            assert "grant the EIP tag permissions on the project" in details
            res.destroy()
            assert not [e for e in held(admin).values() if e["status"] != "PENDING_DELETE"]
        finally:
            admin.close()
