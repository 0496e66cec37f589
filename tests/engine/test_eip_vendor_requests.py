"""What the provider sends, as the vendor documents it."""

from __future__ import annotations

from ..conftest import Admin
from .harness import EngineResource, ProviderProcess
from .test_eip_batch_engine import TYPE, inputs


def test_requests_as_the_vendor_documents_them(
    provider_server: ProviderProcess, admin: Admin
) -> None:
    """What the provider sends by default, read from the emulator's request log:
    enterprise_project_id "0" on the create, all_granted_eps on every list, and a
    size for a shared (WHOLE) bandwidth too."""
    shared = next(
        b["id"] for b in admin.state()["eip"]["bandwidths"].values() if b["share_type"] == "WHOLE"
    )
    res = EngineResource(provider_server, TYPE, "fidelity")
    res.up(inputs(count=1))
    res.destroy()
    whole = EngineResource(provider_server, TYPE, "fidelity-whole")
    whole.up(inputs(count=1, bandwidth={"share_type": "WHOLE", "id": shared}))
    whole.destroy()
    log = admin.requests()
    creates = [r["body"] for r in log if r["operation"] == "BatchCreatePublicips"]
    assert [c["enterprise_project_id"] for c in creates] == ["0", "0"]
    assert [c["publicip"]["enterprise_project_id"] for c in creates] == ["0", "0"]
    # size always goes (the Go SDK never omits it); a shared one's is the minimum.
    assert creates[0]["bandwidth"]["size"] == 5 and creates[1]["bandwidth"]["size"] == 5
    lists = [r["query"] for r in log if r["operation"] == "ListPublicips"]
    assert lists and all(q["enterprise_project_id"] == ["all_granted_eps"] for q in lists)
