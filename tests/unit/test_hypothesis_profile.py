"""CI runs Hypothesis derandomized: a red build replays, it is never a roll of the dice."""

from __future__ import annotations

from pathlib import Path

from hypothesis import settings

ROOT = Path(__file__).resolve().parents[2]


def test_ci_profile_is_derandomized_without_a_database() -> None:
    profile = settings.get_profile("ci")

    assert profile.derandomize is True
    assert profile.database is None


def test_ci_selects_the_profile() -> None:
    assert "export HYPOTHESIS_PROFILE=ci" in (ROOT / ".ci" / "run").read_text()
