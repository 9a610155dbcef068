from __future__ import annotations

from dataclasses import replace

from tests.fakes import BASELINE
from trailguard.domain.drift import EVERY_ASPECT, Aspect, LiveTrail, Step, repair_steps, trail_drift
from trailguard.domain.trails import Selectors, TrailSnapshot


def test_identical_trail_has_no_drift() -> None:
    assert trail_drift(BASELINE, LiveTrail(True, BASELINE, True), EVERY_ASPECT) == []


def test_missing_trail_is_one_drift_recreated_with_selectors_and_logging() -> None:
    drifts = trail_drift(BASELINE, LiveTrail(False), EVERY_ASPECT)

    assert [d.invariant for d in drifts] == ["I3"]
    assert repair_steps(drifts, BASELINE) == [
        Step.CREATE_TRAIL,
        Step.START_LOGGING,
        Step.PUT_EVENT_SELECTORS,
        Step.PUT_INSIGHT_SELECTORS,
    ]


def test_every_kind_of_drift_is_repaired_in_design_order() -> None:
    weakened = replace(
        BASELINE.with_settings(is_organization_trail=False, kms_key_id=""),
        selectors=Selectors(),
        tags={"owner": "mallory"},
    )
    drifts = trail_drift(BASELINE, LiveTrail(True, weakened, False), EVERY_ASPECT)

    assert {d.summary for d in drifts} >= {
        "IsOrganizationTrail is False, baseline True",
        f"KmsKeyId is (not set), baseline {BASELINE.settings.kms_key_id!r}",
        "the trail is not logging",
    }
    assert repair_steps(drifts, BASELINE) == [
        Step.UPDATE_TRAIL,
        Step.START_LOGGING,
        Step.RESTORE_TAGS,
        Step.PUT_EVENT_SELECTORS,
        Step.PUT_INSIGHT_SELECTORS,
    ]


def test_only_asked_aspects_are_judged() -> None:
    weakened = BASELINE.with_settings(s3_bucket_name="elsewhere")
    live = LiveTrail(True, weakened, False)

    drifts = trail_drift(BASELINE, live, frozenset({Aspect.EXISTS, Aspect.LOGGING}))

    assert [d.aspect for d in drifts] == [Aspect.LOGGING]


def test_without_baseline_only_logging_is_judged() -> None:
    weakened = BASELINE.with_settings(s3_bucket_name="elsewhere")

    drifts = trail_drift(None, LiveTrail(True, weakened, False), EVERY_ASPECT)

    assert [d.step for d in drifts] == [Step.START_LOGGING]


def test_selector_order_does_not_count_as_drift() -> None:
    two = (
        {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []},
        {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": False, "DataResources": []},
    )
    base = replace(BASELINE, selectors=Selectors(event_selectors=two))
    live = replace(BASELINE, selectors=Selectors(event_selectors=tuple(reversed(two))))

    assert trail_drift(base, LiveTrail(True, live, True), frozenset({Aspect.EVENT_SELECTORS})) == []


def test_snapshot_round_trips_through_json() -> None:
    assert TrailSnapshot.from_json(BASELINE.to_json()) == BASELINE
