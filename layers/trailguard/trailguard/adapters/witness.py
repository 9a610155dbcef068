"""The witness (companions/witness): every alert and every heartbeat, out of band.

The witness is a bus in another account (an audit account) whose policy admits
only trailguard's account. Nothing in the management account can keep it from
noticing: silence the topic, and the alerts still reach the witness; stop
trailguard, and the heartbeats stop, which the witness alarms on.

A witness that cannot be reached never stops an alert to the topic: the failure
is logged and the topic publish goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from trailguard.adapters.events import put_events
from trailguard.domain.alerts import Alert
from trailguard.errors import AwsCallFailed
from trailguard.ports import AlertSink
from trailguard.render.document import alert_document
from trailguard.render.sns import RenderedAlert

logger = logging.getLogger("trailguard")

SOURCE = "trailguard"
ALERT = "trailguard alert"
HEARTBEAT = "trailguard heartbeat"


def tell_witness(bus_arn: str, detail_type: str, detail: Mapping[str, Any]) -> bool:
    """Put one event on the witness bus; False (logged) when it could not."""
    try:
        put_events(bus_arn, SOURCE, detail_type, detail)
    except AwsCallFailed as exc:
        logger.warning("witness not reached", extra={"detail_type": detail_type, "error": str(exc)})
        return False
    return True


class WitnessAlertSink:
    """The topic's sink, with every alert also sent to the witness bus."""

    def __init__(self, topic: AlertSink, bus_arn: str, stack_name: str = "") -> None:
        self._topic = topic
        self._bus_arn = bus_arn
        self._stack_name = stack_name
        self.witnessed = 0  # alerts the witness bus accepted (for the logs and tests)

    def publish(self, alert: Alert) -> str:
        # The topic first, so that a slow or unreachable witness never delays on-call;
        # the witness in any case, also when the topic refused (that is what it is for).
        try:
            return self._topic.publish(alert)
        finally:
            document = {**alert_document(alert), "stack": self._stack_name}
            if tell_witness(self._bus_arn, ALERT, document):
                self.witnessed += 1

    def publish_rendered(self, rendered: RenderedAlert) -> str:
        # A held alert delivered on retry: the witness heard it the first time.
        return self._topic.publish_rendered(rendered)
