"""The invariants, checked the way an auditor would: by reading moto's state
directly, not through trailguard's own drift logic.

Besides the invariants, observations: state a scenario shows that is not an
invariant trailguard restores. An observation never counts as an invariant left
broken. Checks of trailguard itself (one of its rules, the alert key) are
restored by trailguard but exist only once a scenario deployed them: they are
checked where a scenario watches them, not at the end of every drill.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drill.routing import rule_name
from drill.world import REGION, World

# trailguard's rule that tamper-with-trailguard disables. The seeded world deploys no
# rules (EventBridge's matching is the drill's own): that scenario creates it first.
WATCHED_RULE_OF = ("RestoreTrailFunction", "TrailChanged")
WATCHED_RULE = rule_name(*WATCHED_RULE_OF)


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    holds: bool
    state: str  # what was seen, in a word or two
    detail: str = ""  # what differs, when a word is not enough
    invariant: bool = True  # False: an observation, shown but not restored by trailguard


def _trusted_access(world: World) -> Check:
    enabled = world.trusted_access_enabled()
    return Check(
        "trusted-access",
        "I1 trusted access for CloudTrail",
        enabled,
        "enabled" if enabled else "DISABLED",
    )


def _service_linked_role(world: World) -> Check:
    exists = world.service_linked_role_exists()
    return Check(
        "service-linked-role",
        "I6 CloudTrail service-linked role",
        exists,
        "exists" if exists else "MISSING",
    )


def _trail_exists(world: World) -> Check:
    exists = world.trail() is not None
    return Check("trail-exists", "I3 trail exists", exists, "present" if exists else "DELETED")


def _trail_logging(world: World) -> Check:
    if world.trail() is None:
        return Check("trail-logging", "I2 trail logging", False, "no trail")
    logging = world.is_logging()
    return Check("trail-logging", "I2 trail logging", logging, "on" if logging else "OFF")


def _camel(field_name: str) -> str:
    return "".join(part.capitalize() for part in field_name.split("_"))


def _differences(live: Any, baseline: Any) -> list[str]:
    names = [_camel(key) for key, _, _ in baseline.settings.differences(live.settings)]
    if live.selectors.event_selectors != baseline.selectors.event_selectors or (
        live.selectors.advanced_event_selectors != baseline.selectors.advanced_event_selectors
    ):
        names.append("event selectors")
    if live.selectors.insight_selectors != baseline.selectors.insight_selectors:
        names.append("insight selectors")
    if dict(live.tags) != dict(baseline.tags):
        names.append("tags")
    return names


def _trail_baseline(world: World) -> Check:
    label = "I4/I5 trail matches baseline"
    baseline = world.baseline()
    if baseline is None:
        return Check("trail-baseline", label, False, "NO BASELINE")
    live = world.snapshot()
    if live is None:
        return Check("trail-baseline", label, False, "no trail")
    if live == baseline.snapshot:
        return Check("trail-baseline", label, True, "matches")
    differing = _differences(live, baseline.snapshot) or ["snapshot"]
    return Check(
        "trail-baseline",
        label,
        False,
        f"DIFFERS ({len(differing)})",
        ", ".join(differing) + " differ from the baseline",
    )


def _watched_rule(world: World) -> Check:
    import boto3
    from botocore.exceptions import ClientError

    label = f"trailguard's rule {WATCHED_RULE_OF[1]}"
    try:
        state = str(
            boto3.client("events", region_name=REGION).describe_rule(Name=WATCHED_RULE)["State"]
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        state = "MISSING"
    # Restored by trailguard (EnableRule), so it counts as an invariant where watched.
    return Check("trailguard-rule", label, state == "ENABLED", state)


def _alert_key(world: World) -> Check:
    import boto3

    key = world.environment["ALERT_KEY_ARN"].rsplit("/", 1)[-1]
    state = str(
        boto3.client("kms", region_name=REGION).describe_key(KeyId=key)["KeyMetadata"]["KeyState"]
    )
    # Restored by trailguard (EnableKey, CancelKeyDeletion): an invariant where watched.
    return Check("alert-key", "trailguard's alert topic key", state == "Enabled", state)


def _same(a: Any, b: Any) -> bool:
    import json

    return bool(json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True))


def _aws_error(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _policy_gaps(live: dict[str, Any], seeded: dict[str, Any]) -> list[str]:
    """What an auditor would point at: a statement of the seeded policy for CloudTrail
    or for the account's administrators that is missing, or a Deny that was not there.
    Other statements are the owner's business, not the delivery's."""
    present = live.get("Statement", [])
    needed = [
        s
        for s in seeded["Statement"]
        if s["Effect"] == "Allow"
        and (
            s["Principal"].get("Service") == "cloudtrail.amazonaws.com"
            or (str(s["Principal"].get("AWS", "")).endswith(":root") and s["Action"] == "kms:*")
        )
    ]
    missing = [s["Sid"] for s in needed if not any(_same(s, p) for p in present)]
    denies = [
        p.get("Sid", "?")
        for p in present
        if p.get("Effect") == "Deny" and not any(_same(p, s) for s in seeded["Statement"])
    ]
    return [f"{sid} missing" for sid in missing] + [f"new Deny {sid}" for sid in denies]


def _delivery_bucket(world: World) -> Check:
    """The bucket as seeded: present, versioned, CloudTrail's statements, no new
    Deny, the seven-year lifecycle rule only."""
    import json

    from drill.world import LOG_BUCKET

    label = f"I8 delivery bucket (account {world.chain_account})"
    s3 = world.chain_client("s3")
    try:
        s3.head_bucket(Bucket=LOG_BUCKET)
    except Exception as exc:
        if _aws_error(exc) in ("404", "NoSuchBucket"):
            return Check("delivery-bucket", label, False, "DELETED")
        raise
    problems = []
    if s3.get_bucket_versioning(Bucket=LOG_BUCKET).get("Status") != "Enabled":
        problems.append("versioning not enabled")
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=LOG_BUCKET)["Policy"])
    except Exception as exc:
        if _aws_error(exc) != "NoSuchBucketPolicy":
            raise
        policy = {}
    problems += _policy_gaps(policy, world.bucket_policy())
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=LOG_BUCKET)["Rules"]
    except Exception as exc:
        if _aws_error(exc) != "NoSuchLifecycleConfiguration":
            raise
        rules = []
    if not _same(rules, [world.lifecycle_rule()]):
        problems.append("lifecycle differs")
    if problems:
        return Check("delivery-bucket", label, False, "BROKEN", "; ".join(problems))
    return Check("delivery-bucket", label, True, "matches")


def _delivery_key(world: World) -> Check:
    import json

    label = f"I8 delivery key (account {world.chain_account})"
    kms = world.chain_client("kms")
    key = kms.describe_key(KeyId=world.trail_key_arn)["KeyMetadata"]
    problems = [] if key["KeyState"] == "Enabled" else [f"key {key['KeyState']}"]
    document = kms.get_key_policy(KeyId=world.trail_key_arn, PolicyName="default")["Policy"]
    policy = json.loads(document)
    problems += _policy_gaps(policy, world.key_policy())
    if problems:
        state = "DISABLED" if key["KeyState"] != "Enabled" else "BROKEN"
        return Check("delivery-key", label, False, state, "; ".join(problems))
    return Check("delivery-key", label, True, "enabled")


def _delivery_log_group(world: World) -> Check:
    from drill.world import TRAIL_LOG_GROUP, TRAIL_LOG_RETENTION_DAYS, aws_client

    label = "I8 trail log group"
    groups = aws_client("logs").describe_log_groups(logGroupNamePrefix=TRAIL_LOG_GROUP)
    found = [g for g in groups["logGroups"] if g["logGroupName"] == TRAIL_LOG_GROUP]
    if not found:
        return Check("delivery-log-group", label, False, "DELETED")
    if found[0].get("retentionInDays") != TRAIL_LOG_RETENTION_DAYS:
        return Check("delivery-log-group", label, False, "RETENTION CHANGED")
    return Check("delivery-log-group", label, True, "present")


INVARIANTS: dict[str, Callable[[World], Check]] = {
    "trusted-access": _trusted_access,
    "service-linked-role": _service_linked_role,
    "trail-exists": _trail_exists,
    "trail-logging": _trail_logging,
    "trail-baseline": _trail_baseline,
    "delivery-bucket": _delivery_bucket,
    "delivery-key": _delivery_key,
    "delivery-log-group": _delivery_log_group,
}
OBSERVATIONS: dict[str, Callable[[World], Check]] = {
    "trailguard-rule": _watched_rule,
    "alert-key": _alert_key,
}
CHECKS: dict[str, Callable[[World], Check]] = {**INVARIANTS, **OBSERVATIONS}
EVERY_CHECK = tuple(INVARIANTS)  # every invariant; observations are a scenario's to watch


def check(world: World, keys: tuple[str, ...] = EVERY_CHECK) -> tuple[Check, ...]:
    return tuple(CHECKS[key](world) for key in keys)
