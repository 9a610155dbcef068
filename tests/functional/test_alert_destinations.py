"""Every alert reaches every destination, and a failing destination never blocks the
alert topic. Under moto: EventBridge (a rule on the default bus with an SQS target),
the chat topic (an SQS subscriber), Security Hub (BatchImportFindings, GetFindings).
botocore's Stubber covers what moto does not answer as AWS does: a finding refused
inside BatchImportFindings' HTTP 200."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from botocore.stub import Stubber

from drill.world import ACCOUNT, REGION, World
from tests.functional.helpers import aws, fresh
from tests.unit.test_render_destinations import CHAT_SCHEMA
from trailguard import clients
from trailguard.adapters.securityhub import SecurityHubFindings
from trailguard.errors import AwsCallFailed

FUNCTION = "RestoreTrailFunction"


def _queue(name: str) -> tuple[str, str]:
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def _bodies(url: str) -> list[dict[str, Any]]:
    messages = aws("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def _subscribed_to_alert_events() -> str:
    """An SQS target of a rule on the default bus that matches trailguard's alerts."""
    url, arn = _queue("alert-events")
    events = aws("events")
    events.put_rule(
        Name="trailguard-alerts",
        EventPattern=json.dumps({"source": ["trailguard"], "detail-type": ["trailguard Alert"]}),
    )
    events.put_targets(Rule="trailguard-alerts", Targets=[{"Id": "queue", "Arn": arn}])
    return url


def _chat_topic() -> tuple[str, str]:
    topic = aws("sns").create_topic(Name="trailguard-chat")["TopicArn"]
    url, arn = _queue("chat-subscriber")
    aws("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return topic, url


def _stop_and_repair(world: World, event: Any) -> dict[str, Any]:
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    result: dict[str, Any] = world.invoke(FUNCTION, fresh(event("stop_logging.json")))
    assert result["outcome"] == "repaired"
    return result


def test_alert_is_put_on_the_default_bus(world: World, event: Any) -> None:
    queue = _subscribed_to_alert_events()
    aws("iam").create_account_alias(AccountAlias="acme-management")
    world.apply_environment()

    _stop_and_repair(world, event)

    [alert] = world.drain_alerts()
    [delivered] = _bodies(queue)
    assert delivered["source"] == "trailguard"
    assert delivered["detail-type"] == "trailguard Alert"
    assert delivered["region"] == REGION
    assert delivered["detail"] == alert.document
    assert delivered["detail"]["accountAlias"] == "acme-management"
    assert delivered["detail"]["stackName"] == "trailguard"
    assert delivered["detail"]["dedupKey"].startswith("trailguard-")


def test_chat_topic_receives_a_custom_notification(world: World, event: Any) -> None:
    topic, queue = _chat_topic()
    world.apply_environment(CHAT_TOPIC_ARN=topic)
    hostile = fresh(event("stop_logging.json"), userAgent="<!channel> @here *pwned*")
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    world.invoke(FUNCTION, hostile)

    [alert] = world.drain_alerts()
    [envelope] = _bodies(queue)
    notification = json.loads(envelope["Message"])
    jsonschema.validate(notification, CHAT_SCHEMA)
    assert notification["metadata"]["threadId"] == alert.document["dedupKey"]
    assert "<!channel>" not in envelope["Message"] and "@here" not in envelope["Message"]
    assert "`\u2039!channel\u203a \uff20here *pwned*`" in notification["content"]["description"]


def test_security_hub_finding_is_imported_and_updated_by_the_next_repair(
    world: World, event: Any
) -> None:
    aws("securityhub").enable_security_hub()
    world.apply_environment(SECURITY_HUB_FINDINGS="true")

    _stop_and_repair(world, event)
    _stop_and_repair(world, event)

    assert len(world.drain_alerts()) == 2
    findings = aws("securityhub").get_findings()["Findings"]
    [finding] = findings  # one finding per drift: the second repair updated it
    assert finding["Id"].startswith("trailguard-")
    assert finding["ProductArn"].endswith(f":product/{ACCOUNT}/default")
    assert finding["Resources"][0]["Type"] == "AwsCloudTrailTrail"
    assert finding["Resources"][0]["Id"] == world.trail_arn
    assert finding["RecordState"] == "ARCHIVED"
    assert finding["Action"]["AwsApiCallAction"]["Api"] == "StopLogging"


def test_failing_destinations_never_block_the_alert_topic(
    world: World, event: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # No such bus, no such chat topic, and Security Hub refuses the finding.
    world.apply_environment(
        ALERT_EVENT_BUS="no-such-bus",
        CHAT_TOPIC_ARN=f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic",
        SECURITY_HUB_FINDINGS="true",
    )
    hub = clients.best_effort_client("securityhub", REGION)
    with Stubber(hub) as stubber:
        stubber.add_response(
            "batch_import_findings",
            {
                "FailedCount": 1,
                "SuccessCount": 0,
                "FailedFindings": [
                    {"Id": "x", "ErrorCode": "InvalidAccess", "ErrorMessage": "not subscribed"}
                ],
            },
        )
        _stop_and_repair(world, event)
        stubber.assert_no_pending_responses()

    assert world.is_logging()
    [alert] = world.drain_alerts()
    assert alert.outcome == "repaired"
    metrics = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    ]
    counted = {
        name: record[name]
        for record in metrics
        for name in record
        if name.startswith("AlertDestinationFailed_")
    }
    assert counted == {
        "AlertDestinationFailed_EventBridge": [1.0],
        "AlertDestinationFailed_Chat": [1.0],
        "AlertDestinationFailed_SecurityHub": [1.0],
    }


def test_refused_finding_is_a_failure_not_a_delivery() -> None:
    findings = SecurityHubFindings(REGION)
    hub = clients.best_effort_client("securityhub", REGION)
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": "trailguard-x",
        "ProductArn": f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default",
        "GeneratorId": "trailguard/I2",
        "AwsAccountId": ACCOUNT,
        "CreatedAt": "2026-12-01T10:00:00.000Z",
        "UpdatedAt": "2026-12-01T10:00:00.000Z",
        "Title": "t",
        "Description": "d",
        "Resources": [{"Type": "Other", "Id": "x"}],
    }
    with Stubber(hub) as stubber:
        stubber.add_response(
            "batch_import_findings",
            {"FailedCount": 0, "SuccessCount": 1, "FailedFindings": []},
            {"Findings": [finding]},
        )
        stubber.add_response(
            "batch_import_findings",
            {
                "FailedCount": 1,
                "SuccessCount": 0,
                "FailedFindings": [
                    {"Id": "trailguard-x", "ErrorCode": "InvalidInput", "ErrorMessage": "bad"}
                ],
            },
        )
        findings.import_finding(finding)
        with pytest.raises(AwsCallFailed) as refused:
            findings.import_finding(finding)

    assert refused.value.code == "InvalidInput"
    assert "Security Hub refused the finding" in refused.value.hint
