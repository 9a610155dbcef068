"""The deploy-time capture answers CloudFormation through the real handler (moto world)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drill.world import World
from tests.unit.test_custom_resource import EVENT, FakeCloudFormation


def _invoke(world: World, monkeypatch: pytest.MonkeyPatch, **event: Any) -> FakeCloudFormation:
    cloudformation = FakeCloudFormation(failures=1)
    monkeypatch.setattr("urllib.request.urlopen", cloudformation)
    world.invoke("CaptureBaselineFunction", {**EVENT, **event})
    return cloudformation


def test_create_captures_and_answers_after_a_failed_attempt(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloudformation = _invoke(world, monkeypatch)

    [put] = cloudformation.puts
    assert put["Status"] == "SUCCESS"
    assert put["Reason"] == "captured 0"  # the world's trail already has a baseline: kept
    assert put["PhysicalResourceId"] == "trailguard-baseline"
    assert world.baseline() is not None


def test_missing_trail_fails_the_stack_with_its_name(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.apply_environment(PROTECTED_TRAIL_NAMES="no-such-trail")

    cloudformation = _invoke(world, monkeypatch)

    [put] = cloudformation.puts
    assert put["Status"] == "FAILED"
    assert "no-such-trail" in put["Reason"]


def test_delete_answers_at_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    cloudformation = _invoke(world, monkeypatch, RequestType="Delete")

    assert [json.dumps(p["Status"]) for p in cloudformation.puts] == ['"SUCCESS"']
