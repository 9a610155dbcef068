from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from trailguard.domain.alerts import Alert, Outcome, Severity
from trailguard.domain.storm import StormDamper


def _alert(**changes: object) -> Alert:
    alert = Alert(
        severity=Severity.HIGH,
        outcome=Outcome.REPAIRED,
        headline="drift repaired and verified",
        invariant="I2 trail logging",
        resource="arn:aws:cloudtrail:us-east-1:111111111111:trail/t",
        account_id="111111111111",
        region="us-east-1",
    )
    return replace(alert, **changes)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_thousand_repairs_make_six_alerts() -> None:
    damper = StormDamper(clock=Clock())

    admitted = [n for n in (damper.admit(_alert()) for _ in range(1000)) if n is not None]

    assert admitted == [1, 2, 3, 10, 100, 1000]


def test_critical_alerts_are_never_damped() -> None:
    damper = StormDamper(clock=Clock())
    critical = _alert(severity=Severity.CRITICAL, outcome=Outcome.REMEDIATION_FAILED)

    assert all(damper.admit(critical) == 1 for _ in range(50))


def test_each_resource_and_invariant_has_its_own_window() -> None:
    damper = StormDamper(clock=Clock())
    for _ in range(5):
        damper.admit(_alert())

    assert damper.admit(_alert(resource="another trail")) == 1
    assert damper.admit(_alert(invariant="I4 trail settings")) == 1


def test_a_quiet_window_starts_counting_again() -> None:
    clock = Clock()
    damper = StormDamper(clock=clock)
    for _ in range(5):
        damper.admit(_alert())

    clock.now += timedelta(minutes=16)

    assert damper.admit(_alert()) == 1
