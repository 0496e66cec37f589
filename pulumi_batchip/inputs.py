"""Inputs declared once per resource.

A resource's ``Declaration`` lists its fields: name, the type and rule the README
shows, the default, whether a change replaces the resource, and the rule as code (a
function from the raw value to the checked value, adding failures). ``check``, the
replace keys, state migration defaults, the testing kit's offline outputs and the
README's input table all come from it; cross-field rules stay small named validators
beside the declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import attrs

from ._provider import Failures, is_unknown

Change = Literal["replaces", "in place", "nothing"]

# A field's rule: (raw value, the failures to add to, the inputs checked so far) ->
# the checked value. It is not called for an unknown value (a preview): that passes.
Rule = Callable[[Any, Failures, Mapping[str, Any]], Any]


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()  # no default: the input is left out when not given


def _keep(value: Any, _failures: Failures, _inputs: Mapping[str, Any]) -> Any:
    return value


@attrs.frozen
class Field:
    """One input. ``doc_type`` and ``doc_rule`` are the README's columns, word for word;
    ``omit_default``: the default is applied but not written into the inputs (so the
    inputs of stacks made before the field existed stay unchanged)."""

    name: str
    doc_type: str
    doc_rule: str
    change: Change
    rule: Rule = _keep
    default: Any = ABSENT
    omit_default: bool = False
    hidden: bool = False  # set by the resource itself, not by users: not in the README
    required: bool = False  # check fails without it (said for the package schema)

    def readme_row(self) -> str:
        return f"| `{self.name}` | {self.doc_type} | {self.doc_rule} |"


@attrs.frozen
class Declaration:
    resource: str
    fields: tuple[Field, ...]

    def __getitem__(self, name: str) -> Field:
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def replace_keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.change == "replaces")

    @property
    def defaults(self) -> dict[str, Any]:
        """What state migration fills in where older code left a field out."""
        return {f.name: f.default for f in self.fields if f.default is not ABSENT}

    def readme_table(self) -> list[str]:
        """The README's input table of this resource, header included."""
        rows = [f.readme_row() for f in self.fields if not f.hidden]
        return ["| input | type | rule |", "|---|---|---|", *rows]

    def check_fields(
        self, news: Mapping[str, Any], failures: Failures, names: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """Each field's rule over ``news`` in declaration order (or ``names``' order):
        the default stands in for an absent value; an unknown value passes unchecked; a
        field absent with no default is left out."""
        out: dict[str, Any] = {}
        for name in self.names if names is None else names:
            field = self[name]
            value = news.get(name)
            if value is None:
                if field.default is ABSENT:
                    continue
                value = field.default
                if field.omit_default:
                    continue
            out[name] = value if is_unknown(value) else field.rule(value, failures, out)
        return out
