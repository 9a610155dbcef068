"""The witness companion (companions/witness) deployed in the audit account of the
moto world, and its rules played the way EventBridge would play them.

What is deployed comes from companions/witness/template.yaml: the bus, its policy
(trailguard's account only), the topic with an SQS subscriber standing for the
security team, and the function's rules with their patterns. moto does not invoke
Lambda targets, so a tap rule copies every event that reaches the bus to an inbox
queue; `deliver_pending()` then matches each one against the template's rules and
runs the witness's handler for every rule that matches, as drill.routing does for
trailguard's own rules.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from drill.patterns import matches
from drill.template import ROOT, load_template
from drill.world import ACCOUNT, AUDIT_ACCOUNT, REGION, aws_client

TEMPLATE = ROOT / "companions" / "witness" / "template.yaml"
HANDLER = ROOT / "companions" / "witness" / "function" / "app.py"


@contextmanager
def as_account(account: str) -> Iterator[None]:
    """Calls made inside are made in `account` (moto reads MOTO_ACCOUNT_ID per request)."""
    saved = os.environ.get("MOTO_ACCOUNT_ID")
    os.environ["MOTO_ACCOUNT_ID"] = account
    try:
        yield
    finally:
        if saved is None:
            del os.environ["MOTO_ACCOUNT_ID"]
        else:
            os.environ["MOTO_ACCOUNT_ID"] = saved


def witness_template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def _substitute(value: Any, names: dict[str, str]) -> Any:
    """The few intrinsics the witness's patterns and policy use, resolved."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return names[arg]
        if key == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            for name, resolved in names.items():
                text = text.replace("${" + name + "}", resolved)
            return text
        if key == "Fn::GetAtt":
            return names[".".join(arg)]
    if isinstance(value, dict):
        return {k: _substitute(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, names) for v in value]
    return value


def witness_rules(names: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each rule of the witness function: rule id -> its pattern, resolved."""
    function = witness_template()["Resources"]["WitnessFunction"]["Properties"]
    return {
        rule_id: _substitute(event["Properties"]["Pattern"], names)
        for rule_id, event in function["Events"].items()
        if event["Type"] == "EventBridgeRule"
    }


def handler_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trailguard_witness_app", HANDLER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Witnessed:
    """What the witness did with one event, and what its topic delivered."""

    rule_id: str
    outcome: str
    event: dict[str, Any]
    subject: str = ""
    message: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        """ "CRITICAL repaired" for an alert the witness passed on, "heartbeat broken" ..."""
        detail = self.event.get("detail", {})
        if self.event.get("detail-type") == "trailguard heartbeat":
            return "heartbeat " + ("healthy" if detail.get("healthy") else "broken")
        return f"{detail.get('severity')} {detail.get('outcome')}"


class Witness:
    """The witness stack in the audit account, deployed from its template."""

    def __init__(self, trailguard_account: str = ACCOUNT, bus_name: str = "") -> None:
        template = witness_template()
        self.bus_name = bus_name or str(template["Parameters"]["BusName"]["Default"])
        self.bus_arn = f"arn:aws:events:{REGION}:{AUDIT_ACCOUNT}:event-bus/{self.bus_name}"
        self.trailguard_account = trailguard_account
        self._names = {
            "TrailguardAccountId": trailguard_account,
            "TrailguardStackName": str(template["Parameters"]["TrailguardStackName"]["Default"]),
            "AWS::Partition": "aws",
            "AWS::AccountId": AUDIT_ACCOUNT,
            "AWS::Region": REGION,
            "WitnessBus": self.bus_name,
            "WitnessBus.Arn": self.bus_arn,
        }
        self._handler = handler_module()
        with as_account(AUDIT_ACCOUNT):
            events = aws_client("events")
            events.create_event_bus(Name=self.bus_name)
            statement = _substitute(
                template["Resources"]["WitnessBusPolicy"]["Properties"]["Statement"], self._names
            )
            statement["Sid"] = template["Resources"]["WitnessBusPolicy"]["Properties"][
                "StatementId"
            ]
            events.put_permission(
                EventBusName=self.bus_name,
                Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
            )
            key = aws_client("kms").create_key(Description="trailguard witness")["KeyMetadata"]
            self.topic_arn = aws_client("sns").create_topic(
                Name="trailguard-witness-WitnessTopic-EXAMPLE",
                Attributes={"KmsMasterKeyId": key["KeyId"]},
            )["TopicArn"]
            sqs = aws_client("sqs")
            self.on_call_url = sqs.create_queue(QueueName="security-team")["QueueUrl"]
            aws_client("sns").subscribe(
                TopicArn=self.topic_arn, Protocol="sqs", Endpoint=self._arn(self.on_call_url)
            )
            self.inbox_url = sqs.create_queue(QueueName="witness-bus-tap")["QueueUrl"]
            events.put_rule(
                Name="drill-tap",
                EventBusName=self.bus_name,
                EventPattern=json.dumps({"source": [{"prefix": ""}]}),
                State="ENABLED",
            )
            events.put_targets(
                Rule="drill-tap",
                EventBusName=self.bus_name,
                Targets=[
                    {
                        "Id": "inbox",
                        "Arn": self._arn(self.inbox_url),
                        # The whole event, `account` included (moto's default input drops it).
                        "InputTransformer": {
                            "InputPathsMap": {},
                            "InputTemplate": "<aws.events.event.json>",
                        },
                    }
                ],
            )

    @staticmethod
    def _arn(url: str) -> str:
        attributes = aws_client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"]
        )
        return str(attributes["Attributes"]["QueueArn"])

    def _take(self, url: str) -> list[dict[str, Any]]:
        sqs = aws_client("sqs")
        taken: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return taken
            for message in batch:
                taken.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def _invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        saved = {k: os.environ.get(k) for k in ("TRAILGUARD_ACCOUNT_ID", "WITNESS_TOPIC_ARN")}
        os.environ["TRAILGUARD_ACCOUNT_ID"] = self.trailguard_account
        os.environ["WITNESS_TOPIC_ARN"] = self.topic_arn
        try:
            return dict(self._handler.handler(event, None))
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def deliver_pending(self) -> list[Witnessed]:
        """Play every event that reached the bus through the witness's rules."""
        played: list[Witnessed] = []
        with as_account(AUDIT_ACCOUNT):
            rules = witness_rules(self._names)
            for event in self._take(self.inbox_url):
                for rule_id, pattern in rules.items():
                    if matches(pattern, event):
                        outcome = str(self._invoke(event).get("outcome", "?"))
                        played.append(Witnessed(rule_id, outcome, event))
            delivered = self._take(self.on_call_url)
        # Pair what the topic delivered with the events that made the witness alert.
        alerted = [w for w in played if w.outcome == "alerted"]
        return [
            Witnessed(w.rule_id, w.outcome, w.event, m.get("Subject", ""), json.loads(m["Message"]))
            for w, m in zip(alerted, delivered, strict=True)
        ] + [w for w in played if w.outcome != "alerted"]

    def heartbeats(self) -> float:
        """The heartbeat metric's sum, as the witness's alarm reads it."""
        from datetime import UTC, datetime, timedelta

        with as_account(AUDIT_ACCOUNT):
            end = datetime.now(UTC) + timedelta(minutes=1)
            points = aws_client("cloudwatch").get_metric_statistics(
                Namespace="trailguard-witness",
                MetricName="Heartbeat",
                Dimensions=[{"Name": "Account", "Value": self.trailguard_account}],
                StartTime=end - timedelta(hours=1),
                EndTime=end,
                Period=3600,
                Statistics=["Sum"],
            )["Datapoints"]
        return float(sum(p["Sum"] for p in points))
