"""The baseline table's resource policy and the signing key's policy, read statically.

moto enforces neither a DynamoDB resource policy nor a KMS key policy, so the drill
cannot show them refusing anyone: these tests pin what AWS would enforce.
"""

from __future__ import annotations

from typing import Any

from tests.template.helpers import actions_of, as_list, sub_text

WRITES = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
}
WRITERS = {"CaptureBaselineRole", "RestoreTrailRole", "ReconcileInvariantsRole"}


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(s) for s in as_list(document["Statement"])]


def test_baseline_table_denies_writes_to_all_but_trailguards_writers(
    resources: dict[str, Any],
) -> None:
    policy = resources["BaselineTable"]["Properties"]["ResourcePolicy"]["PolicyDocument"]
    [deny] = [s for s in _statements(policy) if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*"
    assert set(actions_of(deny)) >= WRITES
    exempt = [sub_text(arn) for arn in deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]]
    assert sorted(exempt) == sorted(
        f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/${{AWS::StackName}}-{role}-*"
        for role in WRITERS
    )
    # Only deny statements: the policy grants nobody anything.
    assert all(s["Effect"] == "Deny" for s in _statements(policy))


def test_the_exempt_names_are_the_roles_cloudformation_makes(resources: dict[str, Any]) -> None:
    for role in WRITERS:
        props = resources[role]["Properties"]
        assert "RoleName" not in props  # <stack>-<logical id>-<suffix>, as the policy expects


def _key_statements(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    key = resources["BaselineSigningKey"]["Properties"]
    assert (key["KeySpec"], key["KeyUsage"]) == ("HMAC_256", "GENERATE_VERIFY_MAC")
    return {s["Sid"]: s for s in _statements(key["KeyPolicy"])}


def _principals(statement: dict[str, Any]) -> set[str]:
    value = statement["Principal"]["AWS"]
    if isinstance(value, dict) and "Fn::Split" in value:
        value = value["Fn::Split"][1]["Fn::Join"][1]
    found = set()
    for item in as_list(value):
        if isinstance(item, dict) and "Fn::GetAtt" in item:
            found.add(item["Fn::GetAtt"][0])
        elif isinstance(item, dict) and "Fn::If" in item:
            found.add("OperatorRoleArns")
        else:
            found.add(sub_text(item))
    return found


def test_only_capture_and_restore_roles_sign(resources: dict[str, Any]) -> None:
    statements = _key_statements(resources)
    signers = [s for s in statements.values() if "kms:GenerateMac" in actions_of(s)]
    assert [s["Sid"] for s in signers] == ["SignBaselines"]
    assert _principals(signers[0]) == {"CaptureBaselineRole", "RestoreTrailRole"}
    assert signers[0]["Condition"] == {"StringEquals": {"kms:MacAlgorithm": "HMAC_SHA_256"}}


def test_only_trailguard_and_operators_verify(resources: dict[str, Any]) -> None:
    statements = _key_statements(resources)
    verifiers = [s for s in statements.values() if "kms:VerifyMac" in actions_of(s)]
    assert [s["Sid"] for s in verifiers] == ["VerifyBaselines"]
    assert _principals(verifiers[0]) == {
        "CaptureBaselineRole",
        "RestoreTrailRole",
        "ReconcileInvariantsRole",
        "RestoreDeliveryChainRole",
        "OperatorRoleArns",
    }


def test_the_account_administers_the_key_but_cannot_use_or_grant_it(
    resources: dict[str, Any],
) -> None:
    admin = _key_statements(resources)["AccountAdministersButCannotSign"]
    assert _principals(admin) == {"arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    actions = set(actions_of(admin))
    assert not {a for a in actions if "*" in a}
    assert actions.isdisjoint({"kms:GenerateMac", "kms:VerifyMac", "kms:CreateGrant"})
    assert "kms:PutKeyPolicy" in actions  # or the key could never be managed again


def test_functions_know_the_signing_key(template: dict[str, Any]) -> None:
    environment = template["Globals"]["Function"]["Environment"]["Variables"]
    assert environment["BASELINE_SIGNING_KEY_ID"] == {"Fn::GetAtt": ["BaselineSigningKey", "Arn"]}
    outputs = template["Outputs"]
    assert outputs["BaselineSigningKeyArn"]["Value"] == environment["BASELINE_SIGNING_KEY_ID"]
