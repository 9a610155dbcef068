"""DynamoDB delivery ledger: at-least-once delivery in, one effect per eventID out.

A claim is one conditional PutItem, and it is the whole cost of a successful
delivery: the claim itself marks the event handled for its lease. A failed
invocation releases its claim so that the retry acts; a held alert replaces
it. Only an invocation killed mid-way (timeout) leaves a claim behind: its
event is not re-run before the lease ends, and meanwhile the scheduled
reconciler (every few minutes) repairs whatever it left. Items expire through
the table's TTL after the longest redelivery window (EventBridge: 24 h).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call
from trailguard.errors import AwsCallFailed
from trailguard.ports import Claim, LedgerEntry
from trailguard.render.sns import RenderedAlert

IAM_ACTIONS = frozenset({"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"})
# Duplicate deliveries arrive within seconds to minutes; a lease this long also
# outlasts Lambda's two async retries (about 1 and 3 minutes after a failure).
LEASE_SECONDS = 15 * 60
KEEP_SECONDS = 48 * 3600


class DynamoDeliveryLedger:
    def __init__(
        self, table_name: str, region: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._table = table_name
        self._region = region
        self._clock = clock

    def _client(self) -> Any:
        return clients.client("dynamodb", self._region)

    def _put(self, item: dict[str, Any], **condition: Any) -> None:
        call(
            "PutItem",
            "dynamodb:PutItem",
            self._client().put_item,
            TableName=self._table,
            Item=item,
            **condition,
        )

    def claim(self, key: str) -> LedgerEntry:
        now = int(self._clock())
        try:
            self._put(
                {
                    "pk": {"S": key},
                    "state": {"S": Claim.IN_PROGRESS.value},
                    "lease_until": {"N": str(now + LEASE_SECONDS)},
                    "expires_at": {"N": str(now + KEEP_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(pk) OR "
                "(#state = :in_progress AND lease_until < :now)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":in_progress": {"S": Claim.IN_PROGRESS.value},
                    ":now": {"N": str(now)},
                },
            )
            return LedgerEntry(Claim.NEW)
        except AwsCallFailed as exc:
            if exc.code != "ConditionalCheckFailedException":
                raise
        item = call(
            "GetItem",
            "dynamodb:GetItem",
            self._client().get_item,
            TableName=self._table,
            Key={"pk": {"S": key}},
            ConsistentRead=True,
        ).get("Item", {})
        state = Claim(item.get("state", {}).get("S", Claim.IN_PROGRESS.value))
        summary = json.loads(item.get("summary", {}).get("S", "{}"))
        pending = None
        if "alert" in item:
            document = json.loads(item["alert"]["S"])
            pending = RenderedAlert(
                document["subject"], document["message"], document["attributes"]
            )
        return LedgerEntry(state, summary, pending)

    def complete(self, key: str, summary: dict[str, Any]) -> None:
        self._put(self._final(key, Claim.DONE, summary))

    def hold_alert(self, key: str, rendered: RenderedAlert, summary: dict[str, Any]) -> None:
        item = self._final(key, Claim.ALERT_PENDING, summary)
        item["alert"] = {
            "S": json.dumps(
                {
                    "subject": rendered.subject,
                    "message": rendered.message,
                    "attributes": rendered.attributes,
                }
            )
        }
        self._put(item)

    def release(self, key: str) -> None:
        call(
            "DeleteItem",
            "dynamodb:DeleteItem",
            self._client().delete_item,
            TableName=self._table,
            Key={"pk": {"S": key}},
        )

    def _final(self, key: str, state: Claim, summary: dict[str, Any]) -> dict[str, Any]:
        return {
            "pk": {"S": key},
            "state": {"S": state.value},
            "summary": {"S": json.dumps(summary)[:50_000]},
            "expires_at": {"N": str(int(self._clock()) + KEEP_SECONDS)},
        }
