"""Shared fixtures.

Test taxonomy: tests/unit (pure logic with in-memory fakes, no AWS API),
tests/functional (handlers and real adapters against moto, plus botocore
Stubber where moto differs from AWS), tests/template (static checks of
template.yaml), tests/drill (the local drill end to end).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from drill.world import FAKE_CREDENTIALS, World, seeded_world

EVENTS = Path(__file__).resolve().parent.parent / "events"

# No test may reach real AWS: fake credentials before anything creates a client.
os.environ.update(FAKE_CREDENTIALS)

# CI runs Hypothesis derandomized: the same examples on every run, so a red build is
# reproducible and never a roll of the dice. Developers keep random exploration (and the
# example database) unless they ask for the profile: HYPOTHESIS_PROFILE=ci.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev")
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def load_event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


@pytest.fixture
def world() -> Iterator[World]:
    with seeded_world() as seeded:
        yield seeded


@pytest.fixture
def event() -> Any:
    return load_event


@pytest.fixture(autouse=True)
def no_verification_pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Verification re-reads pause between attempts (AWS is eventually consistent);
    moto is not, so tests record the pauses instead of waiting."""
    pauses: list[float] = []
    from drill.emulation import event_history

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        # The emulated Event history paces callers by the clock: a recorded pause is
        # time that passed for it.
        event_history.SKEW[0] += seconds

    monkeypatch.setattr("trailguard.engine.remediation.time.sleep", pause)
    return pauses
