"""DynamoDB baseline store: signed, append-only versions, verified on every read.

Each capture writes an immutable version item (sk = V#<captured_at>) with a
conditional write that never overwrites one, then the item in force (sk =
CURRENT), a copy of that version naming it (`version`). Every version carries
an HMAC of its content made with a KMS key only trailguard may use
(adapters/signing.py), and the MAC binds the trail's ARN and the version's key,
so an item copied to another trail or another version does not verify.

A read verifies CURRENT and checks that it is the newest version. When CURRENT
is missing, does not verify, or is older than the newest intact version, the
read says so (BaselineRead.problems) and returns the newest version that does
verify: the trail is rebuilt from that, never from an unverified item.
The table's resource policy (template.yaml) denies writes to every principal
but the capture and restore roles; the signature is what holds if it is changed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call
from trailguard.domain.delivery_chain import DeliveryChain
from trailguard.domain.trails import TrailBaseline, TrailRef, TrailSnapshot
from trailguard.errors import AwsCallFailed
from trailguard.ports import BaselineRead, Precondition, Signer

IAM_ACTIONS_READ = frozenset({"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"})
IAM_ACTIONS_WRITE = frozenset({"dynamodb:PutItem"})
CURRENT = "CURRENT"
VERSION_PREFIX = "V#"


def version_key(captured_at: str) -> str:
    return f"{VERSION_PREFIX}{captured_at}"


def signed_message(arn: str, version: str, baseline: TrailBaseline) -> bytes:
    """What the MAC covers: the trail, the version's key and everything restored from it
    (the delivery chain too: a bucket or key swapped in the table must not verify)."""
    document = {
        "pk": arn,
        "version": version,
        "snapshot": baseline.snapshot.to_json(),
        "captured_at": baseline.captured_at,
        "captured_by": baseline.captured_by,
        "reason": baseline.reason,
    }
    if baseline.chain is not None:
        # Only when there is one: versions signed before chains existed still verify.
        document["delivery_chain"] = baseline.chain.to_json()
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest().encode("ascii")


def _item(baseline: TrailBaseline, sort_key: str, version: str, mac: str) -> dict[str, Any]:
    item = _trail_item(baseline, sort_key, version, mac)
    if baseline.chain is not None:
        # Its own attribute: items written before it existed still read back.
        item["delivery_chain"] = {"S": baseline.chain.to_json()}
    return item


def _trail_item(baseline: TrailBaseline, sort_key: str, version: str, mac: str) -> dict[str, Any]:
    return {
        "pk": {"S": baseline.ref.arn},
        "sk": {"S": sort_key},
        "version": {"S": version},
        "trail_name": {"S": baseline.ref.name},
        "home_region": {"S": baseline.ref.region},
        "snapshot": {"S": baseline.snapshot.to_json()},
        "captured_at": {"S": baseline.captured_at},
        "captured_by": {"S": baseline.captured_by},
        "reason": {"S": baseline.reason},
        "mac": {"S": mac},
    }


def _baseline(item: dict[str, Any]) -> TrailBaseline:
    return TrailBaseline(
        snapshot=TrailSnapshot.from_json(item["snapshot"]["S"]),
        captured_at=item["captured_at"]["S"],
        captured_by=item["captured_by"]["S"],
        reason=item.get("reason", {}).get("S", ""),
        chain=DeliveryChain.from_json(item["delivery_chain"]["S"])
        if "delivery_chain" in item
        else None,
    )


def _text(item: dict[str, Any], name: str) -> str:
    value = item.get(name, {})
    return str(value.get("S", "")) if isinstance(value, dict) else ""


# How long "this trail has a baseline" is remembered in an execution environment.
# Baselines are created rarely and deliberately; a new one is seen within this time,
# and the scheduled reconciler reads the table itself on every run.
PROTECTED_TTL_SECONDS = 300.0


class DynamoBaselineStore:
    def __init__(
        self,
        table_name: str,
        region: str,
        signer: Signer | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._table = table_name
        self._region = region
        self._signer = signer
        self._monotonic = monotonic
        self._known: dict[str, tuple[float, bool]] = {}

    def _client(self) -> Any:
        return clients.client("dynamodb", self._region)

    def _signing(self) -> Signer:
        if self._signer is None:
            raise AwsCallFailed(
                "VerifyMac",
                "NoSigningKey",
                "the baseline store has no signer",
                "redeploy trailguard: its baseline signing key is not configured",
            )
        return self._signer

    # ------------------------------------------------------------ verifying
    def _intact(self, ref: TrailRef, item: dict[str, Any]) -> TrailBaseline | None:
        """The item's baseline if its MAC verifies for this trail and its version.

        A version item is signed for its own key; CURRENT for the version it names."""
        sort_key = _text(item, "sk")
        version = _text(item, "version") if sort_key == CURRENT else sort_key
        mac = _text(item, "mac")
        if not mac or not version.startswith(VERSION_PREFIX) or _text(item, "pk") != ref.arn:
            return None
        try:
            baseline = _baseline(item)
        except (KeyError, TypeError, ValueError):
            return None
        if baseline.ref != ref or version != version_key(baseline.captured_at):
            return None
        if not self._signing().verify(signed_message(ref.arn, version, baseline), mac):
            return None
        return baseline

    def _get_item(self, ref: TrailRef, sort_key: str) -> dict[str, Any] | None:
        response = call(
            "GetItem",
            "dynamodb:GetItem",
            self._client().get_item,
            TableName=self._table,
            Key={"pk": {"S": ref.arn}, "sk": {"S": sort_key}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return dict(item) if item else None

    def _versions(self, ref: TrailRef, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Version items, newest first."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :v)",
            "ExpressionAttributeValues": {":pk": {"S": ref.arn}, ":v": {"S": VERSION_PREFIX}},
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        if limit is not None:
            kwargs["Limit"] = limit
        api = self._client()
        while True:
            page = call("Query", "dynamodb:Query", api.query, **kwargs)
            yield from page.get("Items", [])
            if limit is not None or "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def read(self, ref: TrailRef) -> BaselineRead:
        current = self._get_item(ref, CURRENT)
        newest = next(self._versions(ref, limit=1), None)
        # A fresh read also answers has_baseline: any item, intact or not, protects.
        self._remember(ref, current is not None or newest is not None)
        current_baseline = self._intact(ref, current) if current else None
        current_version = _text(current, "version") if current else ""
        if current_baseline is not None and (
            newest is None or _text(newest, "sk") == current_version
        ):
            return BaselineRead(current_baseline, (), current_version)
        if current is None and newest is None:
            return BaselineRead(None)

        problems: list[str] = []
        if current is None:
            problems.append("the baseline in force (sk=CURRENT) is MISSING")
        elif current_baseline is None:
            problems.append("the baseline in force (sk=CURRENT) has an INVALID signature")
        for item in self._versions(ref):
            version = _text(item, "sk")
            intact = self._intact(ref, item)
            if intact is None:
                problems.append(f"version {version} has an INVALID signature")
                continue
            if current_baseline is not None and version != current_version:
                problems.append(
                    f"the baseline in force is version {current_version}, not the newest "
                    f"intact version {version}"
                )
            return BaselineRead(intact, tuple(problems), version)
        problems.append("NO version has a valid signature")
        return BaselineRead(None, tuple(problems))

    # ------------------------------------------------------------ the port
    def get(self, ref: TrailRef) -> TrailBaseline | None:
        """The verified baseline (the newest intact version), or None."""
        return self.read(ref).baseline

    def _remembered(self, ref: TrailRef) -> bool | None:
        seen = self._known.get(ref.arn)
        if seen is not None and self._monotonic() - seen[0] < PROTECTED_TTL_SECONDS:
            return seen[1]
        return None

    def _remember(self, ref: TrailRef, answer: bool) -> None:
        self._known[ref.arn] = (self._monotonic(), answer)

    def has_baseline(self, ref: TrailRef) -> bool:
        """Whether `ref` has any baseline item, intact or not; remembered for a while.

        Any item counts, the in-force one or a version: deleting CURRENT does not make
        a trail unprotected, and a tampered baseline is reported, not ignored."""
        answer = self._remembered(ref)
        if answer is None:
            answer = (
                self._get_item(ref, CURRENT) is not None
                or next(self._versions(ref, limit=1), None) is not None
            )
            self._remember(ref, answer)
        return answer

    def existence_check(self, ref: TrailRef) -> Precondition | None:
        """The check "`ref` has a baseline" for the ledger to make with its claim, or None
        when this environment already knows the answer.

        CURRENT found answers yes. CURRENT missing answers nothing: a version may
        remain (CURRENT deleted), so has_baseline then looks for one itself."""
        if self._remembered(ref) is not None:
            return None
        return Precondition(
            table=self._table,
            key={"pk": {"S": ref.arn}, "sk": {"S": CURRENT}},
            answer=lambda found: self._remember(ref, True) if found else None,
        )

    def put(self, baseline: TrailBaseline) -> None:
        """Sign and store a new version, then make it the one in force."""
        version = version_key(baseline.captured_at)
        mac = self._signing().sign(signed_message(baseline.ref.arn, version, baseline))
        api = self._client()
        # Versions are immutable: a write that would replace one fails instead.
        call(
            "PutItem",
            "dynamodb:PutItem",
            api.put_item,
            TableName=self._table,
            Item=_item(baseline, version, version, mac),
            ConditionExpression="attribute_not_exists(pk) AND attribute_not_exists(sk)",
        )
        call(
            "PutItem",
            "dynamodb:PutItem",
            api.put_item,
            TableName=self._table,
            Item=_item(baseline, CURRENT, version, mac),
        )
        self._remember(baseline.ref, True)

    def repair_current(self, ref: TrailRef, version: str) -> None:
        """Make the intact `version` the one in force again (a copy: no signing needed)."""
        item = self._get_item(ref, version)
        if item is None or self._intact(ref, item) is None:
            raise AwsCallFailed(
                "PutItem",
                "BaselineVersionNotIntact",
                f"version {version} is missing or does not verify",
                "restore the baseline table from point-in-time recovery",
            )
        item["sk"] = {"S": CURRENT}
        item["version"] = {"S": version}
        call(
            "PutItem",
            "dynamodb:PutItem",
            self._client().put_item,
            TableName=self._table,
            Item=item,
        )

    def refs(self) -> list[TrailRef]:
        """Every trail with a baseline item, intact or not."""
        api = self._client()
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "ProjectionExpression": "pk",
            "ConsistentRead": True,
        }
        seen: dict[str, None] = {}
        while True:
            page = call("Scan", "dynamodb:Scan", api.scan, **kwargs)
            for item in page.get("Items", []):
                seen[_text(item, "pk")] = None
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        refs = []
        for arn in seen:
            try:
                refs.append(TrailRef.from_arn(arn))
            except ValueError:
                continue  # not a trail's item: nothing trailguard wrote
        return refs

    def all(self) -> Iterator[TrailBaseline]:
        """The verified baseline of every trail that has one."""
        for ref in self.refs():
            baseline = self.read(ref).baseline
            if baseline is not None:
                yield baseline

    def history(self, ref: TrailRef) -> list[TrailBaseline]:
        """Every version, oldest first, as stored (not verified: for display)."""
        return [_baseline(item) for item in reversed(list(self._versions(ref)))]
