"""`count` after out-of-band deletes, through the real CLI: `refresh` makes the `count`
output say what exists, and the next `up` compares the program's count with it."""

from __future__ import annotations

from ..conftest import Admin
from .conftest import Stack, held, mutating_calls, release_eips_outside

PROGRAM = """
import pulumi
import pulumi_batchip as batchip

edge = batchip.EipBatch(
    "edge",
    count=pulumi.Config().require_int("eips"),
    bandwidth={"size": 5, "share_type": "PER"},
)
pulumi.export("count", edge.count)
pulumi.export("eip_ids", edge.eip_ids)
"""


def _edge_outputs(stack: Stack) -> dict[str, object]:
    [edge] = [r for r in stack.resources() if r["urn"].endswith("::edge")]
    return dict(edge["outputs"])


def test_refresh_sets_count_then_up_keeps_or_grows(stack: Stack, cloud: Admin) -> None:
    stack.write_program(PROGRAM)
    stack.init({"eips": "5"})
    stack.up()
    first = stack.outputs()["eip_ids"]
    release_eips_outside(cloud, first[1:3], left=3)

    stack.refresh()
    edge = _edge_outputs(stack)
    assert edge["count"] == 3 and edge["eip_ids"] == [first[0], *first[3:]]

    # The program now asks for what exists: nothing to do, and the output is right.
    stack.config_set("eips", "3")
    stack.preview("--expect-no-changes")
    before = len(cloud.requests())
    stack.up()
    assert mutating_calls(cloud.requests()[before:]) == []
    outputs = stack.outputs()
    assert outputs["count"] == 3 and len(outputs["eip_ids"]) == 3

    # Another out-of-band delete; the program asks for 3 again: `up` grows back by one.
    release_eips_outside(cloud, [first[0]], left=2)
    stack.refresh()
    assert _edge_outputs(stack)["count"] == 2
    before = len(cloud.requests())
    stack.up()
    calls = mutating_calls(cloud.requests()[before:])
    assert [c["operation"] for c in calls] == ["BatchCreatePublicips"]
    assert calls[0]["body"]["publicip_number"] == 1
    outputs = stack.outputs()
    assert outputs["count"] == 3 and len(outputs["eip_ids"]) == 3
    assert outputs["eip_ids"][:2] == first[3:]
    assert held(cloud) == (0, 3)
    stack.destroy()
    assert held(cloud) == (0, 0)
