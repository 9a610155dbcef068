"""domain/delivery_chain.py: which statements grant or deny CloudTrail, what a
repaired policy keeps, what is drift, and the baseline's JSON. Pure logic."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes import BASELINE, REF
from trailguard.adapters.baseline_store import _baseline, _item, signed_message
from trailguard.domain.delivery_chain import (
    BucketState,
    ChainLocation,
    ChainStep,
    DeliveryChain,
    KeyState,
    LogGroupState,
    Part,
    bucket_drift,
    chain_drift,
    denies_cloudtrail,
    key_drift,
    log_group_drift,
    log_group_name_of,
    repair_steps,
    repaired_policy,
    unreachable_advice,
)
from trailguard.domain.trails import TrailBaseline

BUCKET_ACTIONS = ("s3:PutObject", "s3:GetBucketAcl")
KEY_ACTIONS = ("kms:GenerateDataKey", "kms:DescribeKey")
CLOUDTRAIL = {"Service": "cloudtrail.amazonaws.com"}
WRITE = {
    "Sid": "AWSCloudTrailWrite",
    "Effect": "Allow",
    "Principal": CLOUDTRAIL,
    "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::logs/AWSLogs/111111111111/*",
}
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": "arn:aws:s3:::logs/*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
READER = {
    "Sid": "Reader",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::logs/*",
}
ADMIN = {
    "Sid": "Admin",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
    "Action": "kms:*",
    "Resource": "*",
}
KEY_FOR_CLOUDTRAIL = {
    "Sid": "CloudTrail",
    "Effect": "Allow",
    "Principal": CLOUDTRAIL,
    "Action": "kms:GenerateDataKey*",
    "Resource": "*",
}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def deny(**fields: Any) -> dict[str, Any]:
    return {"Sid": "Evil", "Effect": "Deny", "Resource": "*", **fields}


@pytest.mark.parametrize(
    ("statement", "denies"),
    [
        (deny(Principal=CLOUDTRAIL, Action="s3:PutObject"), True),
        (deny(Principal="*", Action="s3:*"), True),
        (deny(Principal={"AWS": "*"}, Action=["s3:Put*"]), True),
        (deny(Principal={"Service": ["cloudtrail.amazonaws.com"]}, Action="s3:getbucketacl"), True),
        (deny(Principal="*", Action="*"), True),
        # NotPrincipal without CloudTrail: everyone else, CloudTrail included, is denied.
        (deny(NotPrincipal={"AWS": "arn:aws:iam::1:root"}, Action="s3:PutObject"), True),
        (deny(NotPrincipal=CLOUDTRAIL, Action="s3:PutObject"), False),
        (deny(Principal="*", NotAction="s3:GetObject"), True),
        (deny(Principal="*", NotAction=["s3:PutObject", "s3:GetBucketAcl"]), False),
        # A condition an attacker can make always true counts as denying.
        (
            deny(
                Principal="*",
                Action="s3:PutObject",
                Condition={"StringNotEquals": {"aws:SourceAccount": "000000000000"}},
            ),
            True,
        ),
        (TLS_ONLY, False),
        (deny(Principal={"AWS": "arn:aws:iam::1:root"}, Action="s3:*"), False),
        (deny(Principal="*", Action="s3:DeleteObject"), False),
        (WRITE, False),
    ],
)
def test_which_statements_deny_cloudtrail(statement: dict[str, Any], denies: bool) -> None:
    assert denies_cloudtrail(statement, BUCKET_ACTIONS) is denies


def test_repaired_bucket_policy_restores_cloudtrail_drops_denials_keeps_the_rest() -> None:
    baseline = policy(WRITE, TLS_ONLY, READER)
    changed_write = {**WRITE, "Resource": "arn:aws:s3:::logs/elsewhere/*"}
    evil = deny(Principal=CLOUDTRAIL, Action="s3:PutObject")
    added = {**READER, "Sid": "AddedLater"}

    repaired = repaired_policy(
        baseline, policy(changed_write, TLS_ONLY, evil, added), BUCKET_ACTIONS
    )

    assert repaired["Statement"] == [TLS_ONLY, added, WRITE]


def test_a_denial_that_was_in_the_baseline_stays() -> None:
    accepted = deny(Principal="*", Action="s3:PutObject", Sid="Accepted")
    repaired = repaired_policy(policy(WRITE, accepted), policy(accepted), BUCKET_ACTIONS)
    assert repaired["Statement"] == [accepted, WRITE]


def test_repaired_key_policy_never_locks_the_account_out() -> None:
    baseline = policy(ADMIN, KEY_FOR_CLOUDTRAIL)
    # The attacker left only a statement that cannot manage the key.
    user = {**READER, "Action": "kms:Decrypt", "Sid": "User"}

    repaired = repaired_policy(baseline, policy(user), KEY_ACTIONS, keep_admins=True)

    assert repaired["Statement"] == [user, ADMIN, KEY_FOR_CLOUDTRAIL]


def test_repaired_key_policy_keeps_the_live_administrators_it_finds() -> None:
    other_admin = {**ADMIN, "Sid": "OtherAdmin", "Principal": {"AWS": "arn:aws:iam::2:role/x"}}
    repaired = repaired_policy(
        policy(ADMIN, KEY_FOR_CLOUDTRAIL), policy(other_admin), KEY_ACTIONS, keep_admins=True
    )
    assert repaired["Statement"] == [other_admin, KEY_FOR_CLOUDTRAIL]


def test_lifecycle_drift_names_the_sooner_expiry() -> None:
    keep = {"ID": "Keep", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 400}}
    nuke = {"ID": "Nuke", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}
    baseline = BucketState(True, lifecycle_rules=(keep,))
    [drift] = bucket_drift(baseline, BucketState(True, lifecycle_rules=(keep, nuke)), "logs")
    assert drift.summary == (
        "bucket lifecycle expires log files after 1 day(s); baseline: expired after 400 day(s)"
    )
    assert drift.steps == (ChainStep.PUT_BUCKET_LIFECYCLE,)
    [added] = bucket_drift(BucketState(True), BucketState(True, lifecycle_rules=(nuke,)), "logs")
    assert added.steps == (ChainStep.DELETE_BUCKET_LIFECYCLE,)
    assert "baseline: kept" in added.summary


def test_a_missing_bucket_is_rebuilt_in_order() -> None:
    baseline = BucketState(
        True,
        policy=policy(WRITE),
        lifecycle_rules=({"ID": "k"},),
        versioning="Enabled",
        encryption={"Rules": []},
    )
    [drift] = bucket_drift(baseline, BucketState(False), "logs")
    assert repair_steps([drift]) == [
        ChainStep.CREATE_BUCKET,
        ChainStep.PUT_BUCKET_ENCRYPTION,
        ChainStep.PUT_BUCKET_VERSIONING,
        ChainStep.PUT_BUCKET_POLICY,
        ChainStep.PUT_BUCKET_LIFECYCLE,
    ]


def test_versioning_is_drift_only_when_the_baseline_had_it() -> None:
    assert bucket_drift(BucketState(True), BucketState(True, versioning="Suspended"), "b") == []
    [drift] = bucket_drift(
        BucketState(True, versioning="Enabled"), BucketState(True, versioning="Suspended"), "b"
    )
    assert drift.summary == "bucket versioning is Suspended, baseline Enabled"


@pytest.mark.parametrize(
    ("state", "steps"),
    [
        ("Disabled", (ChainStep.ENABLE_KEY,)),
        ("PendingDeletion", (ChainStep.CANCEL_KEY_DELETION, ChainStep.ENABLE_KEY)),
    ],
)
def test_key_state_repairs(state: str, steps: tuple[ChainStep, ...]) -> None:
    [drift] = key_drift(KeyState(True, "Enabled"), KeyState(True, state), "arn")
    assert drift.steps == steps


def test_a_deleted_key_has_no_repair() -> None:
    [drift] = key_drift(KeyState(True, "Enabled"), KeyState(False), "arn:key")
    assert drift.steps == ()
    assert drift.summary == "KMS key arn:key no longer exists"


def test_log_group_drift() -> None:
    baseline = LogGroupState(True, 365)
    [gone] = log_group_drift(baseline, LogGroupState(False), "g")
    assert gone.steps == (ChainStep.CREATE_LOG_GROUP, ChainStep.PUT_RETENTION_POLICY)
    [shorter] = log_group_drift(baseline, LogGroupState(True, 1), "g")
    assert shorter.summary == "log group retention is 1 day(s), baseline 365 day(s)"
    assert log_group_drift(baseline, LogGroupState(True, 365), "g") == []


LOCATION = ChainLocation(
    bucket_name="logs",
    bucket_account="222222222222",
    key_arn="arn:aws:kms:eu-west-1:222222222222:key/abc",
    log_group_name="org-trail",
)


def test_location() -> None:
    assert (LOCATION.key_account, LOCATION.key_region, LOCATION.key_id) == (
        "222222222222",
        "eu-west-1",
        "abc",
    )
    assert LOCATION.parts() == frozenset(Part)
    assert log_group_name_of("arn:aws:logs:us-east-1:1:log-group:org-trail:*") == "org-trail"
    assert log_group_name_of("") == ""


def test_links_not_read_are_never_judged() -> None:
    baseline = DeliveryChain(LOCATION, bucket=None, key=KeyState(True, "Enabled"))
    live = DeliveryChain(LOCATION, bucket=BucketState(False), key=None)
    assert chain_drift(baseline, live) == []


def test_unreachable_advice_names_account_resource_and_companion() -> None:
    advice = unreachable_advice(LOCATION, Part.KEY, "111111111111")
    assert "arn:aws:kms:eu-west-1:222222222222:key/abc in account 222222222222" in advice
    assert "companions/log-archive/" in advice
    here = ChainLocation(bucket_name="logs", bucket_account="111111111111")
    assert "the account that owns it (not 111111111111" in unreachable_advice(
        here, Part.BUCKET, "111111111111"
    )


def test_chain_json_round_trip_and_old_baseline_items_still_read() -> None:
    chain = DeliveryChain(
        LOCATION,
        bucket=BucketState(True, "us-east-1", policy(WRITE), ({"ID": "k"},), "Enabled"),
        key=KeyState(True, "Enabled", policy(ADMIN)),
        log_group=LogGroupState(True, 365),
        unreadable={},
    )
    assert DeliveryChain.from_json(chain.to_json()) == chain
    assert json.loads(chain.to_json())["location"]["bucket_account"] == "222222222222"

    with_chain = TrailBaseline(BASELINE, "2026-11-01T00:00:00+00:00", "op", "why", chain)
    version = "V#2026-11-01T00:00:00+00:00"
    assert _baseline(_item(with_chain, "CURRENT", version, "mac")) == with_chain
    # An item written before the chain was recorded has no such attribute.
    without = TrailBaseline(BASELINE, "2026-11-01T00:00:00+00:00", "op", "why")
    old = _item(without, "CURRENT", version, "mac")
    assert "delivery_chain" not in old
    assert _baseline(old).chain is None
    # The chain is signed with the rest: a chain swapped in the table does not verify.
    assert signed_message(REF.arn, version, with_chain) != signed_message(REF.arn, version, without)


def test_object_lock_is_put_back_and_comes_with_a_recreated_bucket() -> None:
    lock = {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}},
    }
    baseline = BucketState(True, object_lock=lock, versioning="Enabled")
    weakened = {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
    }

    [drift] = bucket_drift(
        baseline, BucketState(True, object_lock=weakened, versioning="Enabled"), "b"
    )
    assert drift.steps == (ChainStep.PUT_OBJECT_LOCK,)
    [gone] = bucket_drift(baseline, BucketState(False), "b")
    assert repair_steps([gone]) == [
        ChainStep.CREATE_BUCKET,
        ChainStep.PUT_BUCKET_VERSIONING,
        ChainStep.PUT_OBJECT_LOCK,
    ]
    # No Object Lock in the baseline: none is asked for.
    assert bucket_drift(BucketState(True), BucketState(True, object_lock=lock), "b") == []


def test_a_deleted_logs_role_is_left_to_the_trail_and_i7() -> None:
    baseline = LogGroupState(True, 365, role_exists=True)
    [retention] = log_group_drift(
        baseline, LogGroupState(True, 1, role_exists=False), "g", "arn:aws:iam::1:role/r"
    )
    assert retention.steps == (ChainStep.PUT_RETENTION_POLICY,)
    # Not read (None) is never drift.
    assert log_group_drift(baseline, LogGroupState(True, 365), "g", "r") == []
