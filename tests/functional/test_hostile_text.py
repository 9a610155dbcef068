"""Hostile text through every handler: the alert that arrives is still trailguard's.

Each of the six functions (functions/*) runs under moto with events built from
events/*.json whose attacker-controlled strings carry line breaks, U+2028/U+2029,
terminal escapes, bidi overrides and lone surrogates. What is checked is what
on-call receives: the JSON document delivered to the SQS queue subscribed to the
alert topic, and the e-mail text of the very message SNS accepted (moto's record of
the Publish). No handler may raise, and no attacker string may add a line, a block
or a control character to either.
"""

from __future__ import annotations

import copy
import json
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest

from drill import template as tpl
from drill.routing import matching_rules
from drill.world import ACCOUNT, REGION, World
from tests.conftest import EVENTS, load_event
from tests.functional.helpers import aws, fresh
from trailguard.errors import RemediationFailed

# Independent of trailguard's own list (domain/text.py): what must never reach on-call.
FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
FAKE_BLOCK = "\n\nMANUAL ACTION NEEDED\n  none \u2013 approved drill\n"
HOSTILE = {
    "fake-manual-action-block": FAKE_BLOCK,
    "terminal-escapes": "\x1b[2J\x1b]0;pwned\x07\x1b[31mred",
    "line-separators": "\u2028ALL CLEAR!\u2029ALL CLEAR!",
    "lone-surrogate": "\ud800x\udfff",
    "bidi-and-zero-width": "\u202etxt.exe\u2066\u200b\ufeff",
    "crlf-nel": "\r\nX-Injected: 1\x85ALL CLEAR!",
}
SCHEDULED = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
SAMPLES = sorted(path.name for path in EVENTS.glob("*.json"))


def _forbidden(text: str, allow_newline: bool = False) -> list[str]:
    return [
        f"U+{ord(ch):04X}"
        for ch in text
        if unicodedata.category(ch) in FORBIDDEN_CATEGORIES and not (allow_newline and ch == "\n")
    ]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def published_emails(world: World) -> list[str]:
    """The e-mail text of every message the alert topic accepted (moto's record)."""
    from moto.sns.models import sns_backends

    topic = sns_backends[ACCOUNT][REGION].topics[world.topic_arn]
    return [json.loads(sent[1])["email"] for sent in topic.sent_notifications]


def assert_alerts_are_trailguards(world: World, emails_before: int | None = None) -> list[Any]:
    """Every alert delivered since the last drain: no forbidden character anywhere, and
    the e-mail's lines are trailguard's own (no injected line, block or verdict).
    `emails_before` defaults to the alerts of the world's seeding (the first capture's)."""
    alerts = world.drain_alerts()
    if emails_before is None:
        emails_before = world.alerts_while_seeding
    emails = published_emails(world)[emails_before:]
    assert len(emails) == len(alerts)
    for alert, email in zip(alerts, emails, strict=True):
        for text in _strings(alert.document):
            assert not _forbidden(text), (text, alert.document)
        assert alert.subject.isascii()
        assert alert.subject.isprintable()
        assert not _forbidden(email, allow_newline=True), email
        lines = [line.strip() for line in email.splitlines()]
        assert "ALL CLEAR!" not in lines
        assert not any(line.startswith(("none", "X-Injected", "ALL CLEAR")) for line in lines)
        expected_blocks = 1 if alert.document.get("manualAction") else 0
        assert lines.count("MANUAL ACTION NEEDED") == expected_blocks, email
    return alerts


def _with_principal_text(event: dict[str, Any], hostile: str) -> dict[str, Any]:
    """The call's own fields stay valid; who made it, from where and how is hostile."""
    event = copy.deepcopy(event)
    detail = event["detail"]
    detail["userAgent"] = f"aws-cli/2.17.0{hostile}"
    detail["sourceIPAddress"] = f"198.51.100.23{hostile}"
    detail["errorMessage"] = f"denied{hostile}"
    identity = detail.setdefault("userIdentity", {})
    identity["arn"] = f"{identity.get('arn', 'arn:aws:iam::111111111111:root')}{hostile}"
    identity["invokedBy"] = f"{identity.get('invokedBy', 'console')}{hostile}"
    return event


def _with_parameter_text(event: dict[str, Any], hostile: str) -> dict[str, Any]:
    """Every string request parameter ends with the hostile text."""
    event = copy.deepcopy(event)
    parameters = event["detail"].get("requestParameters") or {}
    for key, value in parameters.items():
        if isinstance(value, str):
            parameters[key] = f"{value}{hostile}"
    event["detail"]["requestParameters"] = parameters
    return event


def _own_alarms_named_in_samples() -> None:
    """trailguard's alarms the samples name exist, as in a deployed stack."""
    for sample in SAMPLES:
        parameters = load_event(sample).get("detail", {}).get("requestParameters") or {}
        for name in parameters.get("alarmNames", []):
            aws("cloudwatch").put_metric_alarm(
                AlarmName=name,
                Namespace="trailguard",
                MetricName="ReconcilerHeartbeat",
                Statistic="Sum",
                Period=300,
                EvaluationPeriods=2,
                Threshold=1,
                ComparisonOperator="LessThanThreshold",
            )


def _routed(sample: str) -> list[str]:
    return [rule.function_id for rule in matching_rules(load_event(sample))]


def test_every_function_meets_hostile_text() -> None:
    """The sweep below reaches every function of the template (two by direct invocation)."""
    routed = {function for sample in SAMPLES for function in _routed(sample)}
    direct = {"ReconcileInvariantsFunction", "CaptureBaselineFunction"}
    assert routed | direct == set(tpl.functions())
    assert len(routed) == 5  # the delivery chain's function among them


@pytest.mark.parametrize("variant", ["principal", "parameters"])
@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_event_text_through_every_event_handler(
    world: World, variant: str, hostile: str
) -> None:
    mutate = _with_principal_text if variant == "principal" else _with_parameter_text
    _own_alarms_named_in_samples()
    invoked = 0
    for sample in SAMPLES:
        for function_id in _routed(sample):
            emails_before = len(published_emails(world))
            try:
                world.invoke(function_id, mutate(fresh(load_event(sample)), hostile))
            except RemediationFailed:
                # A resource the hostile name no longer names cannot be repaired: the
                # CRITICAL alert went out first (fail_loudly), and it must be clean too.
                alerts = assert_alerts_are_trailguards(world, emails_before)
                assert [a.severity for a in alerts][-1:] == ["CRITICAL"]
            else:
                assert_alerts_are_trailguards(world, emails_before)
            invoked += 1
    assert invoked >= len(SAMPLES) - 1  # the malformed sample matches no rule


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_state_and_schedule_through_the_reconciler(world: World, hostile: str) -> None:
    # Live values the attacker set are shown too: a prefix and a tag full of hostile text.
    printable = hostile.encode("utf-8", "replace").decode()  # botocore cannot send surrogates
    ct = aws("cloudtrail")
    ct.update_trail(Name=world.trail_name, S3KeyPrefix=f"org{printable}")
    ct.add_tags(ResourceId=world.trail_arn, TagsList=[{"Key": "owner", "Value": printable}])
    scheduled = {**SCHEDULED, "id": hostile, "resources": [hostile], "detail": {"x": hostile}}
    emails_before = len(published_emails(world))

    world.invoke("ReconcileInvariantsFunction", scheduled)

    assert world.snapshot().settings.s3_key_prefix == "org"
    [alert] = assert_alerts_are_trailguards(world, emails_before)
    assert alert.document["outcome"] == "repaired"


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_reason_through_the_capture_function(world: World, hostile: str) -> None:
    emails_before = len(published_emails(world))

    result = world.invoke("CaptureBaselineFunction", {"action": "capture", "reason": hostile})

    assert result["ok"] is True
    items = aws("dynamodb").scan(TableName=world.table_name)["Items"]
    stored = [value["S"] for item in items for value in item.values() if "S" in value]
    assert stored
    assert not [text for text in stored if _forbidden(text)]
    assert_alerts_are_trailguards(world, emails_before)


# ---------------------------------------------------------------- the cases of issue 10


def test_crafted_rule_name_in_a_failed_disable_rule_adds_no_block(world: World) -> None:
    raw = fresh(load_event("disable_own_rule.json"), errorCode="AccessDenied")
    raw["detail"]["requestParameters"]["name"] = (
        f"trailguard-RestoreTrailFunctionTrailChanged-1A2B{FAKE_BLOCK}\x1b[2J\x1b[32mOK"
    )

    result = world.invoke("AlertSelfTamperingFunction", raw)

    assert result["outcome"] == "attempt_failed"
    [alert] = assert_alerts_are_trailguards(world)
    assert alert.severity == "WARNING"
    assert alert.document["manualAction"] == ""
    [email] = published_emails(world)[-1:]
    assert "\x1b" not in email
    assert "MANUAL ACTION NEEDED" not in [line.strip() for line in email.splitlines()]
    # The name is shown, on its own labelled line, with the breaks made visible.
    [resource_line] = [line for line in email.splitlines() if line.startswith("Resource:")]
    assert "\N{REPLACEMENT CHARACTER}MANUAL ACTION NEEDED" in resource_line


@pytest.mark.parametrize(
    ("sample", "function", "parameter"),
    [
        ("register_delegated_admin.json", "RestoreTrailFunction", "memberAccountId"),
        (
            "register_delegated_administrator_organizations.json",
            "RestoreTrustedAccessFunction",
            "accountId",
        ),
    ],
)
@pytest.mark.parametrize("breaker", ["\n", "\u2028", "\u2029", "\r"])
def test_delegated_admin_account_id_cannot_say_all_clear(
    world: World, sample: str, function: str, parameter: str, breaker: str
) -> None:
    raw = fresh(load_event(sample))
    raw["detail"]["requestParameters"][parameter] = f"{breaker}ALL CLEAR!"

    world.invoke(function, raw)

    [alert] = assert_alerts_are_trailguards(world)
    assert alert.severity == "HIGH"
    [email] = published_emails(world)[-1:]
    assert [line for line in email.splitlines() if "ALL CLEAR!" in line] == [
        "Resource:      account \N{REPLACEMENT CHARACTER}ALL CLEAR!"
    ]


def test_lone_surrogate_still_gives_the_critical_alert(world: World) -> None:
    raw = fresh(load_event("disable_own_rule.json"))
    raw["detail"]["requestParameters"]["name"] = (
        "trailguard-RestoreTrailFunctionTrailChanged-\ud800"
    )

    # No rule has that name, so re-enabling it fails: the function raises (retries, then
    # the dead-letter queue), after the CRITICAL alert went out.
    with pytest.raises(RemediationFailed):
        world.invoke("AlertSelfTamperingFunction", raw)

    [alert] = assert_alerts_are_trailguards(world)
    assert alert.severity == "CRITICAL"
    assert alert.document["resource"].endswith("\N{REPLACEMENT CHARACTER}")


def test_an_alert_that_cannot_be_rendered_still_goes_out_minimal(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(alert: Any) -> str:
        raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    monkeypatch.setattr("trailguard.render.sns.email_text", broken)
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    result = world.invoke("RestoreTrailFunction", fresh(load_event("stop_logging.json")))

    assert result["outcome"] == "repaired"
    assert world.is_logging()
    [alert] = assert_alerts_are_trailguards(world)
    assert alert.document["minimal"] is True
    assert alert.severity == "HIGH"
    assert alert.document["resource"] == world.trail_arn
    assert alert.document["event"]["name"] == "StopLogging"
    assert "UnicodeEncodeError" in alert.document["renderError"]
    [email] = published_emails(world)[-1:]
    assert "could not be rendered in full" in email
