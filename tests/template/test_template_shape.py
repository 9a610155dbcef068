"""The shape of template.yaml: runtime, logging, delivery guarantees, parameters,
durable state and outputs (docs/aws-facts.md and docs/testing-offline.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from drill.template import ROOT, functions, global_environment, load_template
from tests.template.helpers import as_list, mark_known_template_bug, role_id_of, sub_text
from trailguard.settings import SettingsError, settings_from

RUNTIME = "python3.13"
FUNCTIONS = functions()
FUNCTION_IDS = sorted(FUNCTIONS)
# Invoked asynchronously by EventBridge (rules and schedules); CaptureBaseline is
# invoked by CloudFormation as a custom resource.
EVENT_DRIVEN = sorted(f for f, props in FUNCTIONS.items() if props.get("Events"))
EVENT_TYPES = {"EventBridgeRule", "Schedule", "ScheduleV2"}
EVENTS = [
    pytest.param(function_id, rule_id, event, id=f"{function_id}-{rule_id}")
    for function_id, props in sorted(FUNCTIONS.items())
    for rule_id, event in sorted((props.get("Events") or {}).items())
]
EVENTBRIDGE_RULES = [p for p in EVENTS if p.values[2]["Type"] == "EventBridgeRule"]


def _function_setting(template: dict[str, Any], function_id: str, key: str) -> Any:
    props = FUNCTIONS[function_id]
    if key in props:
        return props[key]
    return template.get("Globals", {}).get("Function", {}).get(key)


def _refs(node: Any) -> set[str]:
    """Names used with Ref or inside ${...} of a Sub, anywhere below node."""
    found: set[str] = set()
    if isinstance(node, dict):
        if "Ref" in node:
            found.add(str(node["Ref"]))
        if "Fn::Sub" in node:
            found.update(re.findall(r"\$\{([A-Za-z0-9:]+)", sub_text(node)))
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


# ------------------------------------------------------------------ functions


def test_every_function_directory_is_deployed() -> None:
    """Code under functions/ that no function deploys is dead, and vice versa."""
    on_disk = {p.parent.name for p in (ROOT / "functions").glob("*/app.py")}
    deployed = {Path(props["CodeUri"].rstrip("/")).name for props in FUNCTIONS.values()}
    assert deployed == on_disk
    assert len(deployed) == len(FUNCTIONS), "two functions deploy the same code"
    assert "capture_baseline" in on_disk
    assert {
        "RestoreTrustedAccessFunction",
        "RestoreTrailFunction",
        "RestoreServiceLinkedRoleFunction",
    } <= set(EVENT_DRIVEN)


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_function_runtime_is_python313(template: dict[str, Any], function_id: str) -> None:
    assert _function_setting(template, function_id, "Runtime") == RUNTIME


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_function_uses_the_layer_built_for_its_architecture(
    template: dict[str, Any], function_id: str
) -> None:
    layer = template["Resources"]["TrailguardLayer"]
    assert {"Ref": "TrailguardLayer"} in as_list(_function_setting(template, function_id, "Layers"))
    architectures = as_list(_function_setting(template, function_id, "Architectures")) or ["x86_64"]
    assert set(architectures) <= set(layer["Properties"]["CompatibleArchitectures"])
    assert architectures == [layer["Metadata"]["BuildArchitecture"]]


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_function_logs_to_its_own_log_group_with_retention(
    template: dict[str, Any], function_id: str
) -> None:
    resources = template["Resources"]
    log_group = FUNCTIONS[function_id]["LoggingConfig"]["LogGroup"]
    assert set(log_group) == {"Ref"}, "LoggingConfig.LogGroup must !Ref a log group of the stack"
    group = resources[log_group["Ref"]]
    assert group["Type"] == "AWS::Logs::LogGroup"
    retention = group["Properties"]["RetentionInDays"]
    assert retention == {"Ref": "LogRetentionDays"} or isinstance(retention, int)
    others = [
        f
        for f in FUNCTIONS
        if f != function_id and FUNCTIONS[f]["LoggingConfig"]["LogGroup"] == log_group
    ]
    assert others == []


def test_log_retention_values_are_valid_for_cloudwatch_logs(template: dict[str, Any]) -> None:
    valid = {
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    }
    parameter = template["Parameters"]["LogRetentionDays"]
    assert parameter["Default"] in parameter["AllowedValues"]
    assert set(parameter["AllowedValues"]) <= valid


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_code_uri_has_app_py_with_a_handler(template: dict[str, Any], function_id: str) -> None:
    handler = _function_setting(template, function_id, "Handler")
    module, _, name = handler.rpartition(".")
    assert (module, name) == ("app", "handler"), handler
    code_dir = ROOT / FUNCTIONS[function_id]["CodeUri"]
    source = code_dir / f"{module}.py"
    assert source.is_file(), f"{source} missing"
    tree = ast.parse(source.read_text())
    [handler_def] = [
        node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name
    ]
    assert len(handler_def.args.args) == 2, "a Lambda handler takes (event, context)"


def test_layer_is_built_from_the_library(template: dict[str, Any]) -> None:
    layer = template["Resources"]["TrailguardLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"] == "layers/trailguard/"
    # A makefile build, so that the layer ships .pyc files compiled for the runtime.
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert RUNTIME in layer["Properties"]["CompatibleRuntimes"]
    content = ROOT / "layers" / "trailguard"
    assert (content / "requirements.txt").is_file()
    assert (content / "trailguard" / "__init__.py").is_file()
    makefile = (content / "Makefile").read_text()
    assert "build-TrailguardLayer:" in makefile
    assert "compileall" in makefile and "--invalidation-mode unchecked-hash" in makefile


# ------------------------------------------------------------------ delivery guarantees


def _target(reference: Any) -> str:
    """The logical id behind !GetAtt X.Arn or !Ref X."""
    assert isinstance(reference, dict), reference
    return str(reference.get("Fn::GetAtt", [reference.get("Ref")])[0])


def _assert_durable_queue(template: dict[str, Any], queue_id: str) -> None:
    queue = template["Resources"][queue_id]
    assert queue["Type"] == "AWS::SQS::Queue"
    props = queue["Properties"]
    assert props.get("SqsManagedSseEnabled") or props.get("KmsMasterKeyId"), queue_id
    # Failed events must outlive a long weekend: 14 days is the SQS maximum.
    assert props["MessageRetentionPeriod"] == 1209600, queue_id


@pytest.mark.parametrize(("function_id", "event_id", "event"), EVENTS)
def test_event_source_retries(function_id: str, event_id: str, event: dict[str, Any]) -> None:
    assert event["Type"] in EVENT_TYPES, f"{function_id}.{event_id}: unexpected {event['Type']}"
    properties = event["Properties"]
    retry = properties["RetryPolicy"]
    # EventBridge limits: 0-185 attempts, 60-86400 s.
    assert 0 <= retry["MaximumRetryAttempts"] <= 185
    assert 60 <= retry["MaximumEventAgeInSeconds"] <= 86400
    assert properties.get("State", "ENABLED") == "ENABLED"
    assert properties.get("Enabled", True) is True


@pytest.mark.parametrize(("function_id", "rule_id", "event"), EVENTBRIDGE_RULES)
def test_eventbridge_rule_retries_long_and_has_a_dead_letter_queue(
    template: dict[str, Any], function_id: str, rule_id: str, event: dict[str, Any]
) -> None:
    properties = event["Properties"]
    # An API-call event is never sent again: retry as long as EventBridge allows.
    assert properties["RetryPolicy"]["MaximumRetryAttempts"] >= 100
    assert properties["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400
    dead_letter = properties["DeadLetterConfig"]
    if "Arn" not in dead_letter:
        assert dead_letter.get("Type") == "SQS", dead_letter  # SAM creates the queue
        return
    queue_id = _target(dead_letter["Arn"])
    _assert_durable_queue(template, queue_id)
    policies = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SQS::QueuePolicy" and {"Ref": queue_id} in r["Properties"]["Queues"]
    ]
    grants = [
        s
        for p in policies
        for s in as_list(p["PolicyDocument"]["Statement"])
        if s["Effect"] == "Allow"
        and s.get("Principal") == {"Service": "events.amazonaws.com"}
        and "sqs:SendMessage" in as_list(s["Action"])
    ]
    assert grants, f"EventBridge may not send to {queue_id}"
    for grant in grants:
        conditions = grant.get("Condition", {})
        assert any("aws:SourceArn" in c for c in conditions.values()), (
            f"{queue_id}: any rule of any account could fill the queue"
        )


@pytest.mark.parametrize("function_id", EVENT_DRIVEN)
def test_async_invocation_retries_and_keeps_failures(
    template: dict[str, Any], function_id: str
) -> None:
    config = FUNCTIONS[function_id]["EventInvokeConfig"]
    # Lambda limits: 0-2 retries, 60-21600 s.
    assert 0 <= config["MaximumRetryAttempts"] <= 2
    assert 60 <= config.get("MaximumEventAgeInSeconds", 21600) <= 21600
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    _assert_durable_queue(template, _target(on_failure["Destination"]))


def _queues_that_hold_failures(template: dict[str, Any]) -> set[str]:
    queues = set()
    for props in FUNCTIONS.values():
        on_failure = props.get("EventInvokeConfig", {}).get("DestinationConfig", {})
        if destination := on_failure.get("OnFailure", {}).get("Destination"):
            queues.add(_target(destination))
        for event in (props.get("Events") or {}).values():
            if arn := event["Properties"].get("DeadLetterConfig", {}).get("Arn"):
                queues.add(_target(arn))
    return queues


def _alarmed_dimensions(template: dict[str, Any], name: str) -> set[str]:
    """Logical ids behind dimension `name` of every alarm that notifies the alert topic."""
    found = set()
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        if {"Ref": "AlertTopic"} not in as_list(props.get("AlarmActions")):
            continue
        dimensions = list(props.get("Dimensions", []))
        for query in props.get("Metrics", []):
            dimensions += query.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])
        for dimension in dimensions:
            if dimension.get("Name") == name and isinstance(dimension.get("Value"), dict):
                found.add(_target(dimension["Value"]))
    return found


def test_failure_queues_alarm_to_the_alert_topic(template: dict[str, Any]) -> None:
    """A failed remediation whose CRITICAL alert could not go out must still be seen."""
    queues = _queues_that_hold_failures(template)
    assert queues
    assert queues <= _alarmed_dimensions(template, "QueueName")


def test_event_driven_function_errors_alarm_to_the_alert_topic(template: dict[str, Any]) -> None:
    assert set(EVENT_DRIVEN) <= _alarmed_dimensions(template, "FunctionName")


def _resolve(
    template: dict[str, Any], value: Any, minutes: int, conditions: dict[str, bool]
) -> Any:
    """A value that may depend on ReconcileIntervalMinutes through !If or !FindInMap."""
    if isinstance(value, dict) and "Fn::If" in value:
        name, when_true, when_false = value["Fn::If"]
        return _resolve(
            template, when_true if conditions[name] else when_false, minutes, conditions
        )
    if isinstance(value, dict) and "Fn::FindInMap" in value:
        mapping, key, attribute = value["Fn::FindInMap"]
        assert key == {"Ref": "ReconcileIntervalMinutes"}, value
        return template["Mappings"][mapping][str(minutes)][attribute]
    return value


def test_reconciler_heartbeat_alarm_fits_every_schedule(
    request: pytest.FixtureRequest, template: dict[str, Any]
) -> None:
    """The heartbeat alarm must not fire between two runs of a healthy reconciler:
    the periods it needs empty must span more than one interval (plus a minute of
    schedule jitter), for every interval the parameter allows."""
    mark_known_template_bug(request)
    parameter = template["Parameters"].get("ReconcileIntervalMinutes")
    # The scheduled reconciler is the safety net for lost events: its absence is a failure.
    assert parameter is not None, (
        "no scheduled reconciler (ReconcileIntervalMinutes) in the template"
    )
    alarms = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("MetricName") == "ReconcilerHeartbeat"
    ]
    assert alarms, "nothing notices a reconciler that stopped running"
    [alarm] = alarms
    assert alarm["TreatMissingData"] == "breaching"
    too_short = []
    for minutes in parameter["AllowedValues"]:
        conditions = {
            name: minutes == int(spec["Fn::Equals"][1])
            for name, spec in template["Conditions"].items()
            if isinstance(spec, dict)
            and "Fn::Equals" in spec
            and spec["Fn::Equals"][0] == {"Ref": "ReconcileIntervalMinutes"}
        }
        period = int(_resolve(template, alarm["Period"], minutes, conditions))
        datapoints = alarm.get("DatapointsToAlarm", alarm["EvaluationPeriods"])
        needed = int(_resolve(template, datapoints, minutes, conditions))
        if needed * period <= minutes * 60 + 60:
            too_short.append((minutes, period, needed))
    assert too_short == [], "(interval min, period s, empty periods to alarm) that false-alarm"


def test_ledger_lease_outlasts_the_functions_that_claim(template: dict[str, Any]) -> None:
    """A claim's lease must outlive the invocation holding it, or a parallel delivery
    takes over a repair that is still running."""
    # The delivery ledger is how a repeated delivery has one effect: its absence is a failure.
    assert "LEDGER_TABLE_NAME" in global_environment(template), "no delivery ledger in the template"
    from trailguard.adapters.delivery_ledger import LEASE_SECONDS

    claimers = [
        f
        for f in FUNCTIONS
        if "handle_api_call" in (ROOT / FUNCTIONS[f]["CodeUri"] / "app.py").read_text()
    ]
    assert claimers
    for function_id in claimers:
        assert _function_setting(template, function_id, "Timeout") < LEASE_SECONDS, function_id


# ------------------------------------------------------------------ parameters

DOCUMENTED_PARAMETERS = {"AlertEmail", "ProtectedTrailNames", "AllowedPrincipalArns", "Mode"}


def test_documented_parameters_exist(template: dict[str, Any]) -> None:
    assert set(template["Parameters"]) >= DOCUMENTED_PARAMETERS


@pytest.mark.parametrize("name", sorted(load_template()["Parameters"]))
def test_parameter_is_constrained_and_its_default_is_valid(
    template: dict[str, Any], name: str
) -> None:
    spec = template["Parameters"][name]
    assert spec.get("Description")
    assert "AllowedPattern" in spec or "AllowedValues" in spec, f"{name} accepts anything"
    assert "Default" in spec, f"{name} has no default: the stack cannot deploy unconfigured"
    if "AllowedValues" in spec:
        assert spec["Default"] in spec["AllowedValues"]
    if "AllowedPattern" in spec:
        assert re.fullmatch(spec["AllowedPattern"], str(spec["Default"]))
        assert spec.get("ConstraintDescription"), f"{name}: say what the pattern expects"


@pytest.mark.parametrize("name", sorted(load_template()["Parameters"]))
def test_parameter_is_used(template: dict[str, Any], name: str) -> None:
    body = {k: v for k, v in template.items() if k not in ("Parameters", "Metadata")}
    assert name in _refs(body), f"{name} is never referenced"


def test_alert_email_is_optional(template: dict[str, Any]) -> None:
    spec = template["Parameters"]["AlertEmail"]
    pattern = spec["AllowedPattern"]
    assert spec["Default"] == ""
    assert re.fullmatch(pattern, "oncall@example.com")
    for bad in ("oncall", "on call@example.com", "a@b", "@example.com"):
        assert not re.fullmatch(pattern, bad), bad
    subscription = template["Resources"]["AlertEmailSubscription"]
    assert subscription["Condition"] == "HasAlertEmail"
    assert template["Conditions"]["HasAlertEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]
    }


def test_mode_is_enforce_or_detect(template: dict[str, Any]) -> None:
    spec = template["Parameters"]["Mode"]
    assert sorted(spec["AllowedValues"]) == ["detect", "enforce"]
    assert spec["Default"] == "enforce"
    detect_only = global_environment(template)["DETECT_ONLY"]
    assert detect_only == {"Fn::If": ["DetectOnly", "true", "false"]}
    assert template["Conditions"]["DetectOnly"] == {"Fn::Equals": [{"Ref": "Mode"}, "detect"]}


# The variables settings_from requires, as a deployed stack sets them.
ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:111111111111:trailguard-AlertTopic-X",
    "BASELINE_TABLE_NAME": "trailguard-BaselineTable-X",
}


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("org-trail", True),
        ("org-trail,audit.trail_2", True),
        ("abc", True),
        ("ab", False),  # CloudTrail names are 3-128 characters
        ("org trail", False),
        ("org-trail,", False),
        (",org-trail", False),
        ("org-trail, other", False),
        ("-org-trail", False),
        ("x" * 129, False),
    ],
)
def test_protected_trail_names_pattern(
    template: dict[str, Any], value: str, accepted: bool
) -> None:
    pattern = template["Parameters"]["ProtectedTrailNames"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is accepted
    if accepted:  # what CloudFormation lets through, the functions must accept
        settings_from({**ENVIRONMENT, "PROTECTED_TRAIL_NAMES": value})


PRINCIPAL_CASES = [
    ("", True),
    ("arn:aws:iam::111111111111:role/iac-deploy", True),
    ("arn:aws:iam::111111111111:role/path/iac-deploy,arn:aws:iam::111111111111:user/ops", True),
    ("arn:aws:iam::111111111111:role/*", True),
    ("arn:aws:sts::111111111111:assumed-role/iac-deploy/terraform", True),
    ("arn:aws-us-gov:iam::111111111111:role/iac-deploy", True),
    ("iac-deploy", False),
    ("arn:aws:iam::1111:role/iac-deploy", False),
    ("arn:aws:s3:::bucket", False),
    ("arn:aws:iam::111111111111:role/a, arn:aws:iam::111111111111:role/b", False),
]


@pytest.mark.parametrize(("value", "accepted"), PRINCIPAL_CASES)
def test_allowed_principal_arns_pattern(
    template: dict[str, Any], value: str, accepted: bool
) -> None:
    pattern = template["Parameters"]["AllowedPrincipalArns"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is accepted
    if accepted:
        settings_from({**ENVIRONMENT, "ALLOWED_PRINCIPAL_ARNS": value})


def test_allowed_principal_arns_pattern_rejects_what_the_functions_reject(
    request: pytest.FixtureRequest, template: dict[str, Any]
) -> None:
    """A value CloudFormation accepts but the functions refuse breaks every invocation
    (settings are validated at cold start) after a successful deployment."""
    mark_known_template_bug(request)
    pattern = template["Parameters"]["AllowedPrincipalArns"]["AllowedPattern"]
    value = "arn:aws:iam::111111111111:role/iac-deploy,terraform"
    try:
        settings_from({**ENVIRONMENT, "ALLOWED_PRINCIPAL_ARNS": value})
        functions_accept = True
    except SettingsError:
        functions_accept = False
    assert bool(re.fullmatch(pattern, value)) is functions_accept


# ------------------------------------------------------------------ environment


def test_environment_sets_every_variable_the_settings_read(template: dict[str, Any]) -> None:
    source = (ROOT / "layers/trailguard/trailguard/settings.py").read_text()
    read = set(re.findall(r'env(?:\.get\(|, )"([A-Z_]+)"', source))
    assert read >= {"ALERT_TOPIC_ARN", "BASELINE_TABLE_NAME", "REMEDIATOR_ROLE_ARNS"}
    # Set by Lambda itself.
    provided = set(global_environment(template)) | {"AWS_REGION", "AWS_LAMBDA_LOG_GROUP_NAME"}
    assert read - provided == set()


def test_remediator_role_arns_list_every_function_role(template: dict[str, Any]) -> None:
    """Every role trailguard acts with is recognised as its own (no remediation loop)."""
    joined = global_environment(template)["REMEDIATOR_ROLE_ARNS"]["Fn::Join"]
    assert joined[0] == ","
    listed = {item["Fn::GetAtt"][0] for item in joined[1] if item["Fn::GetAtt"][1] == "Arn"}
    assert listed == {role_id_of(props) for props in FUNCTIONS.values()}


def test_outside_us_east_1_the_stack_expects_the_forwarder(template: dict[str, Any]) -> None:
    """Organizations and IAM events arrive only in us-east-1 (docs/aws-facts.md): a
    stack elsewhere gets its own bus for the forwarder and says where it is."""
    conditions = template["Conditions"]
    assert conditions["InGlobalEventsRegion"] == {
        "Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]
    }
    resources = template["Resources"]
    assert resources["ForwardedEventsBus"]["Condition"] == "NeedsForwarder"
    assert resources["ForwardedEventsBusPolicy"]["Condition"] == "NeedsForwarder"
    assert template["Outputs"]["ForwardedEventsBusArn"]["Condition"] == "NeedsForwarder"


# ------------------------------------------------------------------ state and alerts


def test_alert_topic_is_encrypted_with_a_rotated_customer_key(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    topic = resources["AlertTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    key_ref = topic["Properties"]["KmsMasterKeyId"]
    assert key_ref == {"Ref": "AlertKey"}
    key = resources["AlertKey"]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True


def test_alert_topic_policy_requires_tls(template: dict[str, Any]) -> None:
    statements = template["Resources"]["AlertTopicPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    assert any(
        s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in statements
    )


def test_baseline_table_outlives_the_stack(template: dict[str, Any]) -> None:
    table = template["Resources"]["BaselineTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["DeletionProtectionEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    # The keys baseline_store writes (pk = trail ARN, sk = CURRENT or a timestamp).
    assert {k["AttributeName"]: k["KeyType"] for k in props["KeySchema"]} == {
        "pk": "HASH",
        "sk": "RANGE",
    }


def test_baseline_is_captured_at_deployment(template: dict[str, Any]) -> None:
    capture = template["Resources"]["BaselineCapture"]
    assert capture["Type"].startswith("Custom::")
    assert capture["Properties"]["ServiceToken"] == {
        "Fn::GetAtt": ["CaptureBaselineFunction", "Arn"]
    }


def test_outputs_exist(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert set(outputs) >= {
        "AlertTopicArn",
        "BaselineTableName",
        "CaptureBaselineFunctionName",
        "FailedInvocationsQueueUrl",
    }
    for name, output in outputs.items():
        assert output.get("Description"), name
        assert output.get("Value"), name
    assert outputs["AlertTopicArn"]["Value"] == {"Ref": "AlertTopic"}
    assert outputs["BaselineTableName"]["Value"] == {"Ref": "BaselineTable"}


def test_every_checkov_suppression_says_why() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent.parent
    for path in (root / "template.yaml", root / "forwarder" / "template.yaml"):
        for logical_id, resource in load_template(path)["Resources"].items():
            skips = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
            for skip in skips:
                assert skip.get("id", "").startswith("CKV_"), (path.name, logical_id)
                assert len(skip.get("comment", "")) >= 20, (path.name, logical_id, skip)
