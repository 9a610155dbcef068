"""Storm damping cannot hide anything (issue 10): what counts as 'the same' alert."""

from __future__ import annotations

from dataclasses import replace

from tests.fakes import SETTINGS, make_deps
from tests.unit.test_storm import Clock, _alert
from trailguard.domain.alerts import Outcome, Severity
from trailguard.domain.events import ApiCallEvent, Principal
from trailguard.domain.storm import StormDamper
from trailguard.engine.remediation import notify


def _event(arn: str) -> ApiCallEvent:
    from datetime import UTC, datetime

    return ApiCallEvent(
        event_id="e",
        event_name="UpdateTrail",
        event_source="cloudtrail.amazonaws.com",
        event_time=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        region="us-east-1",
        account_id="111111111111",
        principal=Principal("AssumedRole", arn, "111111111111", "", ""),
        source_ip="198.51.100.1",
        user_agent="cli",
        error_code="",
        error_message="",
    )


ALICE = _event("arn:aws:sts::111111111111:assumed-role/Admin/alice")
BOB = _event("arn:aws:sts::111111111111:assumed-role/Admin/bob")


def _admitted(damper: StormDamper, alerts: list[object]) -> list[int | None]:
    return [damper.admit(a) for a in alerts]  # type: ignore[arg-type]


def test_same_drift_same_actor_is_damped_after_three() -> None:
    damper = StormDamper(clock=Clock())
    alert = _alert(event=ALICE, drift=("S3KeyPrefix is 'x', baseline 'org'",))

    assert _admitted(damper, [alert] * 5) == [1, 2, 3, None, None]


def test_a_new_actor_always_alerts() -> None:
    damper = StormDamper(clock=Clock())
    alice = _alert(event=ALICE, drift=("d",))
    _admitted(damper, [alice] * 5)

    assert damper.admit(replace(alice, event=BOB)) == 1


def test_a_different_drift_always_alerts() -> None:
    damper = StormDamper(clock=Clock())
    alice = _alert(event=ALICE, drift=("S3KeyPrefix is 'x', baseline 'org'",))
    _admitted(damper, [alice] * 5)

    assert damper.admit(replace(alice, drift=("IsOrganizationTrail is False",))) == 1


def test_only_verified_repairs_count_or_are_damped() -> None:
    damper = StormDamper(clock=Clock())
    for outcome in (Outcome.UNVERIFIED, Outcome.DETECTED, Outcome.ALLOWED, Outcome.NOTICE):
        unverified = _alert(event=ALICE, outcome=outcome)
        assert _admitted(damper, [unverified] * 20) == [1] * 20
    # None of them primed the window of the repair that follows.
    assert damper.admit(_alert(event=ALICE)) == 1


def test_critical_repairs_are_never_damped() -> None:
    damper = StormDamper(clock=Clock())
    critical = _alert(event=ALICE, severity=Severity.CRITICAL)

    assert _admitted(damper, [critical] * 20) == [1] * 20


def test_never_damped_in_detect_mode() -> None:
    deps = make_deps(replace(SETTINGS, detect_only=True))
    alert = _alert(event=ALICE)

    ids = [notify(deps, alert) for _ in range(12)]

    assert all(ids)
    assert len(deps.alerts.alerts) == 12  # type: ignore[attr-defined]
