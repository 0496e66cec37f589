"""The README's input tables are the declarations, row for row: a rule changed in code
and not in the README (or the other way round) fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from pulumi_batchip.eip_inputs import DECLARATION as EIP_BATCH
from pulumi_batchip.inputs import Declaration
from pulumi_batchip.secondary_ip_inputs import DECLARATION as SECONDARY_IP_SET

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_table(section: str) -> list[str]:
    """The first ``| input | type | rule |`` table under ``## <section>``."""
    text = README.read_text().split(f"\n## {section}", 1)[1].split("\n## ", 1)[0]
    lines = text.splitlines()
    start = lines.index("| input | type | rule |")
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(line)
    return table


@pytest.mark.parametrize(
    ("section", "declaration"),
    [("SecondaryIpSet (Baidu BCC)", SECONDARY_IP_SET), ("EipBatch (Huawei Cloud EIP)", EIP_BATCH)],
)
def test_readme_input_table_is_the_declaration(section: str, declaration: Declaration) -> None:
    assert readme_table(section) == declaration.readme_table()


@pytest.mark.parametrize("declaration", [SECONDARY_IP_SET, EIP_BATCH])
def test_replace_keys_come_from_the_declaration(declaration: Declaration) -> None:
    replacing = {f.name for f in declaration.fields if f.change == "replaces"}
    assert set(declaration.replace_keys) == replacing
    for field in declaration.fields:
        if field.hidden:
            continue
        says_replace = "replace" in field.doc_rule
        assert says_replace == (field.change == "replaces") or field.name == "bandwidth", (
            f"{field.name}: the README rule and the declaration disagree on replacing"
        )
