"""EventBridge adapter: PutEvents of one custom event to a bus (by name or ARN).

Used to send alerts and heartbeats to the witness bus in another account
(companions/witness), and by any destination that wants the default bus.

PutEvents answers HTTP 200 even when it refused the entry: the refusal is in
`FailedEntryCount` and the entry's `ErrorCode`. That case is raised as
AwsCallFailed too, or a refused event would pass for a delivered one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call
from trailguard.errors import AwsCallFailed

IAM_ACTIONS = frozenset({"events:PutEvents"})

# EventBridge refuses an entry larger than 256 KB (EventBridge User Guide,
# "Calculating PutEvents event entry size"); stay well inside it.
MAX_DETAIL_BYTES = 200 * 1024


def bus_region(bus: str, default: str) -> str:
    """The region of a bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>),
    else `default` for a bus given by name."""
    parts = bus.split(":")
    if bus.startswith("arn:") and len(parts) >= 6 and parts[3]:
        return parts[3]
    return default


def put_events(
    bus: str,
    source: str,
    detail_type: str,
    detail: Mapping[str, Any],
    region: str = "us-east-1",
) -> str:
    """Put one event on `bus` (a name, or an ARN, also of another account's bus).

    `region` is used when `bus` is a name; an ARN names its own region.
    Returns the EventId; raises AwsCallFailed when AWS refused the call or the entry.
    """
    body = json.dumps(dict(detail), sort_keys=True, default=str)
    if len(body.encode()) > MAX_DETAIL_BYTES:
        raise AwsCallFailed(
            "PutEvents",
            "DetailTooLarge",
            f"{len(body.encode())} bytes",
            "the event is larger than EventBridge accepts: send a shorter detail",
        )
    client = clients.client("events", bus_region(bus, region))
    response = call(
        "PutEvents",
        "events:PutEvents",
        client.put_events,
        Entries=[
            {"EventBusName": bus, "Source": source, "DetailType": detail_type, "Detail": body}
        ],
    )
    entries = response.get("Entries") or [{}]
    entry = entries[0]
    if response.get("FailedEntryCount") or entry.get("ErrorCode") or not entry.get("EventId"):
        code = str(entry.get("ErrorCode") or "FailedEntry")
        raise AwsCallFailed(
            "PutEvents",
            code,
            str(entry.get("ErrorMessage", ""))[:300],
            f"EventBridge refused the event ({code}): check that the bus exists and that "
            "its policy admits this account",
        )
    return str(entry["EventId"])
