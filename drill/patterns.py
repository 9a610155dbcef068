"""EventBridge pattern matching for the drill and the tests.

moto's matcher is the one its EventBridge uses; docs/testing-offline.md lists what
it does not model (arrays of objects), which trailguard's patterns avoid. A
template test asserts that they keep avoiding it.

`mismatches` says which fields keep an event from matching. It decides nothing
itself: it asks the same matcher about one field of the pattern at a time, so
its answer cannot disagree with `matches`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

_MISSING = object()


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    from moto.events.models import EventPattern

    compiled: Any = EventPattern.load(json.dumps(pattern))
    return bool(compiled.matches_event(event))


def _leaves(pattern: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every field the pattern tests: a key whose value is a list of
    matchers. Nested objects are walked; their leaves are the fields."""
    for key, value in pattern.items():
        if isinstance(value, dict):
            yield from _leaves(value, (*path, key))
        else:
            yield (*path, key)


def _at(tree: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return _MISSING
        tree = tree[key]
    return tree


def _only(path: tuple[str, ...], matchers: Any) -> dict[str, Any]:
    """A pattern that tests this one field and nothing else."""
    pattern: Any = matchers
    for key in reversed(path):
        pattern = {key: pattern}
    return dict(pattern)


def _shown(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def mismatches(pattern: dict[str, Any], event: dict[str, Any]) -> list[str]:
    """Each field of the pattern that the event fails, as a sentence:
    `detail.eventName is "GetTrail"; the rule wants one of ["StopLogging", ...]`.
    Empty when the event matches."""
    reasons = []
    absent: set[tuple[str, ...]] = set()
    for path in _leaves(pattern):
        wanted = _at(pattern, path)
        if matches(_only(path, wanted), event):
            continue
        # An object the event lacks altogether (no `detail`) is one reason, not one per field.
        missing = next(
            (path[:n] for n in range(1, len(path)) if _at(event, path[:n]) is _MISSING), ()
        )
        if missing:
            if missing not in absent:
                absent.add(missing)
                reasons.append(f"{'.'.join(missing)} is missing; the rule tests fields in it")
            continue
        name = ".".join(path)
        seen = _at(event, path)
        several = isinstance(wanted, list) and len(wanted) > 1
        wants = f"the rule wants {'one of ' if several else ''}{_shown(wanted, 240)}"
        if seen is _MISSING:
            reasons.append(f"{name} is missing; {wants}")
        else:
            reasons.append(f"{name} is {_shown(seen)}; {wants}")
    return reasons
