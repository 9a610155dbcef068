"""Own roles checked, allow-list semantics, tampered baselines: the services on fakes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.fakes import REF, SETTINGS, FakeRoles, FakeTrails, FakeTrustedAccess, make_deps
from tests.functional.helpers import fresh
from trailguard.domain.alerts import Outcome, Severity
from trailguard.domain.events import parse_api_call_event
from trailguard.domain.guards import ALLOW_LIST_SEMANTICS, AllowListed, allow_listed
from trailguard.engine.reconciler import reconcile
from trailguard.protected.service_linked_role import restore_service_linked_role
from trailguard.protected.trail import protect_trail
from trailguard.protected.trusted_access import restore_trusted_access

OWN_ROLE = SETTINGS.remediator_role_arns[0]
ALLOWED = "arn:aws:iam::111111111111:role/BreakGlassAdmin"


def _as(event: Any, name: str, role: str) -> Any:
    raw = fresh(event(name))
    raw["detail"]["userIdentity"] = {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::111111111111:assumed-role/{role.rsplit('/', 1)[1]}/s",
        "accountId": "111111111111",
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role}},
    }
    return parse_api_call_event(raw)


def test_own_role_disabling_trusted_access_is_repaired_critical(event: Any) -> None:
    deps = make_deps()
    access: FakeTrustedAccess = deps.trusted_access  # type: ignore[assignment]
    access.enabled.clear()

    result = restore_trusted_access(_as(event, "disable_trusted_access.json", OWN_ROLE), deps)

    assert result.outcome is Outcome.REPAIRED
    assert "cloudtrail.amazonaws.com" in access.enabled
    [alert] = deps.alerts.alerts  # type: ignore[attr-defined]
    assert alert.severity is Severity.CRITICAL
    assert "TRAILGUARD'S ROLE WAS USED" in alert.detail


def test_own_role_event_that_changed_nothing_reads_and_stays_silent(event: Any) -> None:
    deps = make_deps()
    access: FakeTrustedAccess = deps.trusted_access  # type: ignore[assignment]

    result = restore_trusted_access(_as(event, "disable_trusted_access.json", OWN_ROLE), deps)

    assert result.outcome is Outcome.IN_SYNC
    assert access.calls == ["List"]
    assert deps.alerts.alerts == []  # type: ignore[attr-defined]


def test_allow_listed_role_deletion_is_reverted_and_says_why(event: Any) -> None:
    deps = make_deps(replace(SETTINGS, allowed_principal_arns=(ALLOWED,)))
    roles: FakeRoles = deps.roles  # type: ignore[assignment]
    roles.present.clear()

    result = restore_service_linked_role(
        _as(event, "delete_service_linked_role.json", ALLOWED), deps
    )

    assert result.outcome is Outcome.REPAIRED
    assert "cloudtrail.amazonaws.com" in roles.present
    [alert] = deps.alerts.alerts  # type: ignore[attr-defined]
    assert alert.severity is Severity.HIGH
    assert "allow-list does not cover" in alert.detail


def test_allow_listed_stop_logging_is_reverted(event: Any) -> None:
    deps = make_deps(replace(SETTINGS, allowed_principal_arns=(ALLOWED,)))
    trails: FakeTrails = deps.trails  # type: ignore[assignment]
    trails.logging[REF] = False

    result = protect_trail(_as(event, "stop_logging.json", ALLOWED), deps)

    assert result.outcome is Outcome.REPAIRED
    assert trails.logging[REF] is True


def test_every_event_kind_has_one_semantics() -> None:
    assert {k for k, v in ALLOW_LIST_SEMANTICS.items() if v is AllowListed.RECAPTURE} == {
        "UpdateTrail",
        "PutEventSelectors",
        "PutInsightSelectors",
    }
    assert allow_listed("SomethingNew") is AllowListed.REVERT


def test_own_role_drift_in_detect_mode_is_a_critical_detection(event: Any) -> None:
    deps = make_deps(replace(SETTINGS, detect_only=True))
    trails: FakeTrails = deps.trails  # type: ignore[assignment]
    trails.trails[REF] = trails.trails[REF].with_settings(s3_key_prefix="moved")

    result = protect_trail(_as(event, "update_trail_weaken.json", OWN_ROLE), deps)

    assert result.outcome is Outcome.DETECTED
    assert trails.trails[REF].settings.s3_key_prefix == "moved"
    [alert] = deps.alerts.alerts  # type: ignore[attr-defined]
    assert alert.severity is Severity.CRITICAL


def test_reconciler_repairs_from_the_intact_version_and_puts_it_back() -> None:
    deps = make_deps()
    store = deps.baselines
    store.problems[REF] = ("the baseline in force (sk=CURRENT) is MISSING",)  # type: ignore[attr-defined]
    trails: FakeTrails = deps.trails  # type: ignore[assignment]
    trails.logging[REF] = False

    report = reconcile(deps, "111111111111")

    assert report.repaired == 1
    assert store.put_back == [(REF, "V#2026-11-01T00:00:00+00:00")]  # type: ignore[attr-defined]
    assert any("BASELINE TAMPERED WITH" in f for f in report.failures)
    [alert] = deps.alerts.alerts  # type: ignore[attr-defined]
    assert alert.severity is Severity.CRITICAL
    assert "Version V#2026-11-01T00:00:00+00:00 is the baseline in force again" in alert.detail


def test_echo_of_an_own_repair_finding_a_later_change_is_not_called_misuse(event: Any) -> None:
    # trailguard's UpdateTrail (every setting, the baseline's) comes back after another
    # change landed: the drift is repaired, HIGH, and the role is not accused.
    deps = make_deps()
    trails: FakeTrails = deps.trails  # type: ignore[assignment]
    trails.trails[REF] = trails.trails[REF].with_settings(s3_key_prefix="later")
    echo = _as(event, "update_trail_weaken.json", OWN_ROLE)
    settings = deps.baselines.get(REF).snapshot.settings  # type: ignore[union-attr]
    echo = replace(
        echo,
        request_parameters={
            "name": "org-trail",
            "s3BucketName": settings.s3_bucket_name,
            "s3KeyPrefix": settings.s3_key_prefix,
            "includeGlobalServiceEvents": settings.include_global_service_events,
            "isMultiRegionTrail": settings.is_multi_region_trail,
            "enableLogFileValidation": settings.log_file_validation_enabled,
            "isOrganizationTrail": settings.is_organization_trail,
        },
    )

    result = protect_trail(echo, deps)

    assert result.outcome is Outcome.REPAIRED
    [alert] = deps.alerts.alerts  # type: ignore[attr-defined]
    assert alert.severity is Severity.HIGH
    assert "a change made since" in alert.detail


def test_own_role_update_with_any_other_value_is_misuse(event: Any) -> None:
    deps = make_deps()
    trails: FakeTrails = deps.trails  # type: ignore[assignment]
    trails.trails[REF] = trails.trails[REF].with_settings(is_organization_trail=False)

    protect_trail(_as(event, "update_trail_weaken.json", OWN_ROLE), deps)

    [alert] = deps.alerts.alerts  # type: ignore[attr-defined]
    assert alert.severity is Severity.CRITICAL
    assert "TRAILGUARD'S ROLE WAS USED" in alert.detail
