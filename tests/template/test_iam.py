"""Least privilege in template.yaml, checked against what the adapters call.

Each adapter in layers/trailguard/trailguard/adapters declares the IAM actions
of the calls it makes (IAM_ACTIONS, or IAM_ACTIONS_READ / IAM_ACTIONS_WRITE),
and passes the action to `call()` for every AWS call so that an AccessDenied
names it. These tests tie the three together: every action an adapter calls
is declared, every declared action a function needs is granted to its role,
and a role grants nothing beyond that and a short, documented list of extras.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import trailguard.adapters
from drill.template import ROOT, functions, global_environment
from drill.template import resources as template_resources
from tests.template.helpers import (
    actions_of,
    allowed_actions,
    as_list,
    mark_known_template_bug,
    role_id_of,
    role_statements,
    statements_granting,
    sub_text,
    unconditional,
)
from trailguard.adapters import (
    assumed,
    baseline_store,
    cloudtrail,
    cloudwatch,
    delivery_ledger,
    events,
    events_rules,
    health_store,
    iam,
    kms,
    logs,
    organizations,
    s3,
    securityhub,
    signing,
    sns,
)

CLOUDTRAIL_SERVICE = "cloudtrail.amazonaws.com"
ACCOUNT_ID = {"Ref": "AWS::AccountId"}

# Every adapter module that declares IAM actions (new adapters are picked up).
ADAPTERS: dict[str, ModuleType] = {
    info.name: importlib.import_module(f"trailguard.adapters.{info.name}")
    for info in pkgutil.iter_modules(trailguard.adapters.__path__)
}
ADAPTERS = {
    name: module
    for name, module in ADAPTERS.items()
    if any(hasattr(module, n) for n in ("IAM_ACTIONS", "IAM_ACTIONS_READ", "IAM_ACTIONS_WRITE"))
}

# ------------------------------------------------------------------ what each function needs
# Keyed by the function's code directory (functions/<dir>/), as each one uses the adapters.

CLOUDTRAIL_READ_BY_ARN = cloudtrail.IAM_ACTIONS_READ - {"cloudtrail:DescribeTrails"}
BASELINE_GET_PUT = frozenset({"dynamodb:GetItem", "dynamodb:PutItem"})
BASELINE_SCAN = frozenset({"dynamodb:Scan"})
# A verified read is GetItem (CURRENT) + Query (the newest versions) + VerifyMac.
BASELINE_VERIFIED = BASELINE_GET_PUT | frozenset({"dynamodb:Query"}) | signing.IAM_ACTIONS_READ
BASELINE_SIGNED = BASELINE_VERIFIED | signing.IAM_ACTIONS_WRITE
# Allow-listed changes are corroborated in CloudTrail Event history.
EVENT_HISTORY = frozenset({"cloudtrail:LookupEvents"})
# The trail's bucket, key and log group (protected/delivery_chain.py).
# ...each through the log-archive companion's role when there is one.
CHAIN_READ = (
    s3.IAM_ACTIONS_READ | kms.IAM_ACTIONS_READ | logs.IAM_ACTIONS_READ | assumed.IAM_ACTIONS
)
CHAIN_REPAIR = CHAIN_READ | s3.IAM_ACTIONS_WRITE | kms.IAM_ACTIONS_WRITE | logs.IAM_ACTIONS_WRITE
HEALTH_APPEND = frozenset({"dynamodb:UpdateItem"})
# The trail-health item lives in the ledger table (adapters/health_store.py).
HEALTH_ON_LEDGER = {
    "restore_trail": HEALTH_APPEND,
    "reconcile_invariants": frozenset(
        {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
    ),
}

# Every alert goes to the alert topic (and the chat topic), the default event bus and,
# when turned on, Security Hub, and names the account alias (engine/destinations.py).
ALERTING = sns.IAM_ACTIONS | events.IAM_ACTIONS | securityhub.IAM_ACTIONS | iam.IAM_ACTIONS_READ

REQUIRED_BY_ADAPTERS: dict[str, frozenset[str]] = {
    "restore_trusted_access": organizations.IAM_ACTIONS | ALERTING,
    # Reads one trail by ARN (never lists trails), rebuilds it, re-enables trusted
    # access first when an organization trail needs it, records the new baseline
    # after an allow-listed change.
    "restore_trail": CLOUDTRAIL_READ_BY_ARN
    | cloudtrail.IAM_ACTIONS_WRITE
    | organizations.IAM_ACTIONS
    | BASELINE_SIGNED
    | EVENT_HISTORY
    # A StopLogging claim checks the trail's baseline in the same transaction.
    | delivery_ledger.IAM_ACTIONS_PRECONDITION
    | ALERTING
    # A repair that ends a blind window remembers it for the reconciler's follow-up,
    # which lists Event history's calls (protected/trail_delivery.py).
    | HEALTH_APPEND,
    "restore_service_linked_role": iam.IAM_ACTIONS | ALERTING,
    # Lists the home region's trails (DescribeTrails), reads each, stores baselines.
    # Every capture is alerted, and signed.
    "capture_baseline": cloudtrail.IAM_ACTIONS_READ | BASELINE_SIGNED | ALERTING | CHAIN_READ,
    # The scheduled safety net (trailguard/engine/reconciler.py): every invariant, the
    # protected trails from all stored baselines (Scan), the same repairs.
    "reconcile_invariants": organizations.IAM_ACTIONS
    | iam.IAM_ACTIONS
    | cloudtrail.IAM_ACTIONS_READ
    | cloudtrail.IAM_ACTIONS_WRITE
    | cloudtrail.IAM_ACTIONS_LOOKUP
    | BASELINE_SCAN
    | BASELINE_VERIFIED  # PutItem: puts back the intact version in force
    | CHAIN_REPAIR
    | health_store.IAM_ACTIONS_READ
    | health_store.IAM_ACTIONS_WRITE
    | ALERTING
    # ...and the alert topic's key (protected/trailguard_itself.check_alert_key).
    | kms.IAM_ACTIONS,
    # The delivery chain's events: the trails whose baseline holds the named bucket,
    # key or log group (Scan), their repair.
    "restore_delivery_chain": CHAIN_REPAIR
    | BASELINE_SCAN
    | (BASELINE_VERIFIED - {"dynamodb:PutItem"})  # baselines are read verified
    | ALERTING,
    # Self-protection (trailguard/protected/trailguard_itself.py) alerts, and repairs
    # the alert key, alarm actions and rules of trailguard's own.
    "alert_self_tampering": ALERTING
    | kms.IAM_ACTIONS
    | cloudwatch.IAM_ACTIONS
    | events_rules.IAM_ACTIONS,
}

# Granted beyond the adapters' own calls, and why.
ORGANIZATION_TRAIL_PREREQUISITES = frozenset(
    {
        # AWS CloudTrail User Guide, "Prepare for creating a trail for your
        # organization": the caller of CreateTrail/UpdateTrail with
        # IsOrganizationTrail=true needs these; CloudTrail makes the calls with
        # the caller's credentials.
        "organizations:DescribeOrganization",
        "organizations:ListAccounts",
        "iam:GetRole",
        "iam:CreateServiceLinkedRole",
        # CreateTrail/UpdateTrail with CloudWatchLogsRoleArn pass that role.
        "iam:PassRole",
    }
)
EXTRA_PREREQUISITES: dict[str, frozenset[str]] = {
    "restore_trusted_access": frozenset(),
    "restore_trail": ORGANIZATION_TRAIL_PREREQUISITES,
    "restore_service_linked_role": frozenset(),
    "capture_baseline": frozenset(),
    "reconcile_invariants": ORGANIZATION_TRAIL_PREREQUISITES,
    "alert_self_tampering": frozenset(),
    "restore_delivery_chain": frozenset(),
}
# Lambda writes the function's logs with the function's role (explicit log group).
LOGGING = frozenset({"logs:CreateLogStream", "logs:PutLogEvents"})
# Lambda sends failed async invocations to the on-failure SQS queue with the role.
ON_FAILURE_SQS = frozenset({"sqs:SendMessage"})
# Publishing to the KMS-encrypted alert topic needs the key (via SNS only).
ALERT_ENCRYPTION = frozenset({"kms:GenerateDataKey", "kms:Decrypt"})
# Services whose actions the adapters declare: nothing else of theirs may be granted.
ADAPTER_SERVICES = ("cloudtrail", "organizations", "iam", "dynamodb", "s3", "sts")

FUNCTIONS = functions()
FUNCTION_IDS = sorted(FUNCTIONS)


def code_dir(function_id: str) -> str:
    return Path(FUNCTIONS[function_id]["CodeUri"].rstrip("/")).name


def uses_delivery_ledger(function_id: str) -> bool:
    """The API-call handlers claim each event in the delivery ledger, when the
    deployment gives them one (LEDGER_TABLE_NAME; without it they run unguarded)."""
    environment = {
        **global_environment(),
        **FUNCTIONS[function_id].get("Environment", {}).get("Variables", {}),
    }
    app = ROOT / FUNCTIONS[function_id]["CodeUri"] / "app.py"
    return "LEDGER_TABLE_NAME" in environment and "handle_api_call" in app.read_text()


def required(function_id: str) -> frozenset[str]:
    needed = REQUIRED_BY_ADAPTERS[code_dir(function_id)]
    if uses_delivery_ledger(function_id):
        needed |= ADAPTERS["delivery_ledger"].IAM_ACTIONS
    return needed


def _role_statements(resources: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    return role_statements(resources, role_id_of(FUNCTIONS[function_id]))


def _has_sqs_on_failure(function_id: str) -> bool:
    on_failure = (
        FUNCTIONS[function_id].get("EventInvokeConfig", {}).get("DestinationConfig", {})
    ).get("OnFailure", {})
    return bool(on_failure.get("Type") == "SQS")


def permitted(function_id: str) -> frozenset[str]:
    """Everything the function's role may grant."""
    needed = required(function_id) | EXTRA_PREREQUISITES[code_dir(function_id)] | LOGGING
    if _has_sqs_on_failure(function_id):
        needed |= ON_FAILURE_SQS
    if needed >= sns.IAM_ACTIONS:
        needed |= ALERT_ENCRYPTION
    return needed


def test_every_function_is_mapped() -> None:
    assert set(REQUIRED_BY_ADAPTERS) == set(EXTRA_PREREQUISITES)
    unmapped = {code_dir(f) for f in FUNCTIONS} - set(REQUIRED_BY_ADAPTERS)
    assert unmapped == set(), "say which adapter actions these functions need"


def test_required_actions_are_declared_by_the_adapters() -> None:
    """The subsets used above are still actions the adapters declare."""
    baseline = baseline_store.IAM_ACTIONS_READ | baseline_store.IAM_ACTIONS_WRITE
    assert baseline >= BASELINE_GET_PUT | BASELINE_SCAN
    assert "cloudtrail:DescribeTrails" in cloudtrail.IAM_ACTIONS_READ
    assert CLOUDTRAIL_READ_BY_ARN < cloudtrail.IAM_ACTIONS_READ


# ------------------------------------------------------------------ adapters are truthful


def declared(module: ModuleType) -> frozenset[str]:
    names = ("IAM_ACTIONS", "IAM_ACTIONS_READ", "IAM_ACTIONS_WRITE", "IAM_ACTIONS_LOOKUP")
    sets = [getattr(module, name) for name in names if hasattr(module, name)]
    assert sets, f"{module.__name__} declares no IAM actions"
    return frozenset().union(*sets)


def _string_constants(function: ast.AST) -> dict[str, str]:
    return {
        target.id: node.value.value
        for node in ast.walk(function)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _resolve(node: ast.expr, constants: dict[str, str]) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                assert isinstance(value.value, ast.Name) and value.value.id in constants, (
                    f"cannot resolve {ast.unparse(node)}"
                )
                parts.append(constants[value.value.id])
            else:
                parts.append(_resolve(value, constants))
        return "".join(parts)
    raise AssertionError(f"IAM action passed to call() is not a literal: {ast.unparse(node)}")


def called_actions(module: ModuleType) -> set[str]:
    """The IAM action argument of every `call(operation, action, fn, ...)` in a module."""
    tree = ast.parse(inspect.getsource(module))
    found: set[str] = set()
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        constants = _string_constants(function)
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "call"
            ):
                assert len(node.args) >= 2, ast.unparse(node)
                found.add(_resolve(node.args[1], constants))
    return found


def test_adapters_are_found() -> None:
    assert {"baseline_store", "cloudtrail", "iam", "organizations", "sns"} <= set(ADAPTERS)


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_adapter_declares_every_action_it_calls(name: str) -> None:
    module = ADAPTERS[name]
    calls = called_actions(module)
    assert calls, f"{module.__name__} makes no call() at all?"
    assert calls == set(declared(module)), (
        f"called but not declared: {sorted(calls - declared(module))}; "
        f"declared but never called: {sorted(declared(module) - calls)}"
    )


# ------------------------------------------------------------------ no wildcards

# (resource, Sid) of statements that may use a service-wide wildcard action.
WILDCARD_ALLOW_LIST = {
    # The standard KMS key policy statement that lets the account's IAM policies
    # govern the key (AWS KMS Developer Guide, "Default key policy"); without it
    # the key becomes unmanageable. Its principal is checked to be the account root.
    ("AlertKey", "AccountAdministration"),
}


def _policy_documents(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        for key in ("KeyPolicy", "PolicyDocument", "AssumeRolePolicyDocument"):
            if key in props:
                found.append((logical_id, props[key]))
        for entry in props.get("Policies", []) if isinstance(props.get("Policies"), list) else []:
            policy = unconditional(entry) if isinstance(entry, dict) else entry
            if isinstance(policy, dict) and "PolicyDocument" in policy:
                found.append((logical_id, policy["PolicyDocument"]))
    return found


def _is_wildcard(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def test_no_wildcard_actions_outside_the_allow_list(resources: dict[str, Any]) -> None:
    documents = _policy_documents(resources)
    assert len(documents) >= 8, "policy documents not found: did the template's layout change?"
    offenders = []
    seen_allow_listed = set()
    for logical_id, document in documents:
        for statement in as_list(document.get("Statement")):
            assert "NotAction" not in statement, f"{logical_id}: NotAction grants by exclusion"
            wildcards = [a for a in actions_of(statement) if _is_wildcard(a)]
            if not wildcards:
                continue
            key = (logical_id, statement.get("Sid"))
            if key in WILDCARD_ALLOW_LIST:
                seen_allow_listed.add(key)
                continue
            offenders.append((*key, wildcards))
    assert offenders == []
    assert seen_allow_listed == WILDCARD_ALLOW_LIST, "stale allow-list entry"


def test_allow_listed_kms_wildcard_is_the_account_root_only(resources: dict[str, Any]) -> None:
    [statement] = [
        s
        for s in resources["AlertKey"]["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Sid") == "AccountAdministration"
    ]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "kms:*"
    assert sub_text(statement["Principal"]["AWS"]) == (
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
    )
    assert "Service" not in statement["Principal"]


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_function_role_actions_have_no_wildcard(
    resources: dict[str, Any], function_id: str
) -> None:
    actions = {a for s in _role_statements(resources, function_id) for a in actions_of(s)}
    assert actions
    assert {a for a in actions if "*" in a} == set()


# ------------------------------------------------------------------ roles


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_function_uses_its_own_explicit_role(resources: dict[str, Any], function_id: str) -> None:
    props = FUNCTIONS[function_id]
    role_id = role_id_of(props)
    assert resources[role_id]["Type"] == "AWS::IAM::Role"
    # With Role set, SAM ignores Policies: grants written there would silently not exist.
    assert "Policies" not in props
    role_props = resources[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role_props, "managed policies escape these checks"
    others = [f for f in FUNCTIONS if f != function_id and role_id_of(FUNCTIONS[f]) == role_id]
    assert others == [], f"{role_id} is shared with {others}"


def _iam_roles(resources: dict[str, Any]) -> list[str]:
    return sorted(k for k, r in resources.items() if r["Type"] == "AWS::IAM::Role")


def test_every_role_belongs_to_a_function(resources: dict[str, Any]) -> None:
    assert _iam_roles(resources) == sorted(role_id_of(FUNCTIONS[f]) for f in FUNCTIONS)


@pytest.mark.parametrize("role_id", _iam_roles(template_resources()))
def test_trust_policy_is_lambda_of_this_account(resources: dict[str, Any], role_id: str) -> None:
    document = resources[role_id]["Properties"]["AssumeRolePolicyDocument"]
    [statement] = as_list(document["Statement"])
    assert statement["Effect"] == "Allow"
    assert as_list(statement["Action"]) == ["sts:AssumeRole"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"} or statement[
        "Principal"
    ] == {"Service": ["lambda.amazonaws.com"]}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


# ------------------------------------------------------------------ dangerous actions


def _all_role_statements(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (role_id, statement)
        for role_id in _iam_roles(resources)
        for statement in role_statements(resources, role_id)
    ]


def _string_equals(statement: dict[str, Any], key: str) -> list[Any]:
    return as_list(statement.get("Condition", {}).get("StringEquals", {}).get(key))


def test_enable_aws_service_access_is_for_cloudtrail_only(resources: dict[str, Any]) -> None:
    granting = [
        (role_id, s)
        for role_id, s in _all_role_statements(resources)
        if "organizations:EnableAWSServiceAccess" in actions_of(s) and s["Effect"] == "Allow"
    ]
    assert {role_id for role_id, _ in granting} >= {"RestoreTrustedAccessRole"}
    for role_id, statement in granting:
        assert _string_equals(statement, "organizations:ServicePrincipal") == [
            CLOUDTRAIL_SERVICE
        ], role_id
        assert set(statement["Condition"]) == {"StringEquals"}, role_id


CLOUDTRAIL_SLR_RESOURCE = (
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/cloudtrail.amazonaws.com/*"
)


def test_create_service_linked_role_is_for_cloudtrail_only(resources: dict[str, Any]) -> None:
    granting = [
        (role_id, s)
        for role_id, s in _all_role_statements(resources)
        if "iam:CreateServiceLinkedRole" in actions_of(s) and s["Effect"] == "Allow"
    ]
    assert {role_id for role_id, _ in granting} >= {"RestoreServiceLinkedRoleRole"}
    for role_id, statement in granting:
        conditioned = _string_equals(statement, "iam:AWSServiceName") == [CLOUDTRAIL_SERVICE]
        scoped = [sub_text(r) for r in as_list(statement["Resource"])] == [CLOUDTRAIL_SLR_RESOURCE]
        assert conditioned or scoped, role_id
        if actions_of(statement) == ["iam:CreateServiceLinkedRole"]:
            # Granted on its own statement: nothing stops the condition being there.
            assert conditioned, f"{role_id}: add StringEquals iam:AWSServiceName"


def test_pass_role_only_to_cloudtrail(resources: dict[str, Any]) -> None:
    granting = [
        (role_id, s)
        for role_id, s in _all_role_statements(resources)
        if "iam:PassRole" in actions_of(s) and s["Effect"] == "Allow"
    ]
    may_pass = {role_id_of(FUNCTIONS[f]) for f in FUNCTIONS if "iam:PassRole" in permitted(f)}
    assert may_pass, "no function is expected to pass a role: is the mapping stale?"
    assert {role_id for role_id, _ in granting} <= may_pass
    for role_id, statement in granting:
        assert _string_equals(statement, "iam:PassedToService") == [CLOUDTRAIL_SERVICE], role_id
        assert actions_of(statement) == ["iam:PassRole"], role_id
        for resource in as_list(statement["Resource"]):
            assert resource != "*", role_id
            assert sub_text(resource).startswith(
                "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
            ), role_id


# ------------------------------------------------------------------ grants match the adapters


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_role_grants_every_action_the_adapters_call(
    resources: dict[str, Any], function_id: str
) -> None:
    granted = allowed_actions(_role_statements(resources, function_id))
    missing = required(function_id) - granted
    assert missing == set(), f"{function_id} would fail with AccessDenied on {sorted(missing)}"


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_role_grants_nothing_beyond_adapters_and_documented_extras(
    request: pytest.FixtureRequest, resources: dict[str, Any], function_id: str
) -> None:
    mark_known_template_bug(request, function_id)
    granted = allowed_actions(_role_statements(resources, function_id))
    assert granted - permitted(function_id) == set()
    adapter_services = {a for a in granted if a.split(":", 1)[0] in ADAPTER_SERVICES}
    expected = {
        a
        for a in required(function_id) | EXTRA_PREREQUISITES[code_dir(function_id)]
        if a.split(":", 1)[0] in ADAPTER_SERVICES
    }
    assert adapter_services == expected


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_role_has_only_allow_statements_with_resources(
    resources: dict[str, Any], function_id: str
) -> None:
    for statement in _role_statements(resources, function_id):
        assert statement["Effect"] == "Allow", statement
        assert "NotResource" not in statement, statement
        assert "Resource" in statement, statement


# ------------------------------------------------------------------ resources are scoped


def _resources_for(statements: list[dict[str, Any]], action: str) -> list[Any]:
    return [r for s in statements_granting(statements, action) for r in as_list(s["Resource"])]


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_data_actions_are_scoped_to_trailguard_resources(
    resources: dict[str, Any], function_id: str
) -> None:
    statements = _role_statements(resources, function_id)
    expectations = {
        "sns:Publish": {"Ref": "AlertTopic"},
        "sqs:SendMessage": {"Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]},
        "kms:GenerateDataKey": {"Fn::GetAtt": ["AlertKey", "Arn"]},
        "kms:Decrypt": {"Fn::GetAtt": ["AlertKey", "Arn"]},
    }
    # The chat topic exists only with ChatNotifications=true.
    chat_topic = {"Fn::If": ["HasChatTopic", {"Ref": "ChatTopic"}, {"Ref": "AWS::NoValue"}]}
    for action, resource in expectations.items():
        for granted in _resources_for(statements, action):
            assert granted == resource or (action == "sns:Publish" and granted == chat_topic), (
                function_id,
                action,
                granted,
            )
    for statement in statements_granting(statements, "kms:GenerateDataKey"):
        assert _string_equals(statement, "kms:ViaService") == [
            {"Fn::Sub": "sns.${AWS::Region}.amazonaws.com"}
        ]


def _ledger_table() -> str | None:
    ledger = global_environment().get("LEDGER_TABLE_NAME")
    return str(ledger["Ref"]) if isinstance(ledger, dict) and "Ref" in ledger else None


def _dynamodb_grants(resources: dict[str, Any], function_id: str) -> dict[str, set[str]]:
    """DynamoDB actions granted per table (logical id) of this stack."""
    tables = {k for k, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"}
    grants: dict[str, set[str]] = {}
    for statement in _role_statements(resources, function_id):
        actions = {a for a in actions_of(statement) if a.startswith("dynamodb:")}
        if not actions:
            continue
        for resource in as_list(statement["Resource"]):
            table = resource.get("Fn::GetAtt", [None])[0] if isinstance(resource, dict) else None
            # A table of this stack, as !GetAtt Table.Arn (no wildcard, no other table).
            assert table in tables and resource["Fn::GetAtt"][1] == "Arn", (function_id, resource)
            grants.setdefault(table, set()).update(actions)
    return grants


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_dynamodb_actions_are_granted_per_table_as_needed(
    request: pytest.FixtureRequest, resources: dict[str, Any], function_id: str
) -> None:
    """Baseline actions on the baseline table, ledger actions on the ledger table:
    the ledger's DeleteItem must never reach the baselines."""
    mark_known_template_bug(request, function_id)
    expected: dict[str, set[str]] = {}
    health = HEALTH_ON_LEDGER.get(code_dir(function_id), frozenset())
    # The baseline store's own actions stay on the baseline table even when the health
    # item needs the same ones on the ledger table (the reconciler's GetItem, PutItem).
    on_baselines = (
        baseline_store.IAM_ACTIONS_READ | baseline_store.IAM_ACTIONS_WRITE
    ) & REQUIRED_BY_ADAPTERS[code_dir(function_id)]
    baseline = {
        a
        for a in (REQUIRED_BY_ADAPTERS[code_dir(function_id)] - health) | on_baselines
        if a.startswith("dynamodb:")
    }
    if baseline:
        expected["BaselineTable"] = baseline
    if uses_delivery_ledger(function_id) or health:
        ledger_table = _ledger_table()
        assert ledger_table, "LEDGER_TABLE_NAME must !Ref the stack's ledger table"
        if uses_delivery_ledger(function_id):
            expected.setdefault(ledger_table, set()).update(ADAPTERS["delivery_ledger"].IAM_ACTIONS)
        expected.setdefault(ledger_table, set()).update(health)
    assert _dynamodb_grants(resources, function_id) == expected


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_logs_actions_are_scoped_to_the_functions_own_log_group(
    resources: dict[str, Any], function_id: str
) -> None:
    log_group = FUNCTIONS[function_id]["LoggingConfig"]["LogGroup"]["Ref"]
    statements = _role_statements(resources, function_id)
    for action in LOGGING:
        granted = _resources_for(statements, action)
        assert granted, f"{function_id} cannot write its logs ({action})"
        for resource in granted:
            # !GetAtt LogGroup.Arn already ends in ":*" (every stream of the group).
            own = resource == {"Fn::GetAtt": [log_group, "Arn"]} or sub_text(resource).startswith(
                f"${{{log_group}.Arn}}"
            )
            assert own, (function_id, resource)


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_cloudtrail_trail_actions_are_scoped_to_this_accounts_trails(
    resources: dict[str, Any], function_id: str
) -> None:
    statements = _role_statements(resources, function_id)
    for action in cloudtrail.IAM_ACTIONS_READ | cloudtrail.IAM_ACTIONS_WRITE:
        for resource in _resources_for(statements, action):
            if action == "cloudtrail:DescribeTrails":
                assert resource == "*"  # DescribeTrails supports no resource-level scoping
                continue
            assert sub_text(resource) == (
                "arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"
            ), (function_id, action, resource)


# ------------------------------------------------------------------ the topic lets them publish


def test_every_publishing_role_is_exempt_from_the_topic_deny(resources: dict[str, Any]) -> None:
    """The topic policy denies sns:Publish to every other principal: a role that is
    granted Publish but missing there could never alert."""
    publishers = {
        role_id_of(FUNCTIONS[f])
        for f in FUNCTIONS
        if "sns:Publish" in allowed_actions(_role_statements(resources, f))
    }
    assert publishers
    statements = resources["AlertTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    denies = [
        s for s in statements if s["Effect"] == "Deny" and "ArnNotEquals" in s.get("Condition", {})
    ]
    assert denies, "the topic policy no longer restricts publishers"
    for deny in denies:
        # Fn::Split of a Fn::Join: trailguard's roles, then the optional operator roles.
        principals = deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
        joined = principals["Fn::Split"][1]["Fn::Join"][1]
        exempt = {arn["Fn::GetAtt"][0] for arn in joined if "Fn::GetAtt" in arn}
        assert publishers <= exempt, f"denied publishers: {sorted(publishers - exempt)}"
        assert {
            "Fn::If": ["HasOperatorRoles", {"Ref": "OperatorRoleArns"}, {"Ref": "AWS::NoValue"}]
        } in joined
