"""Trails as trailguard reasons about them: references, settings, snapshots.

Pure data, no boto3. The baseline is a snapshot taken at a trusted moment; live
state is a snapshot taken now; drift is the difference (see domain/drift.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from trailguard.domain.delivery_chain import DeliveryChain
from trailguard.errors import InvalidEvent

_TRAIL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$")
_TRAIL_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):cloudtrail:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):"
    r"(?P<account>\d{12}):trail/(?P<name>[^/]+)$"
)


@dataclass(frozen=True, order=True)
class TrailRef:
    """A trail's identity: name, home region and owning account."""

    name: str
    region: str
    account_id: str
    partition: str = "aws"

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:cloudtrail:{self.region}:{self.account_id}:trail/{self.name}"

    @classmethod
    def parse(cls, name_or_arn: str, region: str, account_id: str) -> TrailRef:
        """Trail named in a request: a plain name (home region = call region) or an ARN."""
        match = _TRAIL_ARN.match(name_or_arn)
        if match:
            name = match["name"]
            region, account_id = match["region"], match["account"]
            partition = match["partition"]
        else:
            name, partition = name_or_arn, "aws"
        if not _TRAIL_NAME.match(name):
            raise InvalidEvent("the trail name in the request is not a valid trail name")
        return cls(name=name, region=region, account_id=account_id, partition=partition)

    @classmethod
    def from_arn(cls, arn: str) -> TrailRef:
        match = _TRAIL_ARN.match(arn)
        if not match:
            raise ValueError(f"not a trail ARN: {arn!r}")
        return cls(match["name"], match["region"], match["account"], match["partition"])


@dataclass(frozen=True)
class TrailSettings:
    """What CreateTrail/UpdateTrail set. '' means 'not set'."""

    s3_bucket_name: str
    s3_key_prefix: str = ""
    sns_topic_name: str = ""
    include_global_service_events: bool = True
    is_multi_region_trail: bool = False
    is_organization_trail: bool = False
    log_file_validation_enabled: bool = False
    kms_key_id: str = ""
    cloud_watch_logs_log_group_arn: str = ""
    cloud_watch_logs_role_arn: str = ""

    def differences(self, other: TrailSettings) -> list[tuple[str, object, object]]:
        """(field, self's value, other's value) for each field that differs."""
        mine, theirs = asdict(self), asdict(other)
        return [(key, mine[key], theirs[key]) for key in mine if mine[key] != theirs[key]]


@dataclass(frozen=True)
class Selectors:
    """Event and insight selectors. Basic and advanced are exclusive in AWS."""

    event_selectors: tuple[Mapping[str, Any], ...] = ()
    advanced_event_selectors: tuple[Mapping[str, Any], ...] = ()
    insight_selectors: tuple[Mapping[str, Any], ...] = ()

    @property
    def uses_advanced(self) -> bool:
        return bool(self.advanced_event_selectors)

    def event_selectors_equal(self, other: Selectors) -> bool:
        return _canonical(self.event_selectors) == _canonical(other.event_selectors) and (
            _canonical(self.advanced_event_selectors) == _canonical(other.advanced_event_selectors)
        )

    def insight_selectors_equal(self, other: Selectors) -> bool:
        return _canonical(self.insight_selectors) == _canonical(other.insight_selectors)


def _canonical(value: Any) -> str:
    """Order-insensitive form: AWS may return lists in another order than sent."""

    def normalise(node: Any) -> Any:
        if isinstance(node, Mapping):
            return {k: normalise(v) for k, v in sorted(node.items())}
        if isinstance(node, (list, tuple)):
            return sorted((normalise(v) for v in node), key=lambda v: json.dumps(v, sort_keys=True))
        return node

    return json.dumps(normalise(value), sort_keys=True)


@dataclass(frozen=True)
class TrailSnapshot:
    """Everything trailguard restores about one trail, read at one moment."""

    ref: TrailRef
    settings: TrailSettings
    selectors: Selectors = field(default_factory=Selectors)
    tags: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        document = {
            "ref": asdict(self.ref),
            "settings": asdict(self.settings),
            "selectors": {
                "event_selectors": list(self.selectors.event_selectors),
                "advanced_event_selectors": list(self.selectors.advanced_event_selectors),
                "insight_selectors": list(self.selectors.insight_selectors),
            },
            "tags": dict(sorted(self.tags.items())),
        }
        return json.dumps(document, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrailSnapshot:
        document = json.loads(text)
        selectors = document.get("selectors", {})
        return cls(
            ref=TrailRef(**document["ref"]),
            settings=TrailSettings(**document["settings"]),
            selectors=Selectors(
                event_selectors=tuple(selectors.get("event_selectors", ())),
                advanced_event_selectors=tuple(selectors.get("advanced_event_selectors", ())),
                insight_selectors=tuple(selectors.get("insight_selectors", ())),
            ),
            tags=dict(document.get("tags", {})),
        )

    def with_settings(self, **changes: Any) -> TrailSnapshot:
        return replace(self, settings=replace(self.settings, **changes))


@dataclass(frozen=True)
class TrailBaseline:
    """The trusted snapshot of a protected trail, with where it came from."""

    snapshot: TrailSnapshot
    captured_at: str
    captured_by: str
    reason: str
    # The bucket, key and log group the trail wrote to at capture (delivery_chain.py);
    # None for baselines captured before trailguard recorded it.
    chain: DeliveryChain | None = None

    @property
    def ref(self) -> TrailRef:
        return self.snapshot.ref
