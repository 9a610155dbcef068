"""companions/log-archive/template.yaml: what it forwards, what its role may do, whom
it trusts, and that it fits the trailguard stack it talks to (template.yaml)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from drill.patterns import matches
from drill.template import ROOT, load_template, rules
from drill.world import resolve
from tests.template.helpers import actions_of, as_list, event_files, read_event
from trailguard.adapters import kms, s3

COMPANION = load_template(ROOT / "companions" / "log-archive" / "template.yaml")
MAIN = load_template()
RESOURCES = COMPANION["Resources"]

MANAGEMENT, ARCHIVE = "111111111111", "222222222222"
BUCKET = "org-trail-logs-111111111111"
KEY_ID = "4f1d5c2a-8b3e-4c6f-9a7d-2e5b8c1f0a93"
KEY_ARN = f"arn:aws:kms:us-east-1:{ARCHIVE}:key/{KEY_ID}"
PARAMETERS = {
    "TrailguardAccountId": MANAGEMENT,
    "TrailguardStackName": "trailguard",
    "TrailguardEventBusArn": (
        f"arn:aws:events:us-east-1:{MANAGEMENT}:event-bus/trailguard-log-archive-events"
    ),
    "OrganizationId": "o-exampleorgid",
    "TrailBucketName": BUCKET,
    "TrailKeyArn": KEY_ARN,
    "RoleName": "trailguard-log-archive",
    "ForwarderRoleName": "trailguard-log-archive-forwarder",
    "AWS::AccountId": ARCHIVE,
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
}
FORWARD_RULES = sorted(k for k, r in RESOURCES.items() if r["Type"] == "AWS::Events::Rule")

# The sample events the companion must forward: the trail bucket's and key's calls
# that trailguard repairs. Everything else in events/ stays in the account.
FORWARDED = {
    "put_bucket_policy_deny_cloudtrail.json",
    "put_bucket_lifecycle_expire_logs.json",
    "put_bucket_versioning_suspended.json",
    "delete_bucket.json",
    "put_bucket_policy_by_trailguard.json",  # the handler recognises its own repair
    "disable_key.json",
    "schedule_key_deletion.json",
    "put_key_policy_drop_cloudtrail.json",
}
NEAR_MISSES = {
    "put_bucket_policy_other_bucket.json",  # another bucket of the account
    "put_bucket_tagging_trail_bucket.json",  # the trail's bucket, a harmless call
    "enable_key.json",  # the trail's key, a call that mends rather than breaks
}


def patterns() -> list[dict[str, Any]]:
    conditions = {"HasKey": True}
    return [
        resolve(RESOURCES[rule]["Properties"]["EventPattern"], PARAMETERS, {}, conditions)
        for rule in FORWARD_RULES
    ]


def forwarded(event: dict[str, Any]) -> bool:
    return any(matches(pattern, event) for pattern in patterns())


def _statements(role: str) -> list[dict[str, Any]]:
    """A role's statements, the key's one as deployed with a key (HasKey)."""
    props = RESOURCES[role]["Properties"]
    found = [s for p in props["Policies"] for s in as_list(p["PolicyDocument"]["Statement"])]
    return [s["Fn::If"][1] if "Fn::If" in s else s for s in found]


# ------------------------------------------------------------------ forwarding


def test_the_classified_events_exist() -> None:
    names = {path.name for path in event_files()}
    assert names >= FORWARDED | NEAR_MISSES


@pytest.mark.parametrize("name", sorted(path.name for path in event_files()))
def test_forwards_exactly_the_trail_bucket_and_key_changes(name: str) -> None:
    assert forwarded(read_event(name)) is (name in FORWARDED)


@pytest.mark.parametrize("name", sorted(FORWARDED))
def test_every_forwarded_event_is_taken_by_trailguards_log_archive_rules(name: str) -> None:
    """A forwarded event arrives unchanged on trailguard's bus: a rule there takes it."""
    on_bus = [
        r
        for r in rules()
        if r.event_bus == {"Fn::If": ["HasLogArchive", {"Ref": "LogArchiveEventsBus"}, "default"]}
    ]
    assert [r.rule_id for r in on_bus if r.matches(read_event(name))] in (
        ["BucketChanged"],
        ["KeyChanged"],
    )


def test_forwarded_event_names_are_those_trailguard_acts_on() -> None:
    main = {
        r.rule_id: set(r.pattern["detail"]["eventName"])
        for r in rules()
        if r.function_id == "RestoreDeliveryChainFunction"
    }
    names = {pattern["source"][0]: set(pattern["detail"]["eventName"]) for pattern in patterns()}
    assert names == {"aws.s3": main["BucketChanged"], "aws.kms": main["KeyChanged"]}


def _mutations() -> list[Any]:
    def event_name(event: dict[str, Any]) -> None:
        event["detail"]["eventName"] = "GetBucketPolicy"

    def other_bucket(event: dict[str, Any]) -> None:
        event["detail"]["requestParameters"]["bucketName"] = f"{BUCKET}-copy"

    def other_source(event: dict[str, Any]) -> None:
        event["source"] = "custom.attacker"

    def other_detail_type(event: dict[str, Any]) -> None:
        event["detail-type"] = "AWS Service Event via CloudTrail"

    return [event_name, other_bucket, other_source, other_detail_type]


@pytest.mark.parametrize("mutate", _mutations(), ids=lambda f: f.__name__)
def test_near_misses_of_a_bucket_event_are_not_forwarded(mutate: Any) -> None:
    event = read_event("put_bucket_policy_deny_cloudtrail.json")
    assert forwarded(event)
    mutate(event)
    assert not forwarded(event)


@pytest.mark.parametrize("key_id", [KEY_ARN, KEY_ID])
def test_the_key_is_recognised_by_arn_or_id_and_no_other(key_id: str) -> None:
    event = read_event("disable_key.json")
    event["detail"]["requestParameters"]["keyId"] = key_id
    assert forwarded(event)
    other = copy.deepcopy(event)
    other["detail"]["requestParameters"]["keyId"] = key_id.replace("4f1d", "0000")
    assert not forwarded(other)


def test_forward_targets_are_trailguards_bus_with_a_role_retries_and_a_dead_letter_queue() -> None:
    for rule in FORWARD_RULES:
        [target] = RESOURCES[rule]["Properties"]["Targets"]
        assert target["Arn"] == {"Ref": "TrailguardEventBusArn"}
        # A rule that targets another account's bus through an organization grant must
        # use a role; and no input transformer: the event arrives unchanged.
        assert target["RoleArn"] == {"Fn::GetAtt": ["ForwarderRole", "Arn"]}
        assert "InputTransformer" not in target and "Input" not in target
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 185
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["UndeliveredQueue", "Arn"]}


# ------------------------------------------------------------------ least privilege


def test_only_two_roles() -> None:
    roles = sorted(k for k, r in RESOURCES.items() if r["Type"] == "AWS::IAM::Role")
    assert roles == ["ForwarderRole", "LogArchiveRole"]


def test_repair_role_may_do_what_trailguards_adapters_call_and_nothing_else() -> None:
    statements = _statements("LogArchiveRole")
    assert all(s["Effect"] == "Allow" for s in statements)
    granted = {a for s in statements for a in actions_of(s)}
    # The assuming (adapters/assumed.py) is done by trailguard's side, not here.
    needed = (
        s3.IAM_ACTIONS_READ | s3.IAM_ACTIONS_WRITE | kms.IAM_ACTIONS_READ | kms.IAM_ACTIONS_WRITE
    )
    assert granted == needed
    assert not any("*" in a for a in granted)


def test_repair_role_reaches_that_bucket_and_that_key_only() -> None:
    statements = {s["Sid"]: s for s in _statements("LogArchiveRole")}
    raw = RESOURCES["LogArchiveRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    # Without a key (TrailKeyArn empty) the key statement is left out entirely.
    assert raw["Statement"][1]["Fn::If"][::2] == ["HasKey", {"Ref": "AWS::NoValue"}]
    bucket = statements["ReadAndRepairTrailBucket"]
    assert bucket["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${TrailBucketName}"}
    assert set(actions_of(bucket)) == s3.IAM_ACTIONS_READ | s3.IAM_ACTIONS_WRITE
    key = statements["ReadAndRepairTrailKey"]
    assert key["Resource"] == {"Ref": "TrailKeyArn"}
    assert set(actions_of(key)) == kms.IAM_ACTIONS_READ | kms.IAM_ACTIONS_WRITE


def test_forwarder_may_only_put_events_on_trailguards_bus() -> None:
    [statement] = _statements("ForwarderRole")
    assert actions_of(statement) == ["events:PutEvents"]
    assert statement["Resource"] == {"Ref": "TrailguardEventBusArn"}
    [trust] = RESOURCES["ForwarderRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


# ------------------------------------------------------------------ trust


def _assuming_roles_of_trailguard() -> set[str]:
    """The main template's roles granted sts:AssumeRole on the companion's role."""
    found = set()
    for logical_id, resource in MAIN["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"].get("Policies", []):
            if "PolicyDocument" not in policy:
                continue  # a conditional policy (Security Hub findings): no AssumeRole there
            for statement in as_list(policy["PolicyDocument"]["Statement"]):
                if "sts:AssumeRole" in actions_of(statement):
                    found.add(logical_id)
    return found


def test_trust_names_only_trailguards_roles_inside_the_organization() -> None:
    document = RESOURCES["LogArchiveRole"]["Properties"]["AssumeRolePolicyDocument"]
    [statement] = as_list(document["Statement"])
    assert statement["Effect"] == "Allow"
    assert actions_of(statement) == ["sts:AssumeRole"]
    assert statement["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${TrailguardAccountId}:root"}
    }
    assert set(statement["Condition"]) == {"ArnLike", "StringEquals"}
    assert statement["Condition"]["StringEquals"] == {
        "aws:PrincipalOrgID": {"Ref": "OrganizationId"}
    }
    trusted = {
        arn["Fn::Sub"].rsplit("/", 1)[1]
        for arn in statement["Condition"]["ArnLike"]["aws:PrincipalArn"]
    }
    expected = {f"${{TrailguardStackName}}-{role}-*" for role in _assuming_roles_of_trailguard()}
    assert trusted == expected
    assert len(expected) == 3


def test_the_drill_worlds_companion_role_trusts_the_worlds_trailguard_roles() -> None:
    """The drill's stack names its roles <stack>-<Role>-EXAMPLE (drill/world.py)."""
    from fnmatch import fnmatchcase

    [statement] = resolve(
        RESOURCES["LogArchiveRole"]["Properties"]["AssumeRolePolicyDocument"],
        PARAMETERS,
        {},
        {},
    )["Statement"]
    patterns = statement["Condition"]["ArnLike"]["aws:PrincipalArn"]
    for role in _assuming_roles_of_trailguard():
        arn = f"arn:aws:iam::{MANAGEMENT}:role/trailguard-{role}-EXAMPLE"
        assert any(fnmatchcase(arn, p) for p in patterns), role
    other = f"arn:aws:iam::{MANAGEMENT}:role/trailguard-RestoreTrailRole-EXAMPLE"
    assert not any(fnmatchcase(other, p) for p in patterns)


# ------------------------------------------------------------------ fits trailguard


def test_trailguards_bus_admits_only_the_companions_forwarder_inside_the_organization() -> None:
    policy = MAIN["Resources"]["LogArchiveEventsBusPolicy"]
    assert policy["Condition"] == "HasLogArchive"
    statement = policy["Properties"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "events:PutEvents"
    assert statement["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${LogArchiveAccountId}:root"}
    }
    assert statement["Condition"] == {
        "ArnEquals": {
            "aws:PrincipalArn": {
                "Fn::Sub": (
                    "arn:${AWS::Partition}:iam::${LogArchiveAccountId}:role/"
                    "${LogArchiveForwarderRoleName}"
                )
            }
        },
        "StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}},
    }


def test_role_names_agree_between_the_two_stacks() -> None:
    main, companion = MAIN["Parameters"], COMPANION["Parameters"]
    assert main["LogArchiveRoleName"]["Default"] == companion["RoleName"]["Default"]
    assert (
        main["LogArchiveForwarderRoleName"]["Default"] == companion["ForwarderRoleName"]["Default"]
    )
