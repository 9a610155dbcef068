"""SNS adapter: publishes rendered alerts to the stack's topic, and chat notifications
to the chat topic that Amazon Q Developer in chat applications reads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call
from trailguard.domain.alerts import Alert
from trailguard.errors import AlertNotDelivered, AwsCallFailed
from trailguard.render.fallback import render_safely
from trailguard.render.sns import RenderedAlert

IAM_ACTIONS = frozenset({"sns:Publish"})


class SnsAlertSink:
    def __init__(self, topic_arn: str) -> None:
        self._topic_arn = topic_arn
        self._region = topic_arn.split(":")[3]

    def _client(self) -> Any:
        return clients.client("sns", self._region)

    def publish(self, alert: Alert) -> str:
        return self.publish_rendered(render_safely(alert))

    def publish_rendered(self, rendered: RenderedAlert) -> str:
        try:
            response = call(
                "Publish",
                "sns:Publish",
                self._client().publish,
                TopicArn=self._topic_arn,
                Subject=rendered.subject,
                Message=rendered.message,
                MessageStructure="json",
                MessageAttributes=rendered.attributes,
            )
        except AwsCallFailed as exc:
            raise AlertNotDelivered(f"{exc} ({exc.hint})", rendered) from exc
        return str(response.get("MessageId", ""))


class SnsChatTopic:
    """The optional chat topic: its messages are custom notifications (render/chat.py)."""

    def __init__(self, topic_arn: str) -> None:
        self._topic_arn = topic_arn
        self._region = topic_arn.split(":")[3]

    def publish_notification(self, notification: Mapping[str, Any]) -> str:
        response = call(
            "Publish",
            "sns:Publish",
            # An optional destination: bounded retries and timeouts (clients.py).
            clients.best_effort_client("sns", self._region).publish,
            TopicArn=self._topic_arn,
            Message=json.dumps(dict(notification), ensure_ascii=False),
        )
        return str(response.get("MessageId", ""))
