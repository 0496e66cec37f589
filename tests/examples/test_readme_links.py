"""Every relative link of README.md and CONTRIBUTING.md points at a file or folder of
this repository, and every `#anchor` at a heading of the page it names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = ["README.md", "CONTRIBUTING.md"]
# [text](target) and ![alt](target); a title after the target ("...") is dropped.
FENCE = r"^[ \t]*```.*?^[ \t]*```"  # a fenced code block, indented or not
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def prose(text: str) -> str:
    """The page without its fenced code blocks and inline code spans."""
    text = re.sub(FENCE, "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def links(page: str) -> list[str]:
    return LINK.findall(prose((REPO / page).read_text()))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(FENCE, "", path.read_text(), flags=re.S | re.M)
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


@pytest.mark.parametrize("page", PAGES)
def test_relative_links_point_at_files_that_exist(page: str) -> None:
    found = links(page)
    assert found, f"{page} has no links (the pattern is wrong?)"
    broken = []
    for target in found:
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
            continue
        path_part, _, anchor = target.partition("#")
        path = (REPO / page).parent / path_part if path_part else REPO / page
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif REPO.resolve() not in (path.resolve(), *path.resolve().parents):
            broken.append(f"{target}: outside the repository")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: no such heading in {path.name}")
    assert not broken, f"{page}: " + "; ".join(broken)


def test_readme_links_the_project_files() -> None:
    found = set(links("README.md"))
    for needed in ("CONTRIBUTING.md", "CHANGELOG.md", "LICENSE", "docs/design.md"):
        assert needed in found, needed


def test_slugs_are_githubs() -> None:
    assert slug("Recovering from an interrupted `pulumi up`") == (
        "recovering-from-an-interrupted-pulumi-up"
    )
    assert slug("SecondaryIpSet (Baidu BCC)") == "secondaryipset-baidu-bcc"
    assert slug("5. Testing layers") == "5-testing-layers"
