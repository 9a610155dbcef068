"""Corroborating an event: is it in CloudTrail Event history (LookupEvents by EventId)?

Anyone who may invoke a trailguard function can hand it a made-up event. Event
history is written by CloudTrail itself, for every management event of the
account and region, kept 90 days: an event that is not there was not made. What
trailguard then trusts is the record, not the event it was handed: its name, its
caller (userIdentity of the CloudTrailEvent) and its errorCode.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call
from trailguard.domain.text import clean_text
from trailguard.ports import RecordedEvent

IAM_ACTIONS_READ = frozenset({"cloudtrail:LookupEvents"})
RETENTION = timedelta(days=90)  # how far back Event history goes


def recorded_event(structure: Mapping[str, Any]) -> RecordedEvent | None:
    """The RecordedEvent of one Event structure of a LookupEvents response."""
    try:
        record = json.loads(str(structure.get("CloudTrailEvent") or ""))
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    found = record.get("userIdentity")
    identity: dict[str, Any] = found if isinstance(found, dict) else {}
    context = identity.get("sessionContext")
    issuer = context.get("sessionIssuer") if isinstance(context, dict) else None
    issuer_arn = issuer.get("arn") if isinstance(issuer, dict) else None
    return RecordedEvent(
        event_id=clean_text(structure.get("EventId"), 64),
        event_name=clean_text(structure.get("EventName") or record.get("eventName"), 64),
        principal_arn=clean_text(issuer_arn or identity.get("arn"), 512),
        error_code=clean_text(record.get("errorCode"), 128),
    )


class EventRecordsGateway:
    def find(self, event_id: str, region: str) -> RecordedEvent | None:
        end = datetime.now(UTC)
        response = call(
            "LookupEvents",
            "cloudtrail:LookupEvents",
            clients.client("cloudtrail", region).lookup_events,
            LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": event_id}],
            StartTime=end - RETENTION,
            EndTime=end,
            MaxResults=1,
        )
        for structure in response.get("Events", []):
            found = recorded_event(structure)
            if found is not None and found.event_id == event_id:
                return found
        return None
