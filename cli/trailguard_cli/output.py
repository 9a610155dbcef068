"""How values are shown: identifiers, settings, AWS text, JSON, counts.

Values read from AWS are data: quoted with repr() or encoded as JSON, so
control characters or terminal escapes in them are never interpreted.
"""

from __future__ import annotations

import json
import re

from trailguard.domain.text import clean_text

_IDENTIFIER = re.compile(r"^[A-Za-z0-9:/._@+=,*-]{1,512}$")


def ident(value: str) -> str:
    """An identifier (ARN, name) as is when it is plainly one, else quoted by repr()."""
    return value if _IDENTIFIER.match(value) else repr(value)


def shown(value: object) -> str:
    """A setting's value: '(not set)' for '', else repr() (strings quoted, escapes visible)."""
    return "(not set)" if value == "" else repr(value)


def aws_text(value: object, limit: int = 500) -> str:
    """Text that may carry AWS error messages: control characters replaced, bounded."""
    return clean_text(str(value), limit)


def as_json(document: object) -> str:
    # ensure_ascii: every non-ASCII or control character is escaped.
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True)


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def blob(value: object, indent: str) -> list[str]:
    return [indent + line for line in as_json(value).splitlines()]
