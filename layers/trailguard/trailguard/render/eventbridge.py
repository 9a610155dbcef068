"""The alert as an EventBridge event on the account's default bus.

`source` trailguard, `detail-type` "trailguard Alert", `detail` the alert document
(trailguard.alert/1), so that ticketing, SOAR and other automation subscribe with a
pattern such as {"source": ["trailguard"], "detail": {"severity": ["CRITICAL"]}}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trailguard.domain.alerts import Alert
from trailguard.render.document import alert_document

SOURCE = "trailguard"
DETAIL_TYPE = "trailguard Alert"
DEFAULT_BUS = "default"


@dataclass(frozen=True)
class AlertEvent:
    source: str
    detail_type: str
    detail: dict[str, Any]

    def entry(self, bus: str = DEFAULT_BUS) -> dict[str, Any]:
        """As a PutEvents entry would carry it (Detail is then JSON text)."""
        return {
            "EventBusName": bus,
            "Source": self.source,
            "DetailType": self.detail_type,
            "Detail": self.detail,
        }


def alert_event(alert: Alert) -> AlertEvent:
    return AlertEvent(SOURCE, DETAIL_TYPE, alert_document(alert))


def event_pattern() -> dict[str, Any]:
    """The pattern a subscriber's rule uses to receive every trailguard alert."""
    return {"source": [SOURCE], "detail-type": [DETAIL_TYPE]}
