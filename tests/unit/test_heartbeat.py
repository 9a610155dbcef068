"""The heartbeat's statuses (engine/heartbeat.py) and self-protection's name matching."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.fakes import SETTINGS
from trailguard.domain.alerts import Outcome
from trailguard.engine.heartbeat import heartbeat
from trailguard.engine.reconciler import ReconcileReport
from trailguard.engine.remediation import Result
from trailguard.protected.trailguard_itself import is_alert_key, is_own_stack, own_role

AT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TRAIL = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"


def _statuses(detail: dict[str, object]) -> dict[str, str]:
    invariants = detail["invariants"]
    assert isinstance(invariants, list)
    return {i["resource"]: i["status"] for i in invariants}


def test_all_holding_is_healthy() -> None:
    report = ReconcileReport(checked=["I1", "I6", TRAIL])

    detail = heartbeat(report, SETTINGS, "111111111111", AT)

    assert detail["healthy"] is True
    assert _statuses(detail) == {
        "cloudtrail.amazonaws.com": "holds",
        "role AWSServiceRoleForCloudTrail": "holds",
        TRAIL: "holds",
    }
    assert detail["schema"] == "trailguard.heartbeat/1"
    assert detail["time"] == AT.isoformat()


def test_repaired_is_still_healthy_and_says_so() -> None:
    report = ReconcileReport(
        checked=["I1", TRAIL], results=[Result(Outcome.REPAIRED, TRAIL, "repaired")]
    )

    detail = heartbeat(report, SETTINGS, "111111111111", AT)

    assert detail["healthy"] is True
    assert _statuses(detail)[TRAIL] == "repaired"


@pytest.mark.parametrize(
    "report",
    [
        ReconcileReport(checked=[TRAIL], failures=[f"{TRAIL}: still drifted"]),
        ReconcileReport(checked=[TRAIL], results=[Result(Outcome.DETECTED, TRAIL, "detected")]),
    ],
    ids=["failed-repair", "detect-only"],
)
def test_drift_left_is_broken(report: ReconcileReport) -> None:
    detail = heartbeat(report, SETTINGS, "111111111111", AT)

    assert detail["healthy"] is False
    assert _statuses(detail)[TRAIL] == "broken"


def test_a_missing_baseline_is_not_healthy() -> None:
    report = ReconcileReport(checked=["I1"], failures=["org-trail: protected but has no baseline"])

    detail = heartbeat(report, SETTINGS, "111111111111", AT)

    assert detail["healthy"] is False
    assert detail["failures"] == ["org-trail: protected but has no baseline"]


def test_a_failed_run_is_not_healthy_and_says_why() -> None:
    detail = heartbeat(None, SETTINGS, "111111111111", AT, error="ThrottlingException\x1b[2J")

    assert (detail["healthy"], detail["invariants"]) == (False, [])
    assert "\x1b" not in str(detail["error"])


def test_the_alert_key_is_reported_as_trailguard_itself() -> None:
    settings = replace(SETTINGS, alert_key_arn="arn:aws:kms:us-east-1:111111111111:key/k-1")

    detail = heartbeat(ReconcileReport(), settings, "111111111111", AT, alert_key="broken")

    assert detail["invariants"] == [
        {
            "invariant": "trailguard's own resources",
            "resource": "arn:aws:kms:us-east-1:111111111111:key/k-1",
            "status": "broken",
        }
    ]
    assert detail["healthy"] is False


def test_own_roles_are_matched_by_name_whatever_the_case() -> None:
    assert own_role("trailguard-RestoreTrailRole-EXAMPLE", SETTINGS)
    assert own_role("TRAILGUARD-RESTORETRAILROLE-EXAMPLE", SETTINGS)
    assert own_role("arn:aws:iam::111111111111:role/trailguard-RestoreTrailRole-EXAMPLE", SETTINGS)
    assert not own_role("trailguard-RestoreTrailRole-EXAMPLE2", SETTINGS)
    assert not own_role("", SETTINGS)


@pytest.mark.parametrize(
    ("stack", "ours"),
    [
        ("trailguard", True),
        ("arn:aws:cloudformation:us-east-1:111111111111:stack/trailguard/0a1b", True),
        ("trailguard-witness", False),
        ("arn:aws:cloudformation:us-east-1:111111111111:stack/trailguard-x/0a1b", False),
        ("arn:aws:cloudformation:us-east-1:111111111111:changeSet/trailguard/0a1b", False),
        ("", False),
    ],
)
def test_own_stack_is_matched_exactly(stack: str, ours: bool) -> None:
    assert is_own_stack(stack, "trailguard") is ours


def test_alert_key_by_id_or_arn() -> None:
    arn = "arn:aws:kms:us-east-1:111111111111:key/1234"
    assert is_alert_key("1234", arn)
    assert is_alert_key(arn, arn)
    assert not is_alert_key("12345", arn)
    assert not is_alert_key("1234", "")
