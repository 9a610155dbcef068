"""The delivery chain: the bucket, key and log group a trail writes to. Pure logic.

A trail that writes to a bucket it may not write to, or encrypts with a key that
is disabled, records nothing, and no CloudTrail call is needed to get there. So
the baseline of a protected trail also holds its chain as it was at capture, and
live state is compared with it here: which CloudTrail statements of the bucket and
key policies are missing, which statements deny CloudTrail, whether logs expire
sooner, whether versioning, the key or the log group are gone. The repairs keep
what is unrelated to CloudTrail (other statements, the key's administrators).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from fnmatch import fnmatchcase
from typing import Any

CLOUDTRAIL = "cloudtrail.amazonaws.com"
# What CloudTrail does with the bucket and the key when it delivers.
_BUCKET_ACTIONS = ("s3:PutObject", "s3:GetBucketAcl")
_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:DescribeKey")
# Without these a key policy locks every IAM principal of the account out of the key
# (AWS KMS Developer Guide, "Default key policy"): a repair never drops them.
_KEY_ADMIN_ACTIONS = ("kms:PutKeyPolicy",)


class Part(Enum):
    """A link of the chain: what one event can have changed and one read covers."""

    BUCKET = "bucket"
    KEY = "key"
    LOG_GROUP = "log_group"


EVERY_PART = frozenset(Part)


class ChainStep(Enum):
    """Repair steps, declared in the order they run: the bucket first (recreated with
    its settings before its policy), then the key, then the log group."""

    CREATE_BUCKET = "CreateBucket"
    PUT_BUCKET_ENCRYPTION = "PutBucketEncryption"
    PUT_BUCKET_VERSIONING = "PutBucketVersioning"
    PUT_OBJECT_LOCK = "PutObjectLockConfiguration"
    PUT_BUCKET_POLICY = "PutBucketPolicy"
    PUT_BUCKET_LIFECYCLE = "PutBucketLifecycleConfiguration"
    DELETE_BUCKET_LIFECYCLE = "DeleteBucketLifecycle"
    CANCEL_KEY_DELETION = "CancelKeyDeletion"
    ENABLE_KEY = "EnableKey"
    PUT_KEY_POLICY = "PutKeyPolicy"
    CREATE_LOG_GROUP = "CreateLogGroup"
    PUT_RETENTION_POLICY = "PutRetentionPolicy"


_STEP_ORDER = {step: index for index, step in enumerate(ChainStep)}


# ------------------------------------------------------------------ policy statements


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def canonical(value: Any) -> str:
    """Order-insensitive JSON: AWS may return lists and keys in another order."""

    def normalise(node: Any) -> Any:
        if isinstance(node, Mapping):
            return {k: normalise(v) for k, v in sorted(node.items())}
        if isinstance(node, list | tuple):
            items = [normalise(v) for v in node]
            if len(items) == 1:
                return items[0]  # "Action": "x" and "Action": ["x"] mean the same
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
        return node

    return json.dumps(normalise(value), sort_keys=True)


def statements(policy: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not policy:
        return []
    return [s for s in _as_list(policy.get("Statement")) if isinstance(s, Mapping)]


def _names_cloudtrail(principal: Any) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    return CLOUDTRAIL in _as_list(principal.get("Service")) or "*" in _as_list(principal.get("AWS"))


def _covers(patterns: list[Any], actions: Sequence[str]) -> bool:
    lowered = [str(p).lower() for p in patterns]
    return any(fnmatchcase(a.lower(), p) for a in actions for p in lowered)


def grants_cloudtrail(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    return (
        statement.get("Effect") == "Allow"
        and isinstance(principal, Mapping)
        and CLOUDTRAIL in _as_list(principal.get("Service"))
    )


def _benign_condition(condition: Any) -> bool:
    """A deny that only refuses plain HTTP: CloudTrail always writes over TLS, and
    this statement is the usual hardening of a log bucket, not an attack."""
    if not isinstance(condition, Mapping) or set(condition) != {"Bool"}:
        return False
    flags = condition["Bool"]
    return isinstance(flags, Mapping) and set(flags) == {"aws:SecureTransport"}


def denies_cloudtrail(statement: Mapping[str, Any], actions: Sequence[str]) -> bool:
    """Whether a Deny statement can stop CloudTrail's `actions`.

    Any other condition counts as denying: an attacker can write one that always
    holds (StringNotEquals on an account that does not exist), and a condition
    that really spares CloudTrail is rare on a log bucket.
    """
    if statement.get("Effect") != "Deny":
        return False
    if _benign_condition(statement.get("Condition")):
        return False
    if "NotPrincipal" in statement:
        principal_hit = not _names_cloudtrail(statement["NotPrincipal"])
    else:
        principal_hit = _names_cloudtrail(statement.get("Principal"))
    if "NotAction" in statement:
        action_hit = not _covers(_as_list(statement["NotAction"]), actions)
    else:
        action_hit = _covers(_as_list(statement.get("Action")), actions)
    return principal_hit and action_hit


def _contains(pool: list[Mapping[str, Any]], statement: Mapping[str, Any]) -> bool:
    wanted = canonical(statement)
    return any(canonical(s) == wanted for s in pool)


def key_admin_statements(policy: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """Statements that let someone manage the key (change its policy)."""
    return [
        s
        for s in statements(policy)
        if s.get("Effect") == "Allow"
        and not grants_cloudtrail(s)
        and _covers(_as_list(s.get("Action")), _KEY_ADMIN_ACTIONS)
    ]


def repaired_policy(
    baseline: Mapping[str, Any] | None,
    live: Mapping[str, Any] | None,
    actions: Sequence[str],
    keep_admins: bool = False,
) -> dict[str, Any]:
    """The live policy with CloudTrail's baseline statements back and denials of
    CloudTrail gone; every other live statement stays. Denials that were already in
    the baseline stay too: they were there when the baseline was trusted.

    `keep_admins` (key policies): the baseline's administration statements are put
    back when the live policy has none, so the account never loses its key.
    """
    baseline_statements = statements(baseline)
    kept = [
        s
        for s in statements(live)
        if not grants_cloudtrail(s)
        and (not denies_cloudtrail(s, actions) or _contains(baseline_statements, s))
    ]
    restored = [s for s in baseline_statements if grants_cloudtrail(s)]
    if keep_admins and not key_admin_statements({"Statement": kept}):
        restored = key_admin_statements(baseline) + restored
    document: dict[str, Any] = {"Version": "2012-10-17"}
    policy_id = (live or {}).get("Id") or (baseline or {}).get("Id")
    if policy_id:
        document["Id"] = policy_id
    document["Statement"] = [dict(s) for s in kept + restored]
    return document


def policy_drift(
    baseline: Mapping[str, Any] | None,
    live: Mapping[str, Any] | None,
    actions: Sequence[str],
    what: str,
) -> list[str]:
    baseline_statements = statements(baseline)
    live_statements = statements(live)
    found = []
    for statement in baseline_statements:
        if grants_cloudtrail(statement) and not _contains(live_statements, statement):
            sid = statement.get("Sid")
            label = f"statement {sid!r}" if isinstance(sid, str) and sid else "a statement"
            found.append(f"{what}: {label} granting CloudTrail is missing or changed")
    for statement in live_statements:
        if denies_cloudtrail(statement, actions) and not _contains(baseline_statements, statement):
            sid = statement.get("Sid")
            label = f"statement {sid!r}" if isinstance(sid, str) and sid else "a statement"
            found.append(f"{what}: {label} denies CloudTrail")
    return found


# ------------------------------------------------------------------ state of each link


@dataclass(frozen=True)
class BucketState:
    exists: bool
    region: str = ""
    policy: Mapping[str, Any] | None = None
    lifecycle_rules: tuple[Mapping[str, Any], ...] = ()
    versioning: str = ""  # "Enabled", "Suspended" or "" (never enabled)
    object_lock: Mapping[str, Any] | None = None  # ObjectLockConfiguration, when there is one
    encryption: Mapping[str, Any] | None = None  # ServerSideEncryptionConfiguration


@dataclass(frozen=True)
class KeyState:
    exists: bool
    state: str = ""  # Enabled, Disabled, PendingDeletion, ...
    policy: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class LogGroupState:
    exists: bool
    retention_days: int | None = None
    # Whether the role CloudTrail uses to write to the group exists (None: no role
    # configured, or not read).
    role_exists: bool | None = None


@dataclass(frozen=True)
class ChainLocation:
    """Where the links are. `bucket_account` is the account that owns the bucket
    (the management account, or the log-archive account trailguard is told of)."""

    bucket_name: str
    bucket_account: str
    key_arn: str = ""
    log_group_name: str = ""
    logs_role_arn: str = ""

    @property
    def key_account(self) -> str:
        parts = self.key_arn.split(":")
        return parts[4] if len(parts) > 5 and parts[2] == "kms" else ""

    @property
    def key_region(self) -> str:
        parts = self.key_arn.split(":")
        return parts[3] if len(parts) > 5 and parts[2] == "kms" else ""

    @property
    def key_id(self) -> str:
        return self.key_arn.rsplit("/", 1)[-1] if self.key_arn else ""

    def account_of(self, part: Part, home_account: str) -> str:
        if part is Part.BUCKET:
            return self.bucket_account
        if part is Part.KEY:
            return self.key_account
        return home_account  # a trail's log group is always in the trail's account

    def resource_of(self, part: Part) -> str:
        if part is Part.BUCKET:
            return f"arn:aws:s3:::{self.bucket_name}"
        if part is Part.KEY:
            return self.key_arn
        return f"log group {self.log_group_name}"

    def parts(self) -> frozenset[Part]:
        found = {Part.BUCKET}
        if self.key_arn:
            found.add(Part.KEY)
        if self.log_group_name:
            found.add(Part.LOG_GROUP)
        return frozenset(found)


def log_group_name_of(log_group_arn: str) -> str:
    """arn:aws:logs:<region>:<account>:log-group:<name>[:*] -> <name>."""
    marker = ":log-group:"
    if marker not in log_group_arn:
        return ""
    name = log_group_arn.split(marker, 1)[1]
    return name[:-2] if name.endswith(":*") else name


@dataclass(frozen=True)
class DeliveryChain:
    """The chain as read at one moment. A link that could not be read is None, and
    `unreadable` says why (an account trailguard cannot reach)."""

    location: ChainLocation
    bucket: BucketState | None = None
    key: KeyState | None = None
    log_group: LogGroupState | None = None
    unreadable: Mapping[str, str] = field(default_factory=dict)  # part value -> reason

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=_plain)

    @classmethod
    def from_json(cls, text: str) -> DeliveryChain:
        document = json.loads(text)
        bucket, key, group = document.get("bucket"), document.get("key"), document.get("log_group")
        if bucket is not None:
            bucket["lifecycle_rules"] = tuple(bucket.get("lifecycle_rules") or ())
        return cls(
            location=ChainLocation(**document["location"]),
            bucket=BucketState(**bucket) if bucket is not None else None,
            key=KeyState(**key) if key is not None else None,
            log_group=LogGroupState(**group) if group is not None else None,
            unreadable=dict(document.get("unreadable") or {}),
        )

    def merged(self, other: DeliveryChain) -> DeliveryChain:
        """This chain with the links `other` read replacing its own, and `other`'s
        location (where trailguard now looks for them)."""
        unreadable = {**self.unreadable, **other.unreadable}
        for part, state in (
            (Part.BUCKET, other.bucket),
            (Part.KEY, other.key),
            (Part.LOG_GROUP, other.log_group),
        ):
            if state is not None:
                unreadable.pop(part.value, None)
        return replace(
            self,
            location=other.location,
            bucket=other.bucket or self.bucket,
            key=other.key or self.key,
            log_group=other.log_group or self.log_group,
            unreadable=unreadable,
        )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


# ------------------------------------------------------------------ drift


@dataclass(frozen=True)
class ChainDrift:
    part: Part
    summary: str
    steps: tuple[ChainStep, ...]


def _expiry_days(rules: Sequence[Mapping[str, Any]]) -> int | None:
    """The soonest expiration of current objects among enabled rules (None: never)."""
    days = [
        int(rule["Expiration"]["Days"])
        for rule in rules
        if rule.get("Status") == "Enabled"
        and isinstance(rule.get("Expiration"), Mapping)
        and isinstance(rule["Expiration"].get("Days"), int)
    ]
    return min(days) if days else None


def _lifecycle_summary(baseline: BucketState, live: BucketState) -> str:
    live_days, baseline_days = (
        _expiry_days(live.lifecycle_rules),
        _expiry_days(baseline.lifecycle_rules),
    )
    if live_days is not None and (baseline_days is None or live_days < baseline_days):
        kept = "kept" if baseline_days is None else f"expired after {baseline_days} day(s)"
        return f"bucket lifecycle expires log files after {live_days} day(s); baseline: {kept}"
    return "bucket lifecycle configuration differs from the baseline"


def bucket_drift(baseline: BucketState, live: BucketState, bucket: str) -> list[ChainDrift]:
    if not baseline.exists:
        return []
    if not live.exists:
        steps = [ChainStep.CREATE_BUCKET]
        if baseline.encryption:
            steps.append(ChainStep.PUT_BUCKET_ENCRYPTION)
        if baseline.versioning == "Enabled":
            steps.append(ChainStep.PUT_BUCKET_VERSIONING)
        if baseline.object_lock:
            steps.append(ChainStep.PUT_OBJECT_LOCK)
        if baseline.policy:
            steps.append(ChainStep.PUT_BUCKET_POLICY)
        if baseline.lifecycle_rules:
            steps.append(ChainStep.PUT_BUCKET_LIFECYCLE)
        return [ChainDrift(Part.BUCKET, f"bucket {bucket} does not exist", tuple(steps))]
    found: list[ChainDrift] = []
    if baseline.versioning == "Enabled" and live.versioning != "Enabled":
        state = live.versioning or "not enabled"
        found.append(
            ChainDrift(
                Part.BUCKET,
                f"bucket versioning is {state}, baseline Enabled",
                (ChainStep.PUT_BUCKET_VERSIONING,),
            )
        )
    if baseline.object_lock and canonical(baseline.object_lock) != canonical(live.object_lock):
        found.append(
            ChainDrift(
                Part.BUCKET,
                "bucket Object Lock configuration differs from the baseline",
                (ChainStep.PUT_OBJECT_LOCK,),
            )
        )
    for summary in policy_drift(baseline.policy, live.policy, _BUCKET_ACTIONS, "bucket policy"):
        found.append(ChainDrift(Part.BUCKET, summary, (ChainStep.PUT_BUCKET_POLICY,)))
    if canonical(list(baseline.lifecycle_rules)) != canonical(list(live.lifecycle_rules)):
        step = (
            ChainStep.PUT_BUCKET_LIFECYCLE
            if baseline.lifecycle_rules
            else ChainStep.DELETE_BUCKET_LIFECYCLE
        )
        found.append(ChainDrift(Part.BUCKET, _lifecycle_summary(baseline, live), (step,)))
    return found


def key_drift(baseline: KeyState, live: KeyState, key_arn: str) -> list[ChainDrift]:
    if not baseline.exists:
        return []
    if not live.exists:
        # Deleted after its waiting period: no API brings a KMS key back.
        return [ChainDrift(Part.KEY, f"KMS key {key_arn} no longer exists", ())]
    found: list[ChainDrift] = []
    if baseline.state == "Enabled" and live.state != "Enabled":
        steps: tuple[ChainStep, ...] = (ChainStep.ENABLE_KEY,)
        if live.state == "PendingDeletion":
            # CancelKeyDeletion leaves the key Disabled: EnableKey must follow.
            steps = (ChainStep.CANCEL_KEY_DELETION, ChainStep.ENABLE_KEY)
        found.append(ChainDrift(Part.KEY, f"KMS key is {live.state}, baseline Enabled", steps))
    for summary in policy_drift(baseline.policy, live.policy, _KEY_ACTIONS, "key policy"):
        found.append(ChainDrift(Part.KEY, summary, (ChainStep.PUT_KEY_POLICY,)))
    return found


def log_group_drift(
    baseline: LogGroupState, live: LogGroupState, name: str, role_arn: str = ""
) -> list[ChainDrift]:
    found: list[ChainDrift] = []
    if baseline.role_exists and live.role_exists is False:
        # The role's trust and permissions are not in the baseline: it is for a human
        # to recreate (IAM events reach only us-east-1; the reconciler finds it).
        found.append(
            ChainDrift(Part.LOG_GROUP, f"CloudWatch Logs role {role_arn} no longer exists", ())
        )
    if not baseline.exists:
        return found
    if not live.exists:
        steps: tuple[ChainStep, ...] = (ChainStep.CREATE_LOG_GROUP,)
        if baseline.retention_days:
            steps += (ChainStep.PUT_RETENTION_POLICY,)
        return [ChainDrift(Part.LOG_GROUP, f"log group {name} does not exist", steps), *found]
    if baseline.retention_days and live.retention_days != baseline.retention_days:
        shown = f"{live.retention_days} day(s)" if live.retention_days else "never expire"
        found.insert(
            0,
            ChainDrift(
                Part.LOG_GROUP,
                f"log group retention is {shown}, baseline {baseline.retention_days} day(s)",
                (ChainStep.PUT_RETENTION_POLICY,),
            ),
        )
    return found


def chain_drift(
    baseline: DeliveryChain, live: DeliveryChain, parts: frozenset[Part] = EVERY_PART
) -> list[ChainDrift]:
    """Every difference between the baseline chain and the live one, for the parts
    asked and read. A link the baseline could not read is never judged."""
    where = baseline.location
    found: list[ChainDrift] = []
    if Part.BUCKET in parts and baseline.bucket and live.bucket:
        found += bucket_drift(baseline.bucket, live.bucket, where.bucket_name)
    if Part.KEY in parts and baseline.key and live.key:
        found += key_drift(baseline.key, live.key, where.key_arn)
    if Part.LOG_GROUP in parts and baseline.log_group and live.log_group:
        found += log_group_drift(
            baseline.log_group, live.log_group, where.log_group_name, where.logs_role_arn
        )
    return found


def repair_steps(drifts: Sequence[ChainDrift]) -> list[ChainStep]:
    steps = {step for drift in drifts for step in drift.steps}
    return sorted(steps, key=_STEP_ORDER.__getitem__)


# ------------------------------------------------------------------ advice


def unreachable_advice(location: ChainLocation, part: Part, home_account: str) -> str:
    """What on-call must do about a link trailguard cannot reach: which account and
    resource to fix, and that the companion stack would repair it.

    A bucket's owner is not in its name: when trailguard was not told of a log-archive
    account and S3 refuses the management account, the bucket is in another account."""
    account = location.account_of(part, home_account)
    resource = location.resource_of(part)
    where = f"account {account}"
    if not account or (part is Part.BUCKET and account == home_account):
        where = f"the account that owns it (not {home_account}, which it refused)"
    return (
        f"check and repair {resource} in {where} by hand; deploy the log-archive companion "
        f"stack (companions/log-archive/) in that account and set LogArchiveAccountId, "
        f"so that trailguard repairs it itself"
    )


def bucket_lost_detail(bucket: str) -> str:
    return (
        f"Bucket {bucket} was deleted and has been recreated empty. The log files "
        f"stored in it are gone: no one, not AWS either, can bring them back. CloudTrail "
        f"retries delivery for a while, so files written after the deletion may still arrive."
    )
