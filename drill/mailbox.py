"""The e-mail text of an alert, as trailguard published it (`python -m drill --email`).

trailguard publishes each alert with MessageStructure=json: one text for `email`
subscribers, a JSON document for `sqs` and the others. The drill's on-call queue
receives the document; the e-mail text is read back from what the topic was sent
(moto keeps every message published to a topic), never rendered by the drill.
"""

from __future__ import annotations

import json
from typing import Any

from drill.world import ACCOUNT, REGION, DeliveredAlert


def _published() -> list[tuple[str | None, dict[str, Any]]]:
    """(subject, message by protocol) of every message published in the world."""
    from moto.sns.models import sns_backends

    published = []
    for topic in sns_backends[ACCOUNT][REGION].topics.values():
        for _, message, subject, _, _ in topic.sent_notifications:
            try:
                structured = json.loads(message)
            except ValueError:
                continue
            if isinstance(structured, dict):
                published.append((subject, structured))
    return published


def email_text(alert: DeliveredAlert) -> tuple[str, str] | None:
    """(subject, body) of the e-mail sent with this alert; None when it is not found."""
    for subject, structured in _published():
        try:
            document = json.loads(structured.get("sqs") or structured.get("default") or "")
        except (TypeError, ValueError):
            continue
        if document == alert.document:
            return subject or "", str(structured.get("email") or structured.get("default"))
    return None
