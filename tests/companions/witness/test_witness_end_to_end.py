"""trailguard (account 111111111111) and its witness (account 333333333333) under moto.

The witness's rules are matched against the events trailguard really emits: its
handlers run with WITNESS_BUS_ARN set, the events cross to the witness bus (as
drill/emulation/alert_path.py makes moto do it, subject to the bus policy), and the
witness's own handler alerts its topic, whose SQS subscriber is read here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from drill.witness import Witness, as_account, witness_rules
from drill.world import ACCOUNT, AUDIT_ACCOUNT, World, seeded_world
from tests.conftest import load_event
from tests.functional.helpers import aws, fresh
from trailguard.errors import AlertNotDelivered


@pytest.fixture
def watched() -> Iterator[tuple[World, Witness]]:
    with seeded_world() as world:
        witness = Witness(ACCOUNT)
        world.witness = witness
        world.apply_environment(WITNESS_BUS_ARN=witness.bus_arn)
        yield world, witness


def _key_event(world: World, name: str = "DisableKey") -> dict[str, Any]:
    sample = fresh(load_event("disable_alert_key.json"))
    sample["detail"]["eventName"] = name
    sample["detail"]["requestParameters"] = {"keyId": world.environment["ALERT_KEY_ARN"]}
    return sample


def test_disabled_alert_key_reaches_the_witness_although_the_topic_cannot_deliver(
    watched: tuple[World, Witness],
) -> None:
    world, witness = watched
    key = world.environment["ALERT_KEY_ARN"].rsplit("/", 1)[1]
    aws("kms").disable_key(KeyId=key)

    result = world.invoke("AlertSelfTamperingFunction", _key_event(world))

    assert result["outcome"] == "repaired"
    assert aws("kms").describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    # On-call's topic: only the alert sent after the key was enabled again.
    [on_call] = world.drain_alerts()
    assert (on_call.severity, on_call.outcome) == ("CRITICAL", "repaired")
    # The witness: the first CRITICAL, sent while SNS could not deliver, then that one.
    witnessed = witness.deliver_pending()
    assert [w.label for w in witnessed] == ["CRITICAL detected", "CRITICAL repaired"]
    first = witnessed[0]
    assert first.rule_id == "CriticalAlerts"
    assert first.event["account"] == ACCOUNT
    assert first.message is not None
    assert "alert topic cannot deliver" in first.message["received"]["detail"]
    assert first.subject.startswith("[trailguard witness] CRITICAL")


def test_detect_mode_alert_is_held_but_the_witness_has_it(watched: tuple[World, Witness]) -> None:
    world, witness = watched
    world.apply_environment(WITNESS_BUS_ARN=witness.bus_arn, DETECT_ONLY="true")
    aws("kms").disable_key(KeyId=world.environment["ALERT_KEY_ARN"].rsplit("/", 1)[1])

    with pytest.raises(AlertNotDelivered, match="KMSDisabled"):
        world.invoke("AlertSelfTamperingFunction", _key_event(world))

    assert world.drain_alerts() == []
    [seen] = witness.deliver_pending()
    assert seen.label == "CRITICAL detected"


def test_heartbeat_carries_each_invariant_and_a_broken_one_alerts(
    watched: tuple[World, Witness],
) -> None:
    world, witness = watched
    world.invoke("ReconcileInvariantsFunction", {})

    [healthy] = witness.deliver_pending()
    assert (healthy.rule_id, healthy.outcome) == ("Heartbeats", "heartbeat")
    statuses = {i["invariant"][:2]: i["status"] for i in healthy.event["detail"]["invariants"]}
    # tr: "trailguard's own resources", the alert key as the schedule found it.
    assert statuses == {"I1": "holds", "I6": "holds", "I2": "holds", "tr": "holds"}
    assert witness.heartbeats() == 1

    # A repair that fails: the trail's bucket is gone, the trail deleted.
    world.apply_environment(WITNESS_BUS_ARN=witness.bus_arn, DETECT_ONLY="true")
    aws("cloudtrail").stop_logging(Name=world.trail_arn)
    world.invoke("ReconcileInvariantsFunction", {})
    world.drain_alerts()

    [broken] = witness.deliver_pending()
    assert broken.label == "heartbeat broken"
    assert broken.outcome == "alerted"
    assert broken.message is not None
    assert "invariant(s) broken" in broken.message["reason"]
    assert witness.heartbeats() == 2


def test_the_bus_refuses_any_other_account(watched: tuple[World, Witness]) -> None:
    _, witness = watched
    from botocore.exceptions import ClientError

    with as_account("444444444444"), pytest.raises(ClientError, match="AccessDenied"):
        aws("events").put_events(
            Entries=[
                {
                    "EventBusName": witness.bus_arn,
                    "Source": "trailguard",
                    "DetailType": "trailguard heartbeat",
                    "Detail": json.dumps({"healthy": True}),
                }
            ]
        )
    assert witness.deliver_pending() == []


def test_witness_patterns_pin_trailguards_account() -> None:
    rules = witness_rules({"TrailguardAccountId": ACCOUNT})
    assert set(rules) == {"Heartbeats", "CriticalAlerts", "SelfTamperingAlerts"}
    for pattern in rules.values():
        assert pattern["account"] == [ACCOUNT]
        assert pattern["source"] == ["trailguard"]
    assert AUDIT_ACCOUNT != ACCOUNT


def test_alert_key_disabled_without_an_event_is_found_by_the_schedule(
    watched: tuple[World, Witness],
) -> None:
    world, witness = watched
    key = world.environment["ALERT_KEY_ARN"]
    aws("kms").disable_key(KeyId=key.rsplit("/", 1)[1])

    world.invoke("ReconcileInvariantsFunction", {})

    assert aws("kms").describe_key(KeyId=key.rsplit("/", 1)[1])["KeyMetadata"]["KeyState"] == (
        "Enabled"
    )
    [on_call] = world.drain_alerts()
    assert (on_call.severity, on_call.outcome) == ("CRITICAL", "repaired")
    assert on_call.document["detectedBy"] == "schedule"
    seen = witness.deliver_pending()
    heartbeat = next(w for w in seen if w.rule_id == "Heartbeats")
    [itself] = [
        i
        for i in heartbeat.event["detail"]["invariants"]
        if i["invariant"] == "trailguard's own resources"
    ]
    assert itself == {
        "invariant": "trailguard's own resources",
        "resource": key,
        "status": "repaired",
    }
    assert [w.label for w in seen if w.rule_id == "CriticalAlerts"] == [
        "CRITICAL detected",
        "CRITICAL repaired",
    ]


def test_an_unreachable_witness_never_stops_an_alert(world: World) -> None:
    # No witness stack at this ARN: PutEvents fails; the topic's alert still goes out.
    world.apply_environment(
        WITNESS_BUS_ARN="arn:aws:events:us-east-1:333333333333:event-bus/nobody-here"
    )
    sample = fresh(load_event("stop_logging.json"))
    aws("cloudtrail").stop_logging(Name=world.trail_arn)

    result = world.invoke("RestoreTrailFunction", sample)

    assert result["outcome"] == "repaired"
    [alert] = world.drain_alerts()
    assert (alert.severity, alert.outcome) == ("HIGH", "repaired")
