"""The README and docs/ link only to what the repository holds, and cite nothing outside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", *DOCS]
REQUIRED = ("architecture.md", "aws-facts.md", "testing-offline.md", "threat-model.md")

# [text](target) and ![alt](target); the target ends at the first space or ')'.
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_EXTERNAL = ("http://", "https://", "mailto:")


def _prose(page: Path) -> str:
    """The page without its code blocks: a link-like text in code is not a link."""
    return _FENCE.sub("", page.read_text())


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_anchor(m) for m in re.findall(r"^#{1,6}\s+(.*)$", _prose(page), re.MULTILINE)}


def _links(page: Path) -> list[str]:
    return _LINK.findall(_prose(page))


def test_the_docs_exist() -> None:
    assert set(REQUIRED) <= {p.name for p in DOCS}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_to_a_file_in_the_repository(page: Path) -> None:
    broken = []
    for target in _links(page):
        if target.startswith(_EXTERNAL):
            continue
        path_part, _, fragment = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        inside = resolved == ROOT or ROOT in resolved.parents
        if not inside or not resolved.exists():
            broken.append(f"{target}: no such file in the repository")
        elif fragment and resolved.suffix == ".md" and fragment not in _anchors(resolved):
            broken.append(f"{target}: no heading #{fragment} in {resolved.name}")
    assert broken == [], broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_doc_cites_anything_outside_the_repository(page: Path) -> None:
    text = page.read_text()
    for outside in ("../shared", "DESIGN.md"):
        assert outside not in text, f"{page.name} mentions {outside}"


def test_the_readme_links_every_doc() -> None:
    linked = {target.partition("#")[0] for target in _links(ROOT / "README.md")}
    assert {f"docs/{name}" for name in REQUIRED} <= linked


def test_every_test_a_doc_names_exists() -> None:
    """A doc that names a test as the cover of something names a test that is there."""
    defined = {
        name
        for source in (ROOT / "tests").rglob("test_*.py")
        for name in re.findall(r"^def (test_\w+)", source.read_text(), re.MULTILINE)
    }
    named = {name for page in PAGES for name in re.findall(r"`(test_\w+)`", page.read_text())}
    assert named, "the docs name the tests that cover each gap"
    assert named - defined == set()


def test_the_link_check_can_fail(tmp_path: Path) -> None:
    """The checks above are not vacuous: a broken link and a missing anchor are found."""
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[a](missing.md) [b](#title) [c](#nowhere)\n```\n[d](x.md)\n```\n")

    assert _links(page) == ["missing.md", "#title", "#nowhere"]
    assert _anchors(page) == {"title"}
    assert _anchor("Event history: 90 days, one account, one region") == (
        "event-history-90-days-one-account-one-region"
    )
