"""Making attacker-controlled strings safe to show.

User agents, ARNs, request parameters and error messages come from whoever made
the API call (or invoked a function by hand). They are cleaned once, where they
enter (the event model, domain/events.py), and shown as data only: every
character that could end a line, reorder text or drive a terminal is replaced,
length is bounded, and nothing is ever formatted or evaluated.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

REPLACEMENT = "\N{REPLACEMENT CHARACTER}"
ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"

# Unicode general categories never shown as themselves:
#   Cc  controls: NUL, ESC (terminal escapes), CR and LF (line injection), NEL (U+0085)
#   Cf  format: bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069), zero-width
#       characters, the BOM, tag characters; they make text read other than it is
#   Cs  lone surrogates: not encodable as UTF-8, so SNS, botocore and json.encode raise
#   Co, Cn  private use and unassigned: no meaning anyone can check
#   Zl, Zp  LINE SEPARATOR U+2028 and PARAGRAPH SEPARATOR U+2029: e-mail clients,
#       browsers and JavaScript break lines on them as on LF
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

# Request parameters are cleaned whole. Bounds keep a hostile event cheap: a value longer
# than PARAMETER_LIMIT ends cleaned at that length (so `ApiCallEvent.parameter`, whose
# limit is lower, refuses it), deeper levels and extra items are dropped.
PARAMETER_LIMIT = 4096
KEY_LIMIT = 128
MAX_DEPTH = 8
MAX_ITEMS = 128
_INT_BOUND = 2**63


def is_unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in UNSAFE_CATEGORIES


def clean_text(value: object, limit: int = 256) -> str:
    """Printable text of at most `limit` characters; non-strings become ''."""
    if not isinstance(value, str):
        return ""
    # Bound the work before scanning: a hostile 10 MB user agent stays cheap.
    head = value[: limit + 1]
    # str.isprintable() is False for every unsafe category (and for spaces other than
    # U+0020, which are harmless): the common, clean case skips the per-character scan.
    if head.isprintable():
        cleaned = head
    else:
        cleaned = "".join(REPLACEMENT if is_unsafe(ch) else ch for ch in head)
    if len(cleaned) > limit:
        return cleaned[: limit - 1] + ELLIPSIS
    return cleaned


def clean_json(value: object, limit: int = PARAMETER_LIMIT, depth: int = 0) -> Any:
    """A JSON value with every string (keys included) cleaned and its size bounded.

    Numbers, booleans and null are kept (a non-finite float or an integer outside 64 bits
    becomes null: neither is valid JSON or a value any AWS API takes). Anything that is not
    JSON becomes ''.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_INT_BOUND <= value < _INT_BOUND else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return clean_text(value, limit)
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return {}
        cleaned: dict[str, Any] = {}
        for key, item in list(value.items())[:MAX_ITEMS]:
            cleaned[clean_text(key, KEY_LIMIT)] = clean_json(item, limit, depth + 1)
        return cleaned
    if isinstance(value, list | tuple):
        if depth >= MAX_DEPTH:
            return []
        return [clean_json(item, limit, depth + 1) for item in value[:MAX_ITEMS]]
    return ""


def ascii_line(value: str, limit: int) -> str:
    """One ASCII line for places such as SNS subjects that accept nothing else."""
    flat = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in value)
    return flat[:limit]
