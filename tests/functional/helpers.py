"""Small helpers for functional tests: clients on the moto world, fresh events."""

from __future__ import annotations

from typing import Any

from drill.events import now, renewed
from drill.world import REGION, aws_client


def aws(service: str) -> Any:
    return aws_client(service, REGION)


def fresh(event: dict[str, Any], **detail: Any) -> dict[str, Any]:
    """A copy of a sample event as if just emitted (new eventID, eventTime now),
    with `detail` fields replaced."""
    copied = renewed(event, now())
    copied["detail"].update(detail)
    return copied
