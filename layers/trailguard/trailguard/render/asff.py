"""The alert as an AWS Security Hub finding (ASFF, schema 2018-10-08) for BatchImportFindings.

- One finding per drift: the `Id` is the alert's dedup key (account, region, resource,
  invariant), so a repeat of the same drift, and its repair, update the same finding
  instead of adding new ones. An alert about one call that changed nothing (a refused
  attempt, an allow-listed change) gets a finding of its own, keyed by its event id.
- A repaired drift archives its finding (`RecordState` ARCHIVED, `Workflow.Status`
  RESOLVED). After a finding exists, BatchImportFindings cannot change its Workflow
  (Security Hub User Guide, "BatchImportFindings for finding providers"); the record
  state carries the repair, and a drift that comes back makes the finding ACTIVE again,
  which Security Hub answers by setting its workflow back to NEW.
- Severity and Types go in `FindingProviderFields` too: Security Hub takes a provider's
  later changes to them from there, never from the top-level fields.

The finding is data, not markup: values are shown as they are, within ASFF's lengths.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from trailguard.domain.alerts import Alert, Outcome, Severity
from trailguard.render import content

SCHEMA_VERSION = "2018-10-08"
SEVERITY_LABELS = {
    Severity.INFO: "INFORMATIONAL",
    Severity.WARNING: "MEDIUM",
    Severity.HIGH: "HIGH",
    Severity.CRITICAL: "CRITICAL",
}
_RESOLVED = (Outcome.REPAIRED, Outcome.IN_SYNC)
_NOT_ATTACKS = (Outcome.ALLOWED, Outcome.NOTICE)
_CONFIGURATION_CHANGE = (
    "Software and Configuration Checks/AWS Security Best Practices/Configuration change"
)
# ASFF limits (AwsSecurityFinding): Title 256, Description 1024, Recommendation.Text 512.
_TITLE, _DESCRIPTION, _RECOMMENDATION = 256, 1024, 512
_SERVICE_LINKED_ROLE_PATH = "role/aws-service-role/cloudtrail.amazonaws.com/"


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def product_arn(region: str, account_id: str) -> str:
    """The account's own product: findings a customer imports into its own hub."""
    partition = partition_of(region)
    return f"arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default"


def finding_id(alert: Alert) -> str:
    key = content.dedup_key(alert)
    if content.is_drift(alert) or alert.event is None:
        return key
    return f"{key}/{alert.event.event_id}"


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _generator(alert: Alert) -> str:
    head = alert.invariant.split(" ", 1)[0]
    code = head if head[:1] == "I" and head[1:].isdigit() else "self-protection"
    return f"trailguard/{code}"


def _types(alert: Alert) -> list[str]:
    if alert.outcome in _NOT_ATTACKS:
        return [_CONFIGURATION_CHANGE]
    return [f"TTPs/{content.technique(alert).tactic}/{content.technique(alert).name}"]


def _resource(alert: Alert, partition: str) -> dict[str, Any]:
    resource, region = alert.resource, alert.region
    if ":trail/" in resource:
        kind, identifier = "AwsCloudTrailTrail", resource
    elif resource.endswith("AWSServiceRoleForCloudTrail"):
        kind = "AwsIamRole"
        identifier = (
            f"arn:{partition}:iam::{alert.account_id}:{_SERVICE_LINKED_ROLE_PATH}"
            "AWSServiceRoleForCloudTrail"
        )
    elif resource == "cloudtrail.amazonaws.com":  # trusted access is a setting of the org
        kind, identifier = "AwsAccount", f"AWS::::Account:{alert.account_id}"
    else:
        kind, identifier = "Other", resource or "unknown"
    return {
        "Type": kind,
        "Id": _cut(identifier, 512),
        "Partition": partition,
        "Region": region,
        "Details": {"Other": {"trailguardInvariant": _cut(alert.invariant, 1024)}},
    }


def _action(alert: Alert) -> dict[str, Any] | None:
    event = alert.event
    if event is None:
        return None
    call: dict[str, Any] = {
        "Api": event.event_name,
        "ServiceName": event.event_source,
        "FirstSeen": _timestamp(event.event_time),
        "LastSeen": _timestamp(event.event_time),
    }
    try:
        address = ipaddress.ip_address(event.source_ip)
    except ValueError:
        address = None
    if isinstance(address, ipaddress.IPv4Address):
        call["CallerType"] = "remoteip"
        call["RemoteIpDetails"] = {"IpAddressV4": str(address)}
    elif address is None and event.source_ip.endswith(".amazonaws.com"):
        # An AWS service calling on someone's behalf names itself, not an address.
        call["CallerType"] = "domain"
        call["DomainDetails"] = {"Domain": event.source_ip}
    return {"ActionType": "AWS_API_CALL", "AwsApiCallAction": call}


def _description(alert: Alert) -> str:
    event = alert.event
    parts: list[str] = []
    if event is not None:
        parts.append(
            f"{event.event_source} {event.event_name}"
            + (f" (failed: {event.error_code})" if event.error_code else "")
            + f" by {event.principal.describe()} from {event.source_ip}."
        )
    else:
        parts.append(f"Drift found by the {alert.detected_by} check.")
    parts.append(f"{alert.headline}: {alert.invariant} on {alert.resource}.")
    if alert.actions:
        parts.append(
            "trailguard did: "
            + "; ".join(f"{a.call} {a.target}: {a.result}" for a in alert.actions)
            + "."
        )
    if alert.verification:
        parts.append(f"Verification: {alert.verification}.")
    if alert.seconds_to_repair is not None:
        parts.append(f"Event to repair: {alert.seconds_to_repair:.1f} s.")
    return _cut(" ".join(parts), _DESCRIPTION)


def asff_finding(alert: Alert, region: str, updated_at: datetime) -> dict[str, Any]:
    """The finding for BatchImportFindings in `region` (where trailguard runs)."""
    partition = partition_of(region)
    severity = {"Label": SEVERITY_LABELS[alert.severity], "Original": alert.severity.value}
    types = _types(alert)
    observed = alert.event.event_time if alert.event is not None else updated_at
    resolved = alert.outcome in _RESOLVED
    technique = content.technique(alert)
    steps = content.next_steps(alert)
    links = content.links(alert)
    finding: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(alert),
        "ProductArn": product_arn(region, alert.account_id),
        "GeneratorId": _generator(alert),
        "AwsAccountId": alert.account_id,
        "Types": types,
        "CreatedAt": _timestamp(observed),
        "UpdatedAt": _timestamp(updated_at),
        "FirstObservedAt": _timestamp(observed),
        "LastObservedAt": _timestamp(observed),
        "Severity": severity,
        "FindingProviderFields": {"Severity": severity, "Types": types},
        "Title": _cut(
            f"trailguard {alert.severity.value}: {alert.headline} "
            f"({content.short_resource(alert)})",
            _TITLE,
        ),
        "Description": _description(alert),
        "Remediation": {
            "Recommendation": {
                "Text": _cut(" ".join(steps) or "No action needed.", _RECOMMENDATION),
                "Url": links.get("eventHistory") or technique.url,
            }
        },
        "ProductFields": {
            "trailguard/dedupKey": content.dedup_key(alert),
            "trailguard/outcome": alert.outcome.value,
            "trailguard/invariant": _cut(alert.invariant, 2048),
            "trailguard/technique": technique.id,
            "trailguard/stack": alert.context.stack_name or "-",
        },
        "Resources": [_resource(alert, partition)],
        "Workflow": {"Status": "RESOLVED" if resolved else "NEW"},
        "RecordState": "ARCHIVED" if resolved else "ACTIVE",
    }
    if links.get("eventHistory"):
        finding["SourceUrl"] = links["eventHistory"]
    action = _action(alert)
    if action is not None:
        finding["Action"] = action
    return finding
