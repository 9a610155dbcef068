"""trailguard cannot be made to lie (issue 10): signed baselines, forged events, storms.

Handlers and real adapters against moto (KMS HMAC keys included); every test asserts
AWS state and the alert the subscribed queue received.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from drill.world import REGION, World
from tests.functional.helpers import aws, fresh
from trailguard.adapters.baseline_store import DynamoBaselineStore
from trailguard.adapters.signing import KmsSigner
from trailguard.domain.trails import TrailBaseline, TrailRef
from trailguard.errors import AwsCallFailed

FUNCTION = "RestoreTrailFunction"


def _store(world: World) -> DynamoBaselineStore:
    return DynamoBaselineStore(world.table_name, REGION, KmsSigner(world.signing_key_arn, REGION))


def _items(world: World) -> dict[str, dict[str, Any]]:
    items = aws("dynamodb").query(
        TableName=world.table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": world.trail_arn}},
    )["Items"]
    return {item["sk"]["S"]: item for item in items}


def _put(world: World, item: dict[str, Any]) -> None:
    aws("dynamodb").put_item(TableName=world.table_name, Item=item)


def _weaken() -> None:
    aws("s3").create_bucket(Bucket="attacker-bucket-111111111111")
    aws("cloudtrail").update_trail(
        Name="org-trail",
        S3BucketName="attacker-bucket-111111111111",
        IsMultiRegionTrail=False,
        IsOrganizationTrail=False,
    )


# ------------------------------------------------------------------ signed baselines


def test_overwritten_baseline_is_critical_and_never_used(world: World, event: Any) -> None:
    # An admin writes a weakened baseline (unsigned: no access to the key), then weakens
    # the trail to match it. trailguard restores the intact version, not the forgery.
    forged = dict(_items(world)["CURRENT"])
    weak = world.baseline().snapshot.with_settings(
        s3_bucket_name="attacker-bucket-111111111111",
        is_multi_region_trail=False,
        is_organization_trail=False,
    )
    forged["snapshot"] = {"S": weak.to_json()}
    _put(world, forged)
    _weaken()

    result = world.invoke(FUNCTION, fresh(event("update_trail_weaken.json")))

    assert result["outcome"] == "repaired"
    trail = world.trail()
    assert trail is not None
    assert trail["S3BucketName"] == "org-trail-logs-111111111111"
    assert trail["IsOrganizationTrail"] is True
    assert _items(world)["CURRENT"]["snapshot"] != {"S": weak.to_json()}
    [alert] = world.drain_alerts()
    assert (alert.severity, alert.outcome) == ("CRITICAL", "repaired")
    assert "(sk=CURRENT) has an INVALID signature" in alert.document["detail"]
    assert "Rebuilt from the newest intact version" in alert.document["detail"]


def test_baseline_signed_with_another_key_does_not_verify(world: World) -> None:
    other = aws("kms").create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    forger = DynamoBaselineStore(
        world.table_name, REGION, KmsSigner(other["KeyMetadata"]["Arn"], REGION)
    )
    weak = world.baseline().snapshot.with_settings(s3_key_prefix="elsewhere")
    forger.put(TrailBaseline(weak, "2099-01-01T00:00:00+00:00", "forger", "newer, surely"))

    read = _store(world).read(TrailRef.from_arn(world.trail_arn))

    assert read.baseline is not None
    assert read.baseline.snapshot.settings.s3_key_prefix == "org"
    assert read.problems == (
        "the baseline in force (sk=CURRENT) has an INVALID signature",
        "version V#2099-01-01T00:00:00+00:00 has an INVALID signature",
    )


def test_an_older_version_replayed_as_current_is_stale(world: World) -> None:
    ref = TrailRef.from_arn(world.trail_arn)
    old_current = _items(world)["CURRENT"]
    newer = world.baseline().snapshot.with_settings(s3_key_prefix="org-v2")
    _store(world).put(TrailBaseline(newer, "2030-01-01T00:00:00+00:00", "deploy", "v2"))
    _put(world, old_current)  # validly signed, but not the newest version

    read = _store(world).read(ref)

    assert read.baseline is not None
    assert read.baseline.snapshot.settings.s3_key_prefix == "org-v2"
    assert read.version == "V#2030-01-01T00:00:00+00:00"
    assert read.tampered


def test_no_intact_version_is_critical_and_nothing_is_rebuilt(world: World, event: Any) -> None:
    for item in _items(world).values():
        item["mac"] = {"S": base64.b64encode(b"\0" * 32).decode()}
        _put(world, item)
    aws("cloudtrail").delete_trail(Name="org-trail")

    result = world.invoke(FUNCTION, fresh(event("delete_trail.json")))

    assert result["outcome"] == "remediation_failed"
    assert world.trail() is None  # never rebuilt from an unverified baseline
    [alert] = world.drain_alerts()
    assert alert.severity == "CRITICAL"
    assert "NO BASELINE" in alert.document["headline"]
    assert "NO version has a valid signature" in alert.document["detail"]


def test_versions_are_never_overwritten(world: World) -> None:
    baseline = world.baseline()
    before = _items(world)[f"V#{baseline.captured_at}"]
    changed = TrailBaseline(
        baseline.snapshot.with_settings(s3_key_prefix="other"),
        baseline.captured_at,
        "someone",
        "same version key",
    )

    with pytest.raises(AwsCallFailed) as raised:
        _store(world).put(changed)

    assert raised.value.code == "ConditionalCheckFailedException"
    assert _items(world)[f"V#{baseline.captured_at}"] == before


def test_reconciler_reports_a_deleted_baseline_and_puts_it_back(world: World) -> None:
    aws("dynamodb").delete_item(
        TableName=world.table_name, Key={"pk": {"S": world.trail_arn}, "sk": {"S": "CURRENT"}}
    )

    with pytest.raises(Exception, match="BASELINE TAMPERED WITH"):
        world.invoke("ReconcileInvariantsFunction", {})

    assert "CURRENT" in _items(world)
    [alert] = world.drain_alerts()
    assert (alert.severity, alert.outcome) == ("CRITICAL", "detected")
    assert alert.document["detectedBy"] == "schedule"
    assert "is MISSING" in alert.document["detail"]


def test_a_deleted_baseline_still_protects_the_trail(world: World, event: Any) -> None:
    # ProtectedTrailNames empty: having a baseline decides, and a version still counts.
    aws("dynamodb").delete_item(
        TableName=world.table_name, Key={"pk": {"S": world.trail_arn}, "sk": {"S": "CURRENT"}}
    )
    aws("cloudtrail").stop_logging(Name="org-trail")

    result = world.invoke(FUNCTION, fresh(event("stop_logging.json")))

    assert result["outcome"] == "repaired"
    assert world.is_logging()
    assert len(world.drain_alerts()) == 1


# ------------------------------------------------------------------ captures are announced


def test_operator_capture_after_weakening_is_alerted_with_the_diff(world: World) -> None:
    _weaken()

    world.invoke(
        "CaptureBaselineFunction",
        {"action": "capture", "reason": "CHG-1", "requestedBy": "mallory\x1b[2JALL CLEAR"},
    )

    [alert] = world.drain_alerts()
    assert (alert.severity, alert.outcome) == ("HIGH", "allowed")
    assert alert.document["headline"] == "baseline captured"
    assert (
        "S3BucketName is 'attacker-bucket-111111111111', baseline 'org-trail-logs-"
        in (alert.document["drift"][0])
    )
    assert "IsOrganizationTrail is False, baseline True" in alert.document["drift"]
    who = alert.document["verification"]
    assert "operator (direct invocation; says: mallory" in who
    assert "\x1b" not in who  # the caller's words are cleaned at the boundary
    assert "trailguard baseline diff" in alert.document["manualAction"]


def test_deploy_capture_of_an_existing_baseline_keeps_it_silently(world: World) -> None:
    from trailguard.engine.capture import capture
    from trailguard.runtime import dependencies

    deps = dependencies()
    report = capture(
        deps.trails,
        deps.baselines,
        deps.settings,
        captured_at="2030-01-01T00:00:00+00:00",
        captured_by="cloudformation",
        reason="stack Update",
        replace_existing=False,
        announce=deps.alerts,
    )

    assert report.kept == [world.trail_arn]
    assert world.drain_alerts() == []


# ------------------------------------------------------------------ forged events


def test_forged_stop_logging_while_logging_claims_no_repair(world: World, event: Any) -> None:
    result = world.invoke(FUNCTION, fresh(event("stop_logging.json")))

    assert result["outcome"] == "unverified"
    assert world.is_logging()
    [alert] = world.drain_alerts()
    assert alert.outcome == "unverified"
    assert "no repair claimed" in alert.document["headline"]
    assert "not stopped" in alert.document["verification"]


def test_forged_events_cannot_prime_the_damper(world: World, event: Any) -> None:
    forged = [world.invoke(FUNCTION, fresh(event("stop_logging.json"))) for _ in range(5)]
    aws("cloudtrail").stop_logging(Name="org-trail")
    real = world.invoke(FUNCTION, fresh(event("stop_logging.json")))

    # The first is answered (StartLogging, then the contradiction); the rest find the
    # trail logging on their read-first and do nothing.
    assert [r["outcome"] for r in forged] == ["unverified"] + ["in_sync"] * 4
    assert real["outcome"] == "repaired"
    alerts = world.drain_alerts()
    assert [a.outcome for a in alerts] == ["unverified", "repaired"]
    assert "Storm" not in alerts[-1].document["detail"]


def test_a_real_stop_after_an_earlier_one_is_still_verified(world: World, event: Any) -> None:
    ct = aws("cloudtrail")
    for _ in range(2):
        ct.stop_logging(Name="org-trail")
        assert world.invoke(FUNCTION, fresh(event("stop_logging.json")))["outcome"] == "repaired"

    assert [a.outcome for a in world.drain_alerts()] == ["repaired", "repaired"]


# ------------------------------------------------------------------ storm damping


def test_detect_mode_never_damps(world: World, event: Any) -> None:
    world.apply_environment(DETECT_ONLY="true")
    aws("cloudtrail").stop_logging(Name="org-trail")

    outcomes = [
        world.invoke(FUNCTION, fresh(event("stop_logging.json")))["outcome"] for _ in range(12)
    ]

    assert outcomes == ["detected"] * 12
    assert len(world.drain_alerts()) == 12
    assert not world.is_logging()


def test_same_drift_by_another_actor_is_not_damped(world: World, event: Any) -> None:
    ct = aws("cloudtrail")
    for _ in range(4):
        ct.stop_logging(Name="org-trail")
        world.invoke(FUNCTION, fresh(event("stop_logging.json")))
    assert len(world.drain_alerts()) == 3  # the 4th by the same actor: damped

    ct.stop_logging(Name="org-trail")
    result = world.invoke(FUNCTION, fresh(event("stop_logging_console_sso.json")))

    assert result["outcome"] == "repaired"
    [alert] = world.drain_alerts()
    assert alert.document["actor"]["arn"] != "arn:aws:iam::111111111111:root"


# ------------------------------------------ the signing key, the table policy


def _self_tampering(sample: str, name: str, **parameters: Any) -> dict[str, Any]:
    from tests.conftest import load_event

    event = fresh(load_event(sample))
    event["detail"]["eventName"] = name
    event["detail"]["requestParameters"] = parameters
    return event


@pytest.mark.parametrize("name", ["DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy"])
def test_a_change_to_the_signing_key_is_critical(world: World, name: str) -> None:
    key_id = world.signing_key_arn.rsplit("/", 1)[1]
    event = _self_tampering("disable_alert_key.json", name, keyId=key_id)

    result = world.invoke("AlertSelfTamperingFunction", event)

    assert result["outcome"] == "detected"
    [alert] = world.drain_alerts()
    assert alert.severity == "CRITICAL"
    assert "baseline signing key" in alert.document["headline"]
    assert alert.document["resource"] == world.signing_key_arn


@pytest.mark.parametrize("name", ["PutResourcePolicy", "DeleteResourcePolicy"])
def test_a_change_to_the_baseline_tables_policy_is_critical(world: World, name: str) -> None:
    arn = f"arn:aws:dynamodb:{REGION}:111111111111:table/{world.table_name}"
    event = _self_tampering("delete_baseline_table.json", name, resourceArn=arn)

    result = world.invoke("AlertSelfTamperingFunction", event)

    assert result["outcome"] == "detected"
    [alert] = world.drain_alerts()
    assert alert.severity == "CRITICAL"
    assert "resource policy" in alert.document["headline"]
    assert alert.document["resource"] == world.table_name
