"""The witness: trailguard's out-of-band observer, in a separate audit account.

It receives, on its own event bus, every alert trailguard publishes and a
heartbeat from each reconciler run. It alerts its own topic when:
- a heartbeat reports an invariant broken (or the run failed);
- a self-tampering alert or any CRITICAL alert arrives (the management
  account's topic may be the very thing that was silenced);
and counts each heartbeat in a metric whose alarm (template.yaml) fires when
heartbeats stop: trailguard deleted, disabled, throttled or cut off.

Deliberately standalone: boto3 and the standard library only, nothing from the
management account's code. Everything in an event is data from another account:
it is validated, and only ever placed into JSON; the subject is the witness's
own words.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import boto3

logger = logging.getLogger("trailguard-witness")
logger.setLevel(logging.INFO)

SOURCE = "trailguard"
ALERT = "trailguard alert"
HEARTBEAT = "trailguard heartbeat"
SELF_TAMPERING = "trailguard's own resources"
SEVERITIES = ("INFO", "WARNING", "HIGH", "CRITICAL")
METRIC_NAMESPACE = "trailguard-witness"
METRIC_NAME = "Heartbeat"
_MAX_EVENT = 256 * 1024


def _client(service: str) -> Any:
    return boto3.client(service, region_name=os.environ.get("AWS_REGION", "us-east-1"))


def _config() -> tuple[str, str]:
    account = os.environ.get("TRAILGUARD_ACCOUNT_ID", "")
    topic = os.environ.get("WITNESS_TOPIC_ARN", "")
    if len(account) != 12 or not account.isdigit() or not topic.startswith("arn:"):
        raise RuntimeError("TRAILGUARD_ACCOUNT_ID and WITNESS_TOPIC_ARN must be set")
    return account, topic


def _reject(reason: str) -> dict[str, Any]:
    logger.warning("event rejected: %s", reason)
    return {"outcome": "rejected", "reason": reason}


def _publish(topic: str, subject: str, reason: str, event: dict[str, Any]) -> str:
    message = json.dumps(
        {
            "schema": "trailguard.witness/1",
            "reason": reason,
            "from": {"account": event.get("account"), "region": event.get("region")},
            "received": event.get("detail"),
        },
        sort_keys=True,
        default=str,
    )
    response = _client("sns").publish(TopicArn=topic, Subject=subject[:100], Message=message)
    return str(response.get("MessageId", ""))


def _heartbeat(account: str, topic: str, event: dict[str, Any]) -> dict[str, Any]:
    detail = event["detail"]
    _client("cloudwatch").put_metric_data(
        Namespace=METRIC_NAMESPACE,
        MetricData=[
            {
                "MetricName": METRIC_NAME,
                "Dimensions": [{"Name": "Account", "Value": account}],
                "Value": 1,
                "Unit": "Count",
            }
        ],
    )
    invariants = detail.get("invariants")
    broken = [
        i
        for i in (invariants if isinstance(invariants, list) else [])
        if isinstance(i, dict) and i.get("status") == "broken"
    ]
    if detail.get("healthy") is True and not broken:
        return {"outcome": "heartbeat"}
    reason = (
        f"trailguard reports {len(broken)} invariant(s) broken"
        if broken
        else ("trailguard's reconciler reports a failed run")
    )
    message_id = _publish(topic, "[trailguard witness] CRITICAL: invariant broken", reason, event)
    return {"outcome": "alerted", "reason": reason, "messageId": message_id}


def _alert(topic: str, event: dict[str, Any]) -> dict[str, Any]:
    detail = event["detail"]
    severity = detail.get("severity")
    if severity not in SEVERITIES:
        return _reject("alert without a known severity")
    self_tampering = detail.get("invariant") == SELF_TAMPERING
    if severity != "CRITICAL" and not self_tampering:
        return {"outcome": "ignored"}
    what = "trailguard tampered with" if self_tampering else "CRITICAL from trailguard"
    reason = f"{what}: {severity} alert received out of band"
    subject = f"[trailguard witness] {severity}: {what}"
    return {
        "outcome": "alerted",
        "reason": reason,
        "messageId": _publish(topic, subject, reason, event),
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    account, topic = _config()
    if not isinstance(event, dict) or len(json.dumps(event, default=str)) > _MAX_EVENT:
        return _reject("not an EventBridge event")
    if event.get("source") != SOURCE:
        return _reject("source is not trailguard")
    # The bus policy admits only trailguard's account; the rules match only it; and
    # EventBridge, not the sender, writes `account`. Checked again all the same.
    if event.get("account") != account:
        return _reject("event from an account other than trailguard's")
    if not isinstance(event.get("detail"), dict):
        return _reject("detail is not an object")
    if event.get("detail-type") == HEARTBEAT:
        return _heartbeat(account, topic, event)
    if event.get("detail-type") == ALERT:
        return _alert(topic, event)
    return _reject("detail-type is neither an alert nor a heartbeat")
