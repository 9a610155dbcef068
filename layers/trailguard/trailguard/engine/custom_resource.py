"""Answering CloudFormation custom resource requests (the deploy-time capture)."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

logger = logging.getLogger("trailguard")


def is_custom_resource_request(event: object) -> bool:
    return isinstance(event, dict) and "RequestType" in event and "ResponseURL" in event


def respond(
    event: Mapping[str, Any],
    status: str,
    reason: str,
    data: Mapping[str, Any],
    physical_id: str,
) -> None:
    url = str(event["ResponseURL"])
    if urlparse(url).scheme != "https":
        raise ValueError("ResponseURL is not https")
    body = json.dumps(
        {
            "Status": status,
            # CloudFormation shows Reason in the console; it must stay short.
            "Reason": reason[:400],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": False,
            "Data": dict(data),
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (https checked)
        logger.info("custom resource answered", extra={"status": status, "http": response.status})
