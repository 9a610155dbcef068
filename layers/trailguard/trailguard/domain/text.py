"""Making attacker-controlled strings safe to show.

User agents, trail names from request parameters and error messages come from
whoever made the API call. They are shown as data only: control characters are
replaced, length is bounded, and nothing is ever formatted or evaluated.
"""

from __future__ import annotations

import unicodedata

_REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def clean_text(value: object, limit: int = 256) -> str:
    """Printable text of at most `limit` characters; non-strings become ''."""
    if not isinstance(value, str):
        return ""
    # Bound the work before scanning: a hostile 10 MB user agent stays cheap.
    head = value[: limit + 1]
    cleaned = "".join(
        _REPLACEMENT if unicodedata.category(ch).startswith("C") else ch for ch in head
    )
    if len(cleaned) > limit:
        return cleaned[: limit - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return cleaned


def ascii_line(value: str, limit: int) -> str:
    """One ASCII line for places such as SNS subjects that accept nothing else."""
    flat = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in value)
    return flat[:limit]
