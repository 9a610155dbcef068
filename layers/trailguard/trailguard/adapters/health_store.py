"""What trailguard remembers per protected trail between runs (domain/blind_window.py).

One item per trail in the delivery-ledger table, `pk = health#<trail ARN>`, with
no expiry: the last observation, the open I7 incident, and the blind windows whose
Event history has not settled yet. The event handlers append a window with one
UpdateItem; the reconciler rewrites the item, conditioned on the version it read,
so that a window appended meanwhile is not lost (it is merged on the next run).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call
from trailguard.domain.blind_window import PendingWindow, TrailHealth, window_from, window_json
from trailguard.domain.trails import TrailRef
from trailguard.errors import AwsCallFailed

IAM_ACTIONS_READ = frozenset({"dynamodb:GetItem"})
IAM_ACTIONS_WRITE = frozenset({"dynamodb:PutItem", "dynamodb:UpdateItem"})
PREFIX = "health#"
MAX_WINDOWS = 20


class DynamoHealthStore:
    def __init__(self, table_name: str, region: str) -> None:
        self._table = table_name
        self._region = region

    def _client(self) -> Any:
        return clients.client("dynamodb", self._region)

    def get(self, ref: TrailRef) -> TrailHealth:
        item = call(
            "GetItem",
            "dynamodb:GetItem",
            self._client().get_item,
            TableName=self._table,
            Key={"pk": {"S": PREFIX + ref.arn}},
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return TrailHealth()
        health = TrailHealth.from_json(item["state"]["S"], int(item["version"]["N"]))
        listed = item.get("windows", {}).get("L", [])
        appended = tuple(window_from(json.loads(w["S"])) for w in listed)
        return replace(health, windows=appended, degraded=item.get("degraded", {}).get("S", ""))

    def put(self, ref: TrailRef, health: TrailHealth) -> bool:
        """Write `health` unless the item changed since it was read; False if it did."""
        condition: dict[str, Any] = (
            {
                "ConditionExpression": "#v = :v",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":v": {"N": str(health.version)}},
            }
            if health.version
            else {"ConditionExpression": "attribute_not_exists(pk)"}
        )
        try:
            call(
                "PutItem",
                "dynamodb:PutItem",
                self._client().put_item,
                TableName=self._table,
                Item={
                    "pk": {"S": PREFIX + ref.arn},
                    "state": {"S": health.to_json()},
                    "windows": {"L": [{"S": json.dumps(window_json(w))} for w in health.windows]},
                    "degraded": {"S": health.degraded},
                    "version": {"N": str(health.version + 1)},
                },
                **condition,
            )
        except AwsCallFailed as exc:
            if exc.code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def add_window(self, ref: TrailRef, window: PendingWindow) -> None:
        """Append `window`, unless MAX_WINDOWS wait already (a storm of repairs: the
        reconciler merges what it has, and each repair's alert carries its own window)."""
        try:
            call(
                "UpdateItem",
                "dynamodb:UpdateItem",
                self._client().update_item,
                TableName=self._table,
                Key={"pk": {"S": PREFIX + ref.arn}},
                UpdateExpression="SET windows = list_append(if_not_exists(windows, :none), :w), "
                "#s = if_not_exists(#s, :empty) ADD version :one",
                ConditionExpression="attribute_not_exists(windows) OR size(windows) < :max",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={
                    ":none": {"L": []},
                    ":w": {"L": [{"S": json.dumps(window_json(window))}]},
                    ":empty": {"S": "{}"},
                    ":one": {"N": "1"},
                    ":max": {"N": str(MAX_WINDOWS)},
                },
            )
        except AwsCallFailed as exc:
            if exc.code != "ConditionalCheckFailedException":
                raise

    def set_degraded(self, ref: TrailRef, drift: str) -> None:
        """A degraded repair by an event handler: the reconciler's retries of the same
        drift are the same incident."""
        call(
            "UpdateItem",
            "dynamodb:UpdateItem",
            self._client().update_item,
            TableName=self._table,
            Key={"pk": {"S": PREFIX + ref.arn}},
            UpdateExpression="SET degraded = :d, #s = if_not_exists(#s, :empty) ADD version :one",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={
                ":d": {"S": drift},
                ":empty": {"S": "{}"},
                ":one": {"N": "1"},
            },
        )
