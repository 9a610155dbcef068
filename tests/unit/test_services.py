"""Remediation services against in-memory fakes: order, guards, failure paths."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.fakes import BASELINE, REF, SETTINGS, FakeTrails, make_deps
from tests.functional.helpers import fresh
from trailguard.domain.alerts import Outcome, Severity
from trailguard.domain.events import parse_api_call_event
from trailguard.errors import AwsCallFailed, RemediationFailed
from trailguard.protected.service_linked_role import restore_service_linked_role
from trailguard.protected.trail import protect_trail
from trailguard.protected.trusted_access import restore_trusted_access


def _event(event: Any, name: str) -> Any:
    return parse_api_call_event(fresh(event(name)))


def test_stop_logging_is_restarted_then_verified_with_no_read_first(event: Any) -> None:
    deps = make_deps()
    trails: FakeTrails = deps.trails  # type: ignore[assignment]
    trails.logging[REF] = False

    result = protect_trail(_event(event, "stop_logging.json"), deps)

    assert result.outcome is Outcome.REPAIRED
    assert trails.calls == ["StartLogging", "read"]


def test_stopped_then_deleted_trail_is_recreated(event: Any) -> None:
    deps = make_deps()
    trails = FakeTrails(
        fail={
            "StartLogging": AwsCallFailed(
                "StartLogging", "TrailNotFoundException", "gone", "recreate it"
            )
        }
    )
    deps.trails = trails

    with pytest.raises(RemediationFailed):
        protect_trail(_event(event, "stop_logging.json"), deps)

    # After StartLogging found no trail, the full path read state and rebuilt it
    # (the fake keeps failing StartLogging, so the repair ends CRITICAL).
    assert trails.calls[:3] == ["StartLogging", "read", "CreateTrail"]


def test_deleted_org_trail_waits_for_trusted_access(event: Any) -> None:
    deps = make_deps()
    deps.trails = FakeTrails()
    deps.trusted_access.enabled.clear()  # type: ignore[attr-defined]

    result = protect_trail(_event(event, "delete_trail.json"), deps)

    assert [a.call for a in result.actions] == [
        "EnableAWSServiceAccess",
        "CreateTrail",
        "StartLogging",
        "PutEventSelectors",
        "PutInsightSelectors",
    ]
    assert deps.trails.trails[REF] == BASELINE  # type: ignore[attr-defined]


def test_failed_step_is_critical_names_the_fix_and_raises(event: Any) -> None:
    deps = make_deps()
    deps.trails = FakeTrails(
        fail={
            "CreateTrail": AwsCallFailed(
                "CreateTrail",
                "KmsKeyDisabledException",
                "disabled",
                "the trail's KMS key is disabled",
            )
        }
    )

    with pytest.raises(RemediationFailed):
        protect_trail(_event(event, "delete_trail.json"), deps)

    [alert] = deps.alerts.alerts  # type: ignore[attr-defined]
    assert alert.severity is Severity.CRITICAL
    assert alert.manual_action.startswith("the trail's KMS key is disabled")
    assert alert.actions[-1].result == "KmsKeyDisabledException"


def test_alert_failure_after_repair_still_fails_the_invocation(event: Any) -> None:
    deps = make_deps()
    deps.trails.logging[REF] = False  # type: ignore[attr-defined]
    deps.alerts.broken = True  # type: ignore[attr-defined]

    with pytest.raises(RuntimeError, match="SNS unavailable"):
        protect_trail(_event(event, "stop_logging.json"), deps)

    assert deps.trails.logging[REF] is True  # type: ignore[attr-defined]


def test_detect_only_changes_nothing(event: Any) -> None:
    deps = make_deps(settings=replace(SETTINGS, detect_only=True))
    trails: FakeTrails = deps.trails  # type: ignore[assignment]
    trails.logging[REF] = False

    result = protect_trail(_event(event, "stop_logging.json"), deps)

    assert result.outcome is Outcome.DETECTED
    assert trails.calls == ["read"]


def test_trusted_access_repair_is_verified(event: Any) -> None:
    deps = make_deps()
    deps.trusted_access.enabled.clear()  # type: ignore[attr-defined]

    result = restore_trusted_access(_event(event, "disable_trusted_access.json"), deps)

    assert result.outcome is Outcome.REPAIRED
    assert deps.trusted_access.calls == ["List", "Enable", "List"]  # type: ignore[attr-defined]


def test_unverified_role_creation_is_critical(event: Any) -> None:
    deps = make_deps()
    deps.roles.present.clear()  # type: ignore[attr-defined]
    deps.roles.create = lambda service: None  # type: ignore[method-assign]

    with pytest.raises(RemediationFailed):
        restore_service_linked_role(_event(event, "delete_service_linked_role.json"), deps)

    assert deps.alerts.alerts[0].severity is Severity.CRITICAL  # type: ignore[attr-defined]


def test_protected_names_setting_excludes_other_trails(event: Any) -> None:
    deps = make_deps(settings=replace(SETTINGS, protected_trail_names=("another-trail",)))
    deps.trails.logging[REF] = False  # type: ignore[attr-defined]

    result = protect_trail(_event(event, "stop_logging.json"), deps)

    assert result.outcome is Outcome.NOTICE
    assert deps.trails.calls == []  # type: ignore[attr-defined]
