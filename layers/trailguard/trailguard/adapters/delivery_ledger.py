"""DynamoDB delivery ledger: at-least-once delivery in, one effect per eventID out.

A claim is one conditional PutItem (or, when the event concerns a trail only if
its baseline exists, one TransactWriteItems that checks the baseline and claims
together), and it is the whole cost of a successful delivery: the claim itself
marks the event handled for its lease. A failed invocation releases its claim so
that the retry acts; a held alert replaces it. Only an invocation killed mid-way
(timeout) leaves a claim behind: its event is not re-run before the lease ends,
and meanwhile the scheduled reconciler (every few minutes) repairs whatever it
left. Items expire through
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
from trailguard.ports import Claim, LedgerEntry, Precondition
from trailguard.render.sns import RenderedAlert

IAM_ACTIONS = frozenset({"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"})
# TransactWriteItems is authorised per item: PutItem on the ledger (above), and this on
# the table a precondition names (the baseline table), for the functions that use one.
IAM_ACTIONS_PRECONDITION = frozenset({"dynamodb:ConditionCheckItem"})
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

    def _claim_item(self, key: str) -> dict[str, Any]:
        now = int(self._clock())
        return {
            "Item": {
                "pk": {"S": key},
                "state": {"S": Claim.IN_PROGRESS.value},
                "lease_until": {"N": str(now + LEASE_SECONDS)},
                "expires_at": {"N": str(now + KEEP_SECONDS)},
            },
            "ConditionExpression": "attribute_not_exists(pk) OR "
            "(#state = :in_progress AND lease_until < :now)",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {
                ":in_progress": {"S": Claim.IN_PROGRESS.value},
                ":now": {"N": str(now)},
            },
        }

    def claim(self, key: str, precondition: Precondition | None = None) -> LedgerEntry:
        if precondition is not None:
            return self._claim_if(key, precondition)
        try:
            claim = self._claim_item(key)
            self._put(claim.pop("Item"), **claim)
            return LedgerEntry(Claim.NEW)
        except AwsCallFailed as exc:
            if exc.code != "ConditionalCheckFailedException":
                raise
        return self._entry(key)

    def _claim_if(self, key: str, precondition: Precondition) -> LedgerEntry:
        """Check the precondition's item and claim in one transaction."""
        claim = self._claim_item(key)
        try:
            call(
                "TransactWriteItems",
                "dynamodb:PutItem",
                self._client().transact_write_items,
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": precondition.table,
                            "Key": precondition.key,
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {"Put": {"TableName": self._table, **claim}},
                ],
            )
        except AwsCallFailed as exc:
            if exc.code != "TransactionCanceledException":
                raise
            # One reason per item, in order: which condition failed.
            reasons = getattr(exc.__cause__, "response", {}).get("CancellationReasons", [])
            codes = [str(r.get("Code", "None")) for r in reasons]
            if len(codes) != 2:
                raise
            if codes[0] == "ConditionalCheckFailed":
                precondition.answer(False)
                return LedgerEntry(Claim.NEW)  # nothing claimed: nothing to protect
            precondition.answer(True)
            if codes[1] != "ConditionalCheckFailed":
                raise
            return self._entry(key)
        precondition.answer(True)
        return LedgerEntry(Claim.NEW)

    def _entry(self, key: str) -> LedgerEntry:
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
