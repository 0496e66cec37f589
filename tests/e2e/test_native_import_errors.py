"""`pulumi import` through the native plugin of an id that names nothing in the cloud
fails ("does not exist") and records nothing (it once recorded a resource with no
inputs or outputs: the engine takes the empty properties this SDK sends as live)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import Admin
from .conftest import Stack, held, mutating_calls, native_stack


@pytest.mark.parametrize(
    ("typ", "id_"),
    [
        ("batchip:index:EipBatch", "00000000-0000-0000-0000-000000000000"),
        ("batchip:index:SecondaryIpSet", "i-DhjUXmSA/10.9.9.9"),
    ],
)
def test_import_of_a_nonexistent_id_fails(
    stack: Stack, cloud: Admin, tmp_path: Path, typ: str, id_: str
) -> None:
    native_stack(stack, tmp_path)
    stack.write_program("")
    stack.init()
    result = stack.run(
        "import",
        typ,
        "ghost",
        id_,
        "--yes",
        "--protect=false",
        "--generate-code=false",
        check=False,
    )
    assert held(cloud) == (0, 0) and mutating_calls(cloud.requests()) == []
    assert result.returncode != 0, result.stdout + result.stderr
    assert f"{typ.rpartition(':')[2]} '{id_}' does not exist" in result.stdout + result.stderr
    assert stack.resources(typ) == []
