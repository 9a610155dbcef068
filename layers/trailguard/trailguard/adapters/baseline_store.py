"""DynamoDB baseline store.

One item per protected trail holds the current baseline (sk = CURRENT); every
capture also writes an immutable history item (sk = V#<captured_at>) so that
operators can see what the baseline was and who changed it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call
from trailguard.domain.trails import TrailBaseline, TrailRef, TrailSnapshot
from trailguard.ports import Precondition

IAM_ACTIONS_READ = frozenset({"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"})
IAM_ACTIONS_WRITE = frozenset({"dynamodb:PutItem"})
CURRENT = "CURRENT"


def _item(baseline: TrailBaseline, sort_key: str) -> dict[str, Any]:
    return {
        "pk": {"S": baseline.ref.arn},
        "sk": {"S": sort_key},
        "trail_name": {"S": baseline.ref.name},
        "home_region": {"S": baseline.ref.region},
        "snapshot": {"S": baseline.snapshot.to_json()},
        "captured_at": {"S": baseline.captured_at},
        "captured_by": {"S": baseline.captured_by},
        "reason": {"S": baseline.reason},
    }


def _baseline(item: dict[str, Any]) -> TrailBaseline:
    return TrailBaseline(
        snapshot=TrailSnapshot.from_json(item["snapshot"]["S"]),
        captured_at=item["captured_at"]["S"],
        captured_by=item["captured_by"]["S"],
        reason=item.get("reason", {}).get("S", ""),
    )


# How long "this trail has a baseline" is remembered in an execution environment.
# Baselines are created rarely and deliberately; a new one is seen within this time,
# and the scheduled reconciler reads the table itself on every run.
PROTECTED_TTL_SECONDS = 300.0


class DynamoBaselineStore:
    def __init__(
        self, table_name: str, region: str, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._table = table_name
        self._region = region
        self._monotonic = monotonic
        self._known: dict[str, tuple[float, bool]] = {}

    def _client(self) -> Any:
        return clients.client("dynamodb", self._region)

    def get(self, ref: TrailRef) -> TrailBaseline | None:
        response = call(
            "GetItem",
            "dynamodb:GetItem",
            self._client().get_item,
            TableName=self._table,
            Key={"pk": {"S": ref.arn}, "sk": {"S": CURRENT}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        self._remember(ref, item is not None)  # a fresh read also answers has_baseline
        return _baseline(item) if item else None

    def _remembered(self, ref: TrailRef) -> bool | None:
        seen = self._known.get(ref.arn)
        if seen is not None and self._monotonic() - seen[0] < PROTECTED_TTL_SECONDS:
            return seen[1]
        return None

    def _remember(self, ref: TrailRef, answer: bool) -> None:
        self._known[ref.arn] = (self._monotonic(), answer)

    def has_baseline(self, ref: TrailRef) -> bool:
        """Whether `ref` has a baseline; remembered for a while to spare a read per event."""
        answer = self._remembered(ref)
        if answer is None:
            answer = self.get(ref) is not None
            self._remember(ref, answer)
        return answer

    def existence_check(self, ref: TrailRef) -> Precondition | None:
        """The check "`ref` has a baseline" for the ledger to make with its claim, or None
        when this environment already knows the answer."""
        if self._remembered(ref) is not None:
            return None
        return Precondition(
            table=self._table,
            key={"pk": {"S": ref.arn}, "sk": {"S": CURRENT}},
            answer=lambda found: self._remember(ref, found),
        )

    def put(self, baseline: TrailBaseline) -> None:
        api = self._client()
        call(
            "PutItem",
            "dynamodb:PutItem",
            api.put_item,
            TableName=self._table,
            Item=_item(baseline, f"V#{baseline.captured_at}"),
        )
        call(
            "PutItem",
            "dynamodb:PutItem",
            api.put_item,
            TableName=self._table,
            Item=_item(baseline, CURRENT),
        )

    def all(self) -> Iterator[TrailBaseline]:
        api = self._client()
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "sk = :current",
            "ExpressionAttributeValues": {":current": {"S": CURRENT}},
            "ConsistentRead": True,
        }
        while True:
            page = call("Scan", "dynamodb:Scan", api.scan, **kwargs)
            for item in page.get("Items", []):
                yield _baseline(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def history(self, ref: TrailRef) -> list[TrailBaseline]:
        response = call(
            "Query",
            "dynamodb:Query",
            self._client().query,
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :v)",
            ExpressionAttributeValues={":pk": {"S": ref.arn}, ":v": {"S": "V#"}},
        )
        return [_baseline(item) for item in response.get("Items", [])]
