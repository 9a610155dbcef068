"""The alert path as AWS behaves when it is attacked: what moto 5.2 does not model.

1. **SNS Publish to a topic whose KMS key is unusable fails.** A topic with
   server-side encryption needs its key for every publish (Amazon SNS Developer
   Guide, "Encryption at rest": SNS calls kms:GenerateDataKey). The Publish API
   reference lists the errors: `KMSDisabledException` ("the specified KMS key
   isn't enabled") for a disabled key, `KMSInvalidStateException` for a key in a
   state that cannot be used, such as pending deletion, `KMSNotFoundException`
   for a key that does not exist. moto publishes whatever the key's state.

2. **PutEvents to an event bus in another account.** The EventBridge User Guide
   ("Permissions for event buses") says a bus's resource-based policy can allow
   PutEvents calls from another account, and PutEventsRequestEntry.EventBusName
   takes the bus's ARN. The event arrives on that bus with the sender's account
   in its `account` field. Without a statement that admits the sender the call is
   refused with AccessDeniedException. moto looks the bus name up in the caller's
   own account instead, and never reads a bus policy on PutEvents. The emulation
   decides on the statement's principal (the account); it does not evaluate the
   statement's conditions, since moto's caller is no role (the template tests check
   the witness policy's conditions as written).

`install()` patches moto's backends in place, once per process: every client
(trailguard's, the drill's attacker, the tests) then sees AWS's behaviour.
"""

from __future__ import annotations

import copy
import json
from typing import Any

_INSTALLED: list[bool] = []


def _sns_errors() -> dict[str, type[Exception]]:
    from moto.sns.exceptions import SNSException

    class KMSDisabled(SNSException):
        code = "KMSDisabledException"
        message = (
            "Invalid parameter: The request was rejected because the specified KMS key "
            "isn't enabled."
        )

    class KMSInvalidState(SNSException):
        code = "KMSInvalidStateException"
        message = (
            "The request was rejected because the state of the specified resource isn't "
            "valid for this request."
        )

    class KMSNotFound(SNSException):
        code = "KMSNotFoundException"
        message = (
            "The request was rejected because the specified entity or resource can't be found."
        )

    return {"Disabled": KMSDisabled, "PendingDeletion": KMSInvalidState, "missing": KMSNotFound}


def _key_state(account: str, region: str, key_id: str) -> str:
    """The KMS key's state as SNS would find it: 'missing' when there is no such key."""
    from moto.kms.models import kms_backends

    backend = kms_backends[account][region]
    try:
        return str(backend.describe_key(key_id).key_state)
    except Exception:  # moto raises its NotFound for unknown ids and aliases
        return "missing"


def _publishing_refused(backend: Any, arn: str | None) -> Exception | None:
    topic = backend.topics.get(arn) if arn else None
    key_id = getattr(topic, "kms_master_key_id", "") if topic is not None else ""
    if not key_id or key_id.startswith("alias/aws/"):
        # No encryption, or the AWS managed key, which nobody can disable.
        return None
    state = _key_state(backend.account_id, backend.region_name, key_id)
    if state in ("Enabled",):
        return None
    errors = _sns_errors()
    return errors.get(state, errors["PendingDeletion"])()


def _admits(policy: str | None, sender: str) -> bool:
    """Whether a bus policy has an Allow of events:PutEvents for the sender's account."""
    if not policy:
        return False
    for statement in json.loads(policy).get("Statement", []):
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if statement.get("Effect") != "Allow" or not {"events:PutEvents", "events:*"} & set(
            actions
        ):
            continue
        principal = statement.get("Principal", {})
        allowed = principal.get("AWS", []) if isinstance(principal, dict) else principal
        allowed = [allowed] if isinstance(allowed, str) else allowed
        if any(p in (sender, f"arn:aws:iam::{sender}:root", "*") for p in allowed):
            return True
    return False


def _put_cross_account(backend: Any, entry: dict[str, Any]) -> dict[str, Any]:
    from moto.core.exceptions import JsonRESTError
    from moto.core.utils import unix_time
    from moto.events.models import events_backends
    from moto.moto_api._internal import mock_random

    arn = entry["EventBusName"].split(":")
    region, account, name = arn[3], arn[4], arn[5].split("/", 1)[1]
    target = events_backends[account][region]
    bus = target.describe_event_bus(name)
    if not _admits(bus.policy, backend.account_id):
        raise JsonRESTError(
            "AccessDeniedException",
            f"User: arn:aws:sts::{backend.account_id}:assumed-role is not authorized to "
            f"perform: events:PutEvents on resource: {entry['EventBusName']} because no "
            "resource-based policy allows the events:PutEvents action",
        )
    event_id = str(mock_random.uuid4())
    message = {
        "version": "0",
        "id": event_id,
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": backend.account_id,  # the sender's account, as AWS writes it
        "time": entry.get("Time") or unix_time(),
        "region": region,
        "resources": entry.get("Resources", []),
        "detail": json.loads(entry["Detail"]),
        "ingestion-time": unix_time(),
    }
    for rule in list(bus.rules.values()):
        if rule.state == "ENABLED":
            rule.send_to_targets(copy.deepcopy(message))  # type: ignore[arg-type]
    return {"EventId": event_id}


def _other_account(backend: Any, bus: object) -> bool:
    if not isinstance(bus, str) or not bus.startswith("arn:"):
        return False
    parts = bus.split(":")
    return len(parts) >= 6 and parts[4] != backend.account_id


def install() -> None:
    """Patch moto's SNS and EventBridge backends (idempotent)."""
    if _INSTALLED:
        return
    from moto.events.models import EventsBackend
    from moto.sns.models import SNSBackend

    original_publish = SNSBackend.publish
    original_put_events = EventsBackend.put_events

    def publish(self: Any, message: str, arn: str | None, *args: Any, **kwargs: Any) -> str:
        refused = _publishing_refused(self, arn)
        if refused is not None:
            raise refused
        return original_publish(self, message, arn, *args, **kwargs)

    def put_events(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for entry in events:
            if _other_account(self, entry.get("EventBusName")):
                results.append(_put_cross_account(self, entry))
            else:
                results.extend(original_put_events(self, [entry]))
        return results

    SNSBackend.publish = publish  # type: ignore[method-assign]
    EventsBackend.put_events = put_events  # type: ignore[method-assign]
    _INSTALLED.append(True)
