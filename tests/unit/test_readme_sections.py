"""README figures are written between markers by the commands that measure them."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.readme_sections import (
    README,
    SectionMissing,
    read_section,
    replace_section,
    section_names,
)


def test_replace_section_swaps_only_the_body(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        "intro\n<!-- BEGIN generated:figures (make figures) -->\nold\n"
        "<!-- END generated:figures -->\noutro\n"
    )

    replace_section("figures", "new 1\nnew 2", readme)

    assert readme.read_text() == (
        "intro\n<!-- BEGIN generated:figures (make figures) -->\nnew 1\nnew 2\n"
        "<!-- END generated:figures -->\noutro\n"
    )
    assert read_section("figures", readme) == "new 1\nnew 2\n"


def test_a_missing_section_is_an_error_not_a_silent_append(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n")

    with pytest.raises(SectionMissing):
        replace_section("figures", "x", readme)
    assert readme.read_text() == "no markers here\n"


def test_every_section_of_the_readme_is_closed() -> None:
    text = README.read_text()
    for name in section_names(text):
        assert text.count(f"<!-- END generated:{name} -->") == 1, name
        read_section(name)
