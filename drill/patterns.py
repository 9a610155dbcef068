"""EventBridge pattern matching for the drill and the tests.

moto's matcher is the one its EventBridge uses; docs/testing-offline.md lists what
it does not model (arrays of objects), which trailguard's patterns avoid. A
template test asserts that they keep avoiding it.
"""

from __future__ import annotations

import json
from typing import Any


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    from moto.events.models import EventPattern

    compiled: Any = EventPattern.load(json.dumps(pattern))
    return bool(compiled.matches_event(event))
