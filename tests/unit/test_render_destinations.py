"""The renderers of the alert destinations: EventBridge, chat, Security Hub (ASFF),
and the content they share (render/content.py). Pure: no AWS API."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import botocore.session
import jsonschema
import pytest
from botocore.validate import ParamValidator

from trailguard.domain.alerts import ActionRecord, Alert, AlertContext, Outcome, Severity
from trailguard.domain.events import parse_api_call_event
from trailguard.render import asff, chat, content, eventbridge
from trailguard.render.document import alert_document
from trailguard.render.sns import subject_for

TRAIL = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"
NOW = datetime(2026, 12, 1, 10, 0, 5, tzinfo=UTC)
# What a chat client would turn into a ping, a link, or formatting.
HOSTILE_AGENT = (
    "<!channel> <!here> @here @channel <@U024BE7LH> <at>Everyone</at> *bold* _it_ ~gone~ "
    "`code` ```block``` [click](https://evil.example) <https://evil.example|click> "
    "&lt;!everyone&gt; # heading > quote :rotating_light:"
)
HOSTILE_ARN = "arn:aws:sts::111111111111:assumed-role/Admin/<!channel>@here*x*"
CONTEXT = AlertContext(
    stack_name="trailguard",
    account_alias="acme-management",
    function_region="us-east-1",
    log_group="/trailguard/trailguard/restore-trail",
)

# The custom-notification schema of Amazon Q Developer in chat applications
# (Administrator Guide, "Custom notifications": event schema and parameter details):
# version and source are required and fixed, content requires a description,
# textType accepts only client-markdown. Unknown fields are refused here so that a
# misspelt field (which the service would drop) fails the test.
_STRINGS = {"type": "array", "items": {"type": "string"}}
CHAT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "source", "content"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": "1.0"},
        "source": {"const": "custom"},
        "id": {"type": "string"},
        "content": {
            "type": "object",
            "required": ["description"],
            "additionalProperties": False,
            "properties": {
                "textType": {"enum": ["client-markdown"]},
                "title": {"type": "string"},
                "description": {"type": "string", "minLength": 1},
                "nextSteps": _STRINGS,
                "keywords": _STRINGS,
            },
        },
        "metadata": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "threadId": {"type": "string"},
                "summary": {"type": "string"},
                "eventType": {"type": "string"},
                "relatedResources": _STRINGS,
                "additionalContext": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                },
            },
        },
    },
}


def _alert(load: Any, sample: str = "stop_logging.json", **changes: Any) -> Alert:
    raw = load(sample)
    raw["detail"]["userAgent"] = HOSTILE_AGENT
    raw["detail"]["userIdentity"]["arn"] = HOSTILE_ARN
    parsed = parse_api_call_event(raw)
    alert = Alert(
        severity=Severity.HIGH,
        outcome=Outcome.REPAIRED,
        headline="drift repaired and verified",
        invariant="I2 trail logging",
        resource=TRAIL,
        account_id="111111111111",
        region="us-east-1",
        event=parsed,
        drift=("logging was stopped (StopLogging)",),
        actions=(ActionRecord("StartLogging", TRAIL, "ok"),),
        verification="state re-read after repair matches the baseline",
        repaired_at=parsed.event_time.replace(second=2),
        context=CONTEXT,
    )
    return replace(alert, **changes)


def _scheduled(load: Any, **changes: Any) -> Alert:
    return _alert(load, event=None, detected_by="schedule", repaired_at=None, **changes)


# ------------------------------------------------------------------ shared content


def test_dedup_key_is_stable_per_account_region_resource_and_invariant(event: Any) -> None:
    repaired = _alert(event)
    failed = _alert(event, severity=Severity.CRITICAL, outcome=Outcome.REMEDIATION_FAILED)
    scheduled = _scheduled(event)
    other_trail = _alert(event, resource=TRAIL.replace("org-trail", "other"))
    other_invariant = _alert(event, invariant="I4 trail settings")

    key = content.dedup_key(repaired)
    assert re.fullmatch(r"trailguard-[0-9a-f]{40}", key)
    assert content.dedup_key(failed) == content.dedup_key(scheduled) == key
    assert len({key, content.dedup_key(other_trail), content.dedup_key(other_invariant)}) == 3


def test_repaired_high_alert_has_next_steps(event: Any) -> None:
    steps = content.next_steps(_alert(event))

    assert any("StopLogging" in step and "incident" in step for step in steps)
    assert any("Event history" in step for step in steps)
    assert all(HOSTILE_ARN not in step and "<" not in step for step in steps)


def test_document_names_technique_links_alias_stack_and_dedup_key(event: Any) -> None:
    alert = _alert(event)
    document = alert_document(alert)

    assert document["technique"]["id"] == "T1562.008"
    assert document["technique"]["url"] == "https://attack.mitre.org/techniques/T1562/008/"
    assert document["dedupKey"] == content.dedup_key(alert)
    assert document["accountAlias"] == "acme-management"
    assert document["stackName"] == "trailguard"
    assert document["nextSteps"]
    event_id = alert.event.event_id if alert.event else ""
    assert document["links"]["eventHistory"] == (
        "https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1"
        f"#/events/{event_id}"
    )
    assert document["links"]["logGroup"].endswith(
        "#logsV2:log-groups/log-group/$252Ftrailguard$252Ftrailguard$252Frestore-trail"
    )


def test_self_protection_alerts_name_disable_or_modify_tools(event: Any) -> None:
    alert = _alert(event, invariant="trailguard's own resources")
    assert alert_document(alert)["technique"]["id"] == "T1562.001"


def test_schedule_alert_subject_names_the_resource(event: Any) -> None:
    subject = subject_for(_scheduled(event))

    assert subject == "[trailguard] HIGH schedule org-trail: drift repaired and verified"


# ------------------------------------------------------------------ EventBridge


def test_eventbridge_event_carries_the_alert_document(event: Any) -> None:
    alert = _alert(event)
    rendered = eventbridge.alert_event(alert)

    assert rendered.source == "trailguard"
    assert rendered.detail_type == "trailguard Alert"
    assert rendered.detail == alert_document(alert)
    assert rendered.detail["schema"] == "trailguard.alert/1"
    assert rendered.entry()["EventBusName"] == "default"


# ------------------------------------------------------------------ chat


@pytest.mark.parametrize(
    ("severity", "outcome"),
    [
        (Severity.HIGH, Outcome.REPAIRED),
        (Severity.CRITICAL, Outcome.REMEDIATION_FAILED),
        (Severity.WARNING, Outcome.ATTEMPT_FAILED),
        (Severity.INFO, Outcome.NOTICE),
    ],
)
def test_chat_message_follows_the_custom_notification_schema(
    event: Any, severity: Severity, outcome: Outcome
) -> None:
    message = chat.chat_message(_alert(event, severity=severity, outcome=outcome))

    jsonschema.validate(message, CHAT_SCHEMA)
    assert message["content"]["title"].startswith(
        {
            Severity.HIGH: ":rotating_light:",
            Severity.CRITICAL: ":sos:",
            Severity.WARNING: ":warning:",
            Severity.INFO: ":information_source:",
        }[severity]
    )


def test_chat_message_for_a_scheduled_repair_follows_the_schema(event: Any) -> None:
    message = chat.chat_message(_scheduled(event))

    jsonschema.validate(message, CHAT_SCHEMA)
    assert "id" not in message
    assert "schedule" in message["content"]["description"]


def test_chat_message_says_who_what_where_and_what_trailguard_did(event: Any) -> None:
    description = chat.chat_message(_alert(event))["content"]["description"]

    assert "What: `cloudtrail.amazonaws.com` `StopLogging`" in description
    assert "Who: `" in description
    assert "account `111111111111 (acme-management)`, region us-east-1" in description
    assert "What trailguard did: `StartLogging`" in description
    assert "Event to repair: 2.0 s" in description
    assert "https://us-east-1.console.aws.amazon.com/cloudtrailv2/" in description


def test_chat_threads_repeats_of_one_drift_together(event: Any) -> None:
    repaired = chat.chat_message(_alert(event))
    failed = chat.chat_message(
        _alert(event, severity=Severity.CRITICAL, outcome=Outcome.REMEDIATION_FAILED)
    )
    elsewhere = chat.chat_message(_alert(event, resource=TRAIL.replace("org-trail", "b")))

    assert repaired["metadata"]["threadId"] == failed["metadata"]["threadId"]
    assert repaired["metadata"]["threadId"] != elsewhere["metadata"]["threadId"]
    assert repaired["metadata"]["threadId"] == content.dedup_key(_alert(event))


def test_hostile_strings_cannot_ping_link_or_format(event: Any) -> None:
    message = chat.chat_message(_alert(event, resource=TRAIL + "<!channel>*x*"))
    text = json.dumps(message, ensure_ascii=False)

    # Nothing anywhere in the message can start a mention, an entity or a link.
    for trigger in ("<", ">", "@", "&"):
        assert trigger not in text, trigger
    description = message["content"]["description"]
    # Attacker values appear only inside inline code spans, which hold no backtick,
    # and no link: a URL in them is defanged.
    spans = re.findall(r"`[^`\n]*`", description)
    assert not any("://" in span.replace("[://]", "") for span in spans)
    outside = re.sub(r"`[^`\n]*`", "", description)
    # trailguard's own links are percent-encoded: no markup survives in them.
    urls = re.findall(r"https://\S+", outside)
    assert urls and all(re.fullmatch(r"https://[\w.%$/?=#:-]+\)?", url) for url in urls), urls
    outside = re.sub(r"https://\S+", "", outside)
    for word in ("channel", "here", "bold", "evil", "click", "U024BE7LH", "Everyone"):
        assert not re.search(rf"\b{word}\b", outside), word
    assert description.count("`") % 2 == 0
    # Fields shown as text carry no markdown at all.
    emoji, title = message["content"]["title"].split(" ", 1)
    assert emoji == ":rotating_light:"
    for field in (
        title,
        message["metadata"]["summary"],
        *message["metadata"]["relatedResources"],
        *message["metadata"]["additionalContext"].values(),
    ):
        assert not set(field) & set("*_~`|[]#<>@&"), field


def test_chat_value_is_shown_recognisably(event: Any) -> None:
    assert chat.literal("<!channel> @here `x`") == "`\u2039!channel\u203a \uff20here \u02cbx\u02cb`"
    assert chat.literal("") == "`-`"


# ------------------------------------------------------------------ Security Hub (ASFF)


def _import_request_is_valid(finding: dict[str, Any]) -> None:
    """botocore's own validation of BatchImportFindings' input shape."""
    model = botocore.session.get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    report = ParamValidator().validate({"Findings": [finding]}, shape)
    assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize(
    ("severity", "label"),
    [
        (Severity.INFO, "INFORMATIONAL"),
        (Severity.WARNING, "MEDIUM"),
        (Severity.HIGH, "HIGH"),
        (Severity.CRITICAL, "CRITICAL"),
    ],
)
def test_asff_severity_is_mapped(event: Any, severity: Severity, label: str) -> None:
    finding = asff.asff_finding(_alert(event, severity=severity), "us-east-1", NOW)

    assert finding["Severity"] == {"Label": label, "Original": severity.value}
    assert finding["FindingProviderFields"]["Severity"] == finding["Severity"]
    _import_request_is_valid(finding)


def test_asff_finding_describes_the_call_and_the_trail(event: Any) -> None:
    alert = _alert(event)
    finding = asff.asff_finding(alert, "us-east-1", NOW)

    _import_request_is_valid(finding)
    assert finding["SchemaVersion"] == "2018-10-08"
    assert finding["Id"] == content.dedup_key(alert)
    assert finding["ProductArn"] == (
        "arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default"
    )
    assert finding["GeneratorId"] == "trailguard/I2"
    assert finding["Types"] == [
        "TTPs/Defense Evasion/Impair Defenses: Disable or Modify Cloud Logs"
    ]
    [resource] = finding["Resources"]
    assert (resource["Type"], resource["Id"]) == ("AwsCloudTrailTrail", TRAIL)
    call = finding["Action"]["AwsApiCallAction"]
    assert finding["Action"]["ActionType"] == "AWS_API_CALL"
    assert (call["Api"], call["ServiceName"]) == ("StopLogging", "cloudtrail.amazonaws.com")
    assert call["CallerType"] == "remoteip"
    assert call["RemoteIpDetails"]["IpAddressV4"] == alert.event.source_ip if alert.event else ""
    assert "incident" in finding["Remediation"]["Recommendation"]["Text"]
    assert finding["UpdatedAt"] == "2026-12-01T10:00:05.000Z"
    assert len(finding["Title"]) <= 256 and len(finding["Description"]) <= 1024


def test_asff_repaired_drift_updates_the_same_finding_and_archives_it(event: Any) -> None:
    failed = asff.asff_finding(
        _alert(event, severity=Severity.CRITICAL, outcome=Outcome.REMEDIATION_FAILED),
        "us-east-1",
        NOW,
    )
    repaired = asff.asff_finding(_scheduled(event), "us-east-1", NOW)

    assert failed["Id"] == repaired["Id"]
    assert (failed["RecordState"], failed["Workflow"]) == ("ACTIVE", {"Status": "NEW"})
    assert (repaired["RecordState"], repaired["Workflow"]) == (
        "ARCHIVED",
        {"Status": "RESOLVED"},
    )
    assert "Action" not in repaired  # no event: the schedule found it
    _import_request_is_valid(repaired)


def test_asff_refused_attempt_is_a_finding_of_its_own(event: Any) -> None:
    attempt = _alert(event, severity=Severity.WARNING, outcome=Outcome.ATTEMPT_FAILED)
    finding = asff.asff_finding(attempt, "us-east-1", NOW)

    assert finding["Id"] != content.dedup_key(attempt)
    assert finding["Id"].startswith(content.dedup_key(attempt) + "/")
    assert finding["RecordState"] == "ACTIVE"


def test_asff_resource_types(event: Any) -> None:
    role = asff.asff_finding(
        _alert(event, resource="role AWSServiceRoleForCloudTrail"), "us-east-1", NOW
    )
    access = asff.asff_finding(_alert(event, resource="cloudtrail.amazonaws.com"), "us-east-1", NOW)

    assert role["Resources"][0]["Type"] == "AwsIamRole"
    assert role["Resources"][0]["Id"].endswith(
        ":role/aws-service-role/cloudtrail.amazonaws.com/AWSServiceRoleForCloudTrail"
    )
    assert access["Resources"][0] | {} == {
        **access["Resources"][0],
        "Type": "AwsAccount",
        "Id": "AWS::::Account:111111111111",
    }


# ------------------------------------------------------------------ the document read back


@pytest.mark.parametrize("scheduled", [False, True])
def test_document_reads_back_into_the_same_alert(event: Any, scheduled: bool) -> None:
    from trailguard.render.document import alert_from_document

    alert = _scheduled(event) if scheduled else _alert(event, detail="Storm: occurrence 2")
    document = alert_document(alert)

    again = alert_from_document(json.loads(json.dumps(document)))

    assert alert_document(again) == document
    assert chat.chat_message(again) == chat.chat_message(alert)
    assert asff.asff_finding(again, "us-east-1", NOW) == asff.asff_finding(alert, "us-east-1", NOW)
