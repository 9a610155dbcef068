"""Typed view of an EventBridge 'AWS API Call via CloudTrail' event.

Everything read from the event is checked here, once. Code further in only
sees validated fields, never the raw dict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trailguard.domain.text import clean_json, clean_text
from trailguard.errors import InvalidEvent

DETAIL_TYPE = "AWS API Call via CloudTrail"
SOURCES = {
    "aws.organizations": "organizations.amazonaws.com",
    "aws.cloudtrail": "cloudtrail.amazonaws.com",
    "aws.iam": "iam.amazonaws.com",
    # trailguard's own resources, watched for tampering (protected/trailguard_itself.py)
    "aws.events": "events.amazonaws.com",
    "aws.lambda": "lambda.amazonaws.com",
    "aws.sns": "sns.amazonaws.com",
    "aws.dynamodb": "dynamodb.amazonaws.com",
    # the alert path and the stack itself (issue 10, item 6)
    "aws.kms": "kms.amazonaws.com",
    "aws.cloudwatch": "monitoring.amazonaws.com",
    "aws.cloudformation": "cloudformation.amazonaws.com",
    # the trail's delivery chain (protected/delivery_chain.py); aws.kms is above
    "aws.s3": "s3.amazonaws.com",
    "aws.logs": "logs.amazonaws.com",
}
# Matched with fullmatch and re.ASCII: `$` alone would accept a trailing newline, and
# `\d` or `\w` alone would accept any script's digits and letters.
_EVENT_ID = re.compile(r"[A-Za-z0-9-]{1,64}", re.ASCII)
_EVENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}", re.ASCII)
_ACCOUNT = re.compile(r"\d{12}", re.ASCII)
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d", re.ASCII)
_ERROR_CODE = re.compile(r"[\w.:-]{1,128}", re.ASCII)
_MAX_PARAMETERS = 64


@dataclass(frozen=True)
class Principal:
    """Who made the call, as CloudTrail's userIdentity says."""

    type: str
    arn: str
    account_id: str
    session_issuer_arn: str
    invoked_by: str

    @property
    def acting_arn(self) -> str:
        """The ARN allow-lists and self-detection compare against (the role for a session)."""
        return self.session_issuer_arn or self.arn

    def describe(self) -> str:
        parts = [self.type or "unknown type", self.arn or "no ARN"]
        if self.session_issuer_arn:
            parts.append(f"via role {self.session_issuer_arn}")
        if self.invoked_by:
            parts.append(f"invoked by {self.invoked_by}")
        return ", ".join(parts)


@dataclass(frozen=True)
class ApiCallEvent:
    event_id: str
    event_name: str
    event_source: str
    event_time: datetime
    region: str
    account_id: str
    principal: Principal
    source_ip: str
    user_agent: str
    error_code: str
    error_message: str
    # Cleaned whole at parse time (domain/text.py clean_json): every string in it is safe
    # to show, however deep.
    request_parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.error_code)

    def parameter(self, name: str, limit: int = 2048) -> str:
        """A string request parameter (cleaned at parse time), or '' when absent, not a
        string, or longer than `limit` (a value cut by the cleaner is always longer)."""
        value = self.request_parameters.get(name)
        if not isinstance(value, str) or len(value) > limit:
            return ""
        return value


def _text(container: Mapping[str, Any], key: str, limit: int = 256) -> str:
    return clean_text(container.get(key), limit)


def _mapping(container: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = container.get(key)
    return value if isinstance(value, dict) else {}


def _parse_time(raw: object) -> datetime:
    if not isinstance(raw, str) or len(raw) > 40:
        raise InvalidEvent("detail.eventTime is missing or not a timestamp")
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidEvent("detail.eventTime is not an ISO 8601 timestamp") from exc
    if parsed.tzinfo is None:
        raise InvalidEvent("detail.eventTime has no time zone")
    return parsed


def _principal(detail: Mapping[str, Any]) -> Principal:
    identity = _mapping(detail, "userIdentity")
    issuer = _mapping(_mapping(identity, "sessionContext"), "sessionIssuer")
    return Principal(
        type=_text(identity, "type", 64),
        arn=_text(identity, "arn", 512),
        account_id=_text(identity, "accountId", 12),
        session_issuer_arn=_text(issuer, "arn", 512),
        invoked_by=_text(identity, "invokedBy", 128),
    )


def parse_api_call_event(raw: object) -> ApiCallEvent:
    """Validate an EventBridge event; raise InvalidEvent with the reason otherwise."""
    if not isinstance(raw, dict):
        raise InvalidEvent("event is not a JSON object")
    if raw.get("detail-type") != DETAIL_TYPE:
        raise InvalidEvent(f"detail-type is not {DETAIL_TYPE!r}")
    source = raw.get("source")
    if not isinstance(source, str) or source not in SOURCES:
        raise InvalidEvent("source is not one trailguard listens to")
    detail = raw.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEvent("detail is missing or not an object")
    if detail.get("eventSource") != SOURCES[source]:
        raise InvalidEvent("detail.eventSource does not match the event source")

    event_id = detail.get("eventID")
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        raise InvalidEvent("detail.eventID is missing or malformed")
    event_name = detail.get("eventName")
    if not isinstance(event_name, str) or not _EVENT_NAME.fullmatch(event_name):
        raise InvalidEvent("detail.eventName is missing or malformed")
    region = detail.get("awsRegion")
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise InvalidEvent("detail.awsRegion is missing or not a region")
    account = detail.get("recipientAccountId", raw.get("account"))
    if not isinstance(account, str) or not _ACCOUNT.fullmatch(account):
        raise InvalidEvent("recipientAccountId is missing or not an account id")

    error_code = detail.get("errorCode")
    if error_code is not None and (
        not isinstance(error_code, str) or not _ERROR_CODE.fullmatch(error_code)
    ):
        raise InvalidEvent("detail.errorCode is malformed")
    parameters = detail.get("requestParameters")
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict) or len(parameters) > _MAX_PARAMETERS:
        raise InvalidEvent("detail.requestParameters is not a small object")

    return ApiCallEvent(
        event_id=event_id,
        event_name=event_name,
        event_source=SOURCES[source],
        event_time=_parse_time(detail.get("eventTime")),
        region=region,
        account_id=account,
        principal=_principal(detail),
        source_ip=_text(detail, "sourceIPAddress", 128),
        user_agent=_text(detail, "userAgent", 256),
        error_code=error_code or "",
        error_message=_text(detail, "errorMessage", 512),
        request_parameters=clean_json(parameters),
    )
