"""What `pulumi preview --diff` shows through the native plugin for a count change of an
EipBatch: the count change, and nothing else (``stackScope``, which the plugin sets
from the URN and is no output, was listed as changed on every diff: attack review)."""

from __future__ import annotations

import re
from pathlib import Path

from ..conftest import Admin
from .conftest import Stack, native_stack

PROGRAM = """
import pulumi

cfg = pulumi.Config()
pulumi.CustomResource(
    "batchip:index:EipBatch",
    "edge",
    {"count": cfg.get_int("count") or 1, "bandwidth": {"size": 5, "shareType": "PER"}},
)
"""


def test_count_change_diff_shows_count_only(stack: Stack, cloud: Admin, tmp_path: Path) -> None:
    native_stack(stack, tmp_path)
    stack.write_program(PROGRAM)
    stack.init()
    stack.up()
    stack.config_set("count", "2")
    shown = stack.preview("--diff").stdout
    assert re.search(r"~ count\s*: 1 => 2", shown), shown
    assert "stackScope" not in shown, shown
    shown = stack.up("--diff").stdout
    assert "stackScope" not in shown, shown
