"""The drill's tests play on the drill's own world: the trail's bucket and key in the
log-archive account, with the companion stack (drill/world.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drill.world import LOG_ARCHIVE_LAYOUT, World, seeded_world


@pytest.fixture
def world() -> Iterator[World]:
    with seeded_world(layout=LOG_ARCHIVE_LAYOUT) as seeded:
        yield seeded
