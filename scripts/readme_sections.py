"""Generated sections of README.md: figures are written by the command that measures them.

A section is delimited by two HTML comments, which Markdown does not show:

    <!-- BEGIN generated:reliability (make reliability) -->
    ...written by the command...
    <!-- END generated:reliability -->

`replace_section` swaps what lies between them and leaves everything else as it is.
A command that measures figures calls it with its own output; nobody edits the
text between the markers by hand (tests/unit/test_readme_sections.py keeps
every marker paired).
"""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


class SectionMissing(LookupError):
    """The README has no (or no well-formed) section of that name."""


def _pattern(name: str) -> re.Pattern[str]:
    quoted = re.escape(name)
    begin = rf"<!-- BEGIN generated:{quoted}\b[^>]*-->\n"
    end = rf"<!-- END generated:{quoted} -->"
    return re.compile(f"({begin})(.*?)({end})", re.DOTALL)


def section_names(text: str) -> list[str]:
    return re.findall(r"<!-- BEGIN generated:([\w-]+)\b", text)


def read_section(name: str, readme: Path = README) -> str:
    match = _pattern(name).search(readme.read_text())
    if match is None:
        raise SectionMissing(f"README has no generated section {name!r}")
    return match.group(2)


def replace_section(name: str, body: str, readme: Path = README) -> None:
    """Write `body` between the markers of section `name` in `readme`."""
    text = readme.read_text()
    pattern = _pattern(name)
    if len(pattern.findall(text)) != 1:
        raise SectionMissing(f"README needs exactly one generated section {name!r}")
    body = body if body.endswith("\n") else body + "\n"
    readme.write_text(pattern.sub(lambda m: m.group(1) + body + m.group(3), text, count=1))
