"""CloudTrail Event history (LookupEvents), which moto 5.2 does not implement.

What AWS does (CloudTrail API Reference, LookupEvents; User Guide, "Working with
CloudTrail Event history"):
- Event history keeps the management events of the calling account, per region,
  for 90 days, whether or not any trail logs. Global services (IAM, Organizations,
  STS's global endpoint) are recorded in us-east-1. Data events (S3 objects,
  DynamoDB items, SQS messages, SNS Publish, Lambda Invoke) are not kept.
- At most one lookup attribute per request (EventId, EventName, ReadOnly, Username,
  ResourceType, ResourceName, EventSource, AccessKeyId); StartTime/EndTime are
  inclusive; MaxResults 1-50 (default 50); newest event first; NextToken pages.
- The rate is limited to 2 requests per second per account per region; above it
  the call fails with ThrottlingException.
- Events appear after a delay (undocumented; minutes): `delay_seconds` models it.

How it is filled: every request moto serves is recorded as it arrives (server
side), so the Event history holds the calls the drill's attacks really made, and
trailguard's own. In the drill every client shares one fake access key; in AWS
each Lambda function calls with its own role's credentials. The emulation tells
trailguard's calls by the `trailguard/<version>` user-agent tag its client
factory adds, and records them under the role registered with `identify_as`.
Any other caller is recorded as the account's root user.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GLOBAL_SERVICES = frozenset({"iam", "organizations", "sts"})
GLOBAL_REGION = "us-east-1"
MAX_RESULTS = 50
# Seconds added to the clock that paces LookupEvents: tests that record pauses instead
# of sleeping (tests/conftest.py) add them here, so that a caller that waits as AWS
# asks is admitted as it would be.
SKEW = [0.0]
RATE_PER_SECOND = 2
LOOKUP_KEYS = frozenset(
    {
        "EventId",
        "EventName",
        "ReadOnly",
        "Username",
        "ResourceType",
        "ResourceName",
        "EventSource",
        "AccessKeyId",
    }
)
# Data events: not management events, never in Event history.
_DATA_EVENTS = {
    "s3": {"PutObject", "GetObject", "DeleteObject", "HeadObject", "CopyObject", "DeleteObjects"},
    "dynamodb": {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    },
    "sqs": {"SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage"},
    "sns": {"Publish", "PublishBatch"},
    "lambda": {"Invoke"},
}
_READ_PREFIXES = ("Get", "List", "Describe", "Lookup", "Head", "Search", "BatchGet", "Select")
TRAILGUARD_AGENT = "trailguard/"


@dataclass(frozen=True)
class Identity:
    """The userIdentity CloudTrail records for a caller."""

    type: str
    arn: str
    account_id: str
    username: str
    session_issuer_arn: str = ""

    def record(self) -> dict[str, Any]:
        identity: dict[str, Any] = {
            "type": self.type,
            "arn": self.arn,
            "accountId": self.account_id,
        }
        if self.session_issuer_arn:
            identity["sessionContext"] = {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": self.session_issuer_arn,
                    "accountId": self.account_id,
                    "userName": self.session_issuer_arn.rsplit("/", 1)[-1],
                }
            }
        return identity


@dataclass(frozen=True)
class Recorded:
    event_id: str
    time: datetime
    account: str
    region: str
    source: str
    name: str
    read_only: bool
    identity: Identity
    access_key: str
    user_agent: str
    source_ip: str
    parameters: dict[str, Any]
    error_code: str = ""

    def lookup_form(self) -> dict[str, Any]:
        """The Event structure of a LookupEvents response."""
        record: dict[str, Any] = {
            "eventVersion": "1.10",
            "userIdentity": self.identity.record(),
            "eventTime": self.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": self.source,
            "eventName": self.name,
            "awsRegion": self.region,
            "sourceIPAddress": self.source_ip,
            "userAgent": self.user_agent,
            "requestParameters": self.parameters or None,
            "responseElements": None,
            "eventID": self.event_id,
            "readOnly": self.read_only,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": self.account,
        }
        if self.error_code:
            record["errorCode"] = self.error_code
        return {
            "EventId": self.event_id,
            "EventName": self.name,
            "ReadOnly": "true" if self.read_only else "false",
            "AccessKeyId": self.access_key,
            "EventTime": self.time.timestamp(),
            "EventSource": self.source,
            "Username": self.identity.username,
            "Resources": [],
            "CloudTrailEvent": json.dumps(record),
        }

    def matches(self, key: str, value: str) -> bool:
        return {
            "EventId": self.event_id,
            "EventName": self.name,
            "ReadOnly": "true" if self.read_only else "false",
            "Username": self.identity.username,
            "EventSource": self.source,
            "AccessKeyId": self.access_key,
        }.get(key) == value


class LookupError_(Exception):
    """An error LookupEvents answers with: (code, message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class EventHistory:
    delay_seconds: float = 0.0
    rate_per_second: int = RATE_PER_SECOND
    _events: list[Recorded] = field(default_factory=list)
    _calls: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _agents: dict[str, Identity] = field(default_factory=dict)
    # Every call served, data events included: (service, operation, made by trailguard).
    served: list[tuple[str, str, bool]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def identify_as(self, account: str, role_arn: str, session: str = "trailguard") -> None:
        """trailguard's calls (by their user-agent tag) are made by `role_arn`."""
        role_name = role_arn.rsplit("/", 1)[-1]
        self._agents[account] = Identity(
            "AssumedRole",
            f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}",
            account,
            session,
            role_arn,
        )

    def identity(self, account: str, user_agent: str) -> Identity:
        if TRAILGUARD_AGENT in user_agent and account in self._agents:
            return self._agents[account]
        return Identity("Root", f"arn:aws:iam::{account}:root", account, "root")

    def record(
        self,
        *,
        account: str,
        region: str,
        service: str,
        name: str,
        user_agent: str,
        access_key: str,
        parameters: dict[str, Any],
        error_code: str = "",
        at: datetime | None = None,
    ) -> None:
        self.served.append((service, name, TRAILGUARD_AGENT in user_agent))
        if name in _DATA_EVENTS.get(service, ()):
            return
        if service in GLOBAL_SERVICES:
            region = GLOBAL_REGION
        event = Recorded(
            event_id=str(uuid.uuid4()),
            time=at or datetime.now(UTC),
            account=account,
            region=region,
            source=f"{service}.amazonaws.com",
            name=name,
            read_only=name.startswith(_READ_PREFIXES),
            identity=self.identity(account, user_agent),
            access_key=access_key,
            user_agent=user_agent[:200],
            source_ip="127.0.0.1",  # the drill calls moto in-process
            parameters=parameters,
            error_code=error_code,
        )
        with self._lock:
            self._events.append(event)

    def events(self, account: str, region: str) -> list[Recorded]:
        with self._lock:
            return [e for e in self._events if e.account == account and e.region == region]

    def _admit(self, account: str, region: str) -> None:
        now = time.monotonic() + SKEW[0]
        with self._lock:
            recent = self._calls.setdefault((account, region), deque())
            while recent and now - recent[0] >= 1.0:
                recent.popleft()
            if len(recent) >= self.rate_per_second:
                raise LookupError_("ThrottlingException", "Rate exceeded")
            recent.append(now)

    def lookup(self, account: str, region: str, request: dict[str, Any]) -> dict[str, Any]:
        self._admit(account, region)
        attributes = request.get("LookupAttributes") or []
        if len(attributes) > 1:
            raise LookupError_(
                "InvalidLookupAttributesException", "Only one lookup attribute is allowed."
            )
        for attribute in attributes:
            if attribute.get("AttributeKey") not in LOOKUP_KEYS:
                raise LookupError_(
                    "InvalidLookupAttributesException", "Invalid attribute key specified."
                )
        max_results = int(request.get("MaxResults") or MAX_RESULTS)
        if not 1 <= max_results <= MAX_RESULTS:
            raise LookupError_("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
        start = _time(request.get("StartTime"))
        end = _time(request.get("EndTime"))
        if start and end and start > end:
            raise LookupError_(
                "InvalidTimeRangeException", "Start time must not be after end time."
            )
        visible_until = datetime.now(UTC).timestamp() - self.delay_seconds
        matching = [
            e
            for e in self.events(account, region)
            if e.time.timestamp() <= visible_until
            and (start is None or e.time.timestamp() >= start)
            and (end is None or e.time.timestamp() <= end)
            and all(e.matches(a["AttributeKey"], a.get("AttributeValue", "")) for a in attributes)
        ]
        matching.sort(key=lambda e: e.time, reverse=True)
        fingerprint = _fingerprint(attributes, start, end)
        offset = _offset(request.get("NextToken"), fingerprint)
        page = matching[offset : offset + max_results]
        response: dict[str, Any] = {"Events": [e.lookup_form() for e in page]}
        if offset + max_results < len(matching):
            response["NextToken"] = _token(offset + max_results, fingerprint)
        return response


def _time(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _fingerprint(attributes: list[Any], start: float | None, end: float | None) -> str:
    text = json.dumps([attributes, start, end], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _token(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, fingerprint]).encode()).decode()


def _offset(token: Any, fingerprint: str) -> int:
    if not token:
        return 0
    try:
        offset, made_for = json.loads(base64.urlsafe_b64decode(str(token).encode()))
    except (ValueError, TypeError) as exc:
        raise LookupError_("InvalidNextTokenException", "Invalid NextToken.") from exc
    if made_for != fingerprint or not isinstance(offset, int) or offset < 0:
        # AWS: a token is valid only with the parameters of the call that returned it.
        raise LookupError_("InvalidNextTokenException", "Invalid NextToken.")
    return offset


# ---------------------------------------------------------------- inside moto


def _parameters(response: Any) -> dict[str, Any]:
    try:
        body = response.body
        if body and str(response.headers.get("Content-Type", "")).find("json") >= 0:
            loaded = json.loads(body)
            return loaded if isinstance(loaded, dict) else {}
        query = getattr(response, "querystring", {}) or {}
        return {k: v[0] for k, v in query.items() if k not in ("Action", "Version") and v}
    except (ValueError, TypeError, AttributeError):
        return {}


@contextmanager
def installed(history: EventHistory) -> Iterator[EventHistory]:
    """Record every call moto serves; answer cloudtrail:LookupEvents from `history`."""
    from moto.cloudtrail.responses import CloudTrailResponse
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import BaseResponse

    original_call = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        result = original_call(self)
        try:
            status = int(result[0])
            action = self._get_action()
            service = str(self.service_name or "")
        except Exception:  # a response moto could not name is not an API call to keep
            return result
        if action and service:
            error = ""
            if status >= 400:
                try:
                    error = str(json.loads(result[2]).get("__type", "")).split("#")[-1]
                except (ValueError, TypeError, AttributeError):
                    error = str(status)
            history.record(
                account=self.current_account,
                region=self.region,
                service=service,
                name=action,
                user_agent=str(self.headers.get("User-Agent", "")),
                access_key=self.get_access_key(),
                parameters=_parameters(self),
                error_code=error,
            )
        return result

    def lookup_events(self: Any) -> str:
        try:
            answer = history.lookup(self.current_account, self.region, json.loads(self.body))
        except LookupError_ as exc:
            raise JsonRESTError(exc.code, exc.message) from exc
        return json.dumps(answer)

    BaseResponse.call_action = call_action  # type: ignore[method-assign]
    CloudTrailResponse.lookup_events = lookup_events  # type: ignore[attr-defined]
    try:
        yield history
    finally:
        BaseResponse.call_action = original_call  # type: ignore[method-assign]
        del CloudTrailResponse.lookup_events  # type: ignore[attr-defined]
