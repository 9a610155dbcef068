"""Small helpers for functional tests: boto3 clients on the moto world, fresh events."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

REGION = "us-east-1"


def aws(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def fresh(event: dict[str, Any], **detail: Any) -> dict[str, Any]:
    """A copy of a sample event as if just emitted: new eventID, eventTime now."""
    copied = copy.deepcopy(event)
    copied["detail"]["eventID"] = str(uuid.uuid4())
    copied["detail"]["eventTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    copied["detail"].update(detail)
    return copied
