"""EipBatch through the provider server when a create's answer is lost (a 502, a
client timeout): awaited by tag, sent again only once the count settles, and a late
landing trimmed at once or released after a refresh."""

from __future__ import annotations

import time

from pulumi_batchip.emulator import RunningEmulator

from ..conftest import Admin
from .eip_helpers import failed_up, serving, wait_held
from .harness import EngineResource
from .test_eip_batch_engine import TYPE, assert_state_matches, held, inputs


def test_ambiguous_502_is_awaited_by_tag_then_cleaned(
    emulator_session: RunningEmulator, admin: Admin
) -> None:
    """A 502 on the create may come after the backend acted: never a plain failure.
    Here nothing landed: the EIPs are awaited by tag until the deadline, then the
    cleanup checks the tag is still empty, and says so."""
    admin.faults({"operation": "BatchCreatePublicips", "action": "error", "status": 502})
    two_seconds = {"batchip:eipJobTimeout": "2"}
    details = failed_up(emulator_session.url, "bad-gateway", 3, **two_seconds).details
    assert "the answer to 1 create call(s) was lost" in details
    assert "Cleaned up: deleted 0 EIP(s)" in details and "none carries the tag now" in details
    creates = [r for r in admin.requests() if r["operation"] == "BatchCreatePublicips"]
    assert len(creates) == 1  # never sent again blindly
    assert held(admin) == {}


def test_a_502_that_did_not_act_is_sent_again_once_the_count_settles(
    emulator_session: RunningEmulator, admin: Admin
) -> None:
    """With time left, the EIPs of a create answered 502 that never appear (the tag
    count stays put 5 s after the create's other job finished) are sent again."""
    admin.faults(
        {"operation": "BatchCreatePublicips", "action": "error", "status": 502, "after": 1}
    )
    with serving(emulator_session.url, **{"batchip:eipJobTimeout": "60"}) as server:
        res = EngineResource(server, TYPE, "resent")
        started = time.monotonic()
        res.up(inputs(count=60))  # chunks of 50 and 10: the second to arrive gets a 502
        took = time.monotonic() - started
        assert len(res.outputs["eip_ids"]) == 60
        assert_state_matches(res, admin)
        creates = [r for r in admin.requests() if r["operation"] == "BatchCreatePublicips"]
        # The log is in answer order: the 502 may come before or after the other.
        refused = [c for c in creates if c["status"] == 502]
        assert len(creates) == 3 and len(refused) == 1
        assert sorted(c["body"]["publicip_number"] for c in creates[:2]) == [10, 50]
        # Exactly the refused chunk's EIPs, sent again (last: after the count settled).
        assert creates[2]["status"] == 200
        assert creates[2]["body"]["publicip_number"] == refused[0]["body"]["publicip_number"]
        assert 5.0 <= took < 30.0
        res.destroy()
    assert held(admin) == {}


def test_a_lost_create_landing_after_the_resend_is_trimmed_at_once(
    emulator_session: RunningEmulator, admin: Admin
) -> None:
    """One create times out on the client (4 s) and lands at 10 s; the other's job is
    known, so the missing EIPs are sent again at 9 s or later, answered 3 s later: 60 +
    the surplus carry the tag, and the newest surplus is released before the up
    returns."""
    admin.faults(
        {"operation": "BatchCreatePublicips", "action": "delay", "seconds": 10},
        {"operation": "BatchCreatePublicips", "action": "delay", "seconds": 3, "after": 2},
    )
    with serving(
        emulator_session.url, **{"batchip:eipJobTimeout": "60", "batchip:httpTimeout": "4"}
    ) as server:
        res = EngineResource(server, TYPE, "late")
        res.up(inputs(count=60))
        assert len(res.outputs["eip_ids"]) == 60
        assert_state_matches(res, admin)
        ops = [r["operation"] for r in admin.requests()]
        assert ops.count("BatchCreatePublicips") == 3 and ops.count("BatchDeletePublicIp") == 1
        res.destroy()
    wait_held(admin, 0)


def test_a_lost_create_landing_after_the_up_is_released_after_a_refresh(
    emulator_session: RunningEmulator, admin: Admin
) -> None:
    """Landing later still (14 s), its EIPs carry the batch tag: refresh shows them and
    the next up releases the surplus, so the cloud again holds what the state says."""
    admin.faults({"operation": "BatchCreatePublicips", "action": "delay", "seconds": 14})
    with serving(
        emulator_session.url, **{"batchip:eipJobTimeout": "60", "batchip:httpTimeout": "2"}
    ) as server:
        res = EngineResource(server, TYPE, "later")
        res.up(inputs(count=60))
        assert_state_matches(res, admin)
        creates = [r for r in admin.requests() if r["operation"] == "BatchCreatePublicips"]
        # The delayed call is logged once answered (at 14 s): here, the other and the
        # re-send, as large as the lost one.
        assert len(creates) == 2
        surplus = creates[1]["body"]["publicip_number"]
        wait_held(admin, 60 + surplus)
        res.refresh()
        assert len(res.outputs["eip_ids"]) == 60 + surplus
        assert res.up(inputs(count=60)) == "update"
        assert len(res.outputs["eip_ids"]) == 60
        assert_state_matches(res, admin)
        res.destroy()
    wait_held(admin, 0)
