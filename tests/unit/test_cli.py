"""The operator command line's pure parts: configuration, checks, formatting, plans.

AWS is replaced by the in-memory fakes of tests/fakes.py; the command line
against moto is in tests/functional/test_cli.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.fakes import BASELINE, REF, SETTINGS, FakeTrails, make_deps
from trailguard.domain.alerts import Outcome
from trailguard.domain.drift import LiveTrail
from trailguard.domain.trails import Selectors
from trailguard.engine.reconciler import reconcile
from trailguard.errors import AlertNotDelivered, AwsCallFailed
from trailguard_cli import aws, main
from trailguard_cli.alerts import OperatorAlerts
from trailguard_cli.commands.reconcile import format_plan, format_results, reconcile_exit
from trailguard_cli.commands.status import Check, check_status, format_status, status_exit
from trailguard_cli.deployment import (
    Deployment,
    Options,
    resolve_deployment,
    settings_for,
    stack_configuration,
)
from trailguard_cli.differences import FieldDiff, differences, format_differences
from trailguard_cli.errors import CliError, operator_hint

SIGN_IN = "sign in with a role that has it"
TOPIC = "arn:aws:sns:us-east-1:111111111111:trailguard-AlertTopic-X"
STACK = {
    "StackName": "trailguard",
    "StackStatus": "UPDATE_COMPLETE",
    "Parameters": [
        {"ParameterKey": "ProtectedTrailNames", "ParameterValue": "org-trail"},
        {"ParameterKey": "AllowedPrincipalArns", "ParameterValue": ""},
        {"ParameterKey": "Mode", "ParameterValue": "detect"},
    ],
    "Outputs": [
        {"OutputKey": "AlertTopicArn", "OutputValue": TOPIC},
        {"OutputKey": "BaselineTableName", "OutputValue": "trailguard-BaselineTable-X"},
        {"OutputKey": "Mode", "OutputValue": "detect"},
    ],
}


def _no_stack(name: str, region: str) -> dict[str, Any]:
    raise AssertionError("CloudFormation must not be read")


def _denied(operation: str, action: str) -> AwsCallFailed:
    from trailguard.adapters.aws_errors import hint_for

    return AwsCallFailed(
        operation, "AccessDenied", "no", hint_for(operation, "AccessDenied", action)
    )


# ---------------------------------------------------------------- configuration


def test_stack_configuration_reads_parameters_and_outputs() -> None:
    config = stack_configuration(STACK)

    assert config["BaselineTableName"] == "trailguard-BaselineTable-X"
    assert config["AlertTopicArn"] == TOPIC
    assert config["ProtectedTrailNames"] == "org-trail"


def test_deployment_from_the_stack() -> None:
    asked: list[tuple[str, str]] = []

    def read(name: str, region: str) -> dict[str, Any]:
        asked.append((name, region))
        return STACK

    deployment = resolve_deployment(Options(region="us-east-1"), needs_topic=True, read_stack=read)

    assert asked == [("trailguard", "us-east-1")]
    assert deployment.table == "trailguard-BaselineTable-X"
    assert deployment.topic == TOPIC
    assert deployment.mode == "detect"
    assert deployment.protected_trail_names == "org-trail"


def test_command_line_overrides_the_stack() -> None:
    options = Options(region="us-east-1", table="other", protected_trails="", mode="enforce")

    deployment = resolve_deployment(options, needs_topic=True, read_stack=lambda n, r: STACK)

    assert deployment.table == "other"
    assert deployment.topic == TOPIC  # read from the stack: reconcile needs one
    assert deployment.protected_trail_names == ""
    assert deployment.mode == "enforce"


def test_table_alone_skips_cloudformation_when_nothing_is_published() -> None:
    deployment = resolve_deployment(
        Options(region="us-east-1", table="t"), needs_topic=False, read_stack=_no_stack
    )

    assert deployment.stack_name == ""
    assert deployment.topic == ""
    assert deployment.mode == "enforce"


def test_region_defaults_to_aws_region_then_us_east_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert resolve_deployment(Options(table="t"), needs_topic=False).region == "eu-west-1"
    monkeypatch.delenv("AWS_REGION")
    assert resolve_deployment(Options(table="t"), needs_topic=False).region == "us-east-1"


def test_stack_without_the_outputs_is_refused() -> None:
    broken = {"StackStatus": "ROLLBACK_COMPLETE", "Outputs": []}

    with pytest.raises(CliError, match=r"ROLLBACK_COMPLETE.*no output BaselineTableName"):
        resolve_deployment(Options(), needs_topic=False, read_stack=lambda n, r: broken)


def _deployment(**changes: Any) -> Deployment:
    base = Deployment("command line", "", "us-east-1", "t", TOPIC, "", "", "enforce")
    return replace(base, **changes)


def test_settings_are_validated_like_the_functions() -> None:
    settings = settings_for(_deployment(mode="detect", protected_trail_names="a-trail,b-trail"))

    assert settings.detect_only is True
    assert settings.protected_trail_names == ("a-trail", "b-trail")
    assert settings.alert_topic_arn == TOPIC
    assert settings.remediator_role_arns == ()

    with pytest.raises(CliError, match="PROTECTED_TRAIL_NAMES"):
        settings_for(_deployment(protected_trail_names="bad name!"))
    with pytest.raises(CliError, match="Mode"):
        settings_for(_deployment(mode="fix-everything"))


def test_without_a_topic_nothing_can_publish() -> None:
    settings = settings_for(_deployment(topic=""))
    deps = aws.build_dependencies(settings)

    assert settings.alert_topic_arn == ""
    with pytest.raises(Exception, match="no alert topic"):
        deps.alerts.publish(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------- hints


def test_access_denied_names_the_operators_missing_permission() -> None:
    hint = operator_hint(_denied("GetTrail", "cloudtrail:GetTrail"))

    assert hint == f"your credentials are missing the permission cloudtrail:GetTrail: {SIGN_IN}"


@pytest.mark.parametrize("code", ["NoCredentialsError", "ExpiredToken", "InvalidClientTokenId"])
def test_credential_problems_say_sign_in(code: str) -> None:
    hint = operator_hint(AwsCallFailed("GetCallerIdentity", code, "", "library hint"))

    assert "sign in again" in hint


def test_other_hints_are_the_librarys() -> None:
    exc = AwsCallFailed("CreateTrail", "S3BucketDoesNotExistException", "", "recreate the bucket")

    assert operator_hint(exc) == "recreate the bucket"


# ---------------------------------------------------------------- status


def test_status_of_a_healthy_account() -> None:
    checks = check_status(make_deps())

    assert [c.invariant for c in checks] == ["I1", "I6", "I2", "I3", "I3", "I4", "I5", "I5"]
    assert {c.state for c in checks} == {"OK"}
    assert status_exit(checks) == 0


def test_status_reads_state_only() -> None:
    deps = make_deps()
    trails: FakeTrails = deps.trails  # type: ignore[assignment]
    trails.logging[REF] = False
    deps.trusted_access.enabled.clear()  # type: ignore[attr-defined]

    checks = check_status(deps)

    assert trails.calls == ["read"]
    assert deps.trusted_access.calls == ["List"]  # type: ignore[attr-defined]
    assert deps.alerts.alerts == []  # type: ignore[attr-defined]
    drifted = [(c.invariant, c.details) for c in checks if c.state == "DRIFTED"]
    assert drifted == [
        ("I1", ("trusted access for cloudtrail.amazonaws.com is disabled",)),
        ("I2", ("the trail is not logging",)),
    ]
    assert status_exit(checks) == 1


def test_a_check_that_cannot_be_made_is_an_error_and_the_rest_still_run() -> None:
    deps = make_deps()
    trails: FakeTrails = deps.trails  # type: ignore[assignment]
    trails.fail["read"] = _denied("GetTrail", "cloudtrail:GetTrail")

    checks = check_status(deps)

    assert [c.state for c in checks] == ["OK", "OK", "ERROR"]
    assert checks[2].details[1] == (
        f"hint: your credentials are missing the permission cloudtrail:GetTrail: {SIGN_IN}"
    )
    assert status_exit(checks) == 2


def test_no_baseline_at_all_is_drift() -> None:
    deps = make_deps()
    deps.baselines.baselines.clear()  # type: ignore[attr-defined]

    checks = check_status(deps)

    assert checks[-1].state == "DRIFTED"
    assert "nothing is protected" in checks[-1].details[0]


def test_status_table() -> None:
    checks = [
        Check("I1", "trusted access is enabled", "cloudtrail.amazonaws.com", "OK"),
        Check("I2", "trail is logging", REF.arn, "DRIFTED", ("the trail is not logging",)),
    ]

    assert format_status(checks).splitlines() == [
        "  STATE    INV   CHECK                      RESOURCE",
        "  OK       I1    trusted access is enabled  cloudtrail.amazonaws.com",
        f"  DRIFTED  I2    trail is logging           {REF.arn}",
        "                 - the trail is not logging",
        "",
        "DRIFTED: 1 of 2 checks. Preview the repair with `trailguard reconcile --dry-run`.",
    ]


def test_status_table_quotes_odd_resources() -> None:
    checks = [Check("I3", "trail exists", "arn:x\x1b[31m red", "OK")]

    assert r"'arn:x\x1b[31m red'" in format_status(checks)
    assert "\x1b" not in format_status(checks)


# ---------------------------------------------------------------- differences


def _live(**settings: Any) -> LiveTrail:
    return LiveTrail(True, BASELINE.with_settings(**settings), True)


def test_no_difference() -> None:
    assert differences(BASELINE, LiveTrail(True, BASELINE, True)) == []


def test_settings_differ_field_by_field() -> None:
    diffs = differences(BASELINE, _live(s3_key_prefix="", is_organization_trail=False))

    assert format_differences(diffs) == [
        "  I4  S3KeyPrefix          baseline 'org', live (not set)",
        "  I4  IsOrganizationTrail  baseline True, live False",
    ]


def test_missing_and_stopped_trails() -> None:
    assert differences(BASELINE, LiveTrail(False)) == [
        FieldDiff("I3", "Trail", "exists", "does not exist")
    ]
    stopped = LiveTrail(True, BASELINE, False)
    assert differences(BASELINE, stopped) == [FieldDiff("I2", "IsLogging", True, False)]


def test_tags_one_by_one_and_escaped() -> None:
    live = replace(BASELINE, tags={"owner": "mallory\n", "new": "x"})

    lines = format_differences(differences(BASELINE, LiveTrail(True, live, True)))

    assert lines == [
        "  I3  Tag 'new'    baseline (absent), live 'x'",
        "  I3  Tag 'owner'  baseline 'security', live 'mallory\\n'",
    ]


def test_selectors_are_shown_as_both_json_documents() -> None:
    live = replace(BASELINE, selectors=replace(BASELINE.selectors, insight_selectors=()))

    lines = format_differences(differences(BASELINE, LiveTrail(True, live, True)))

    assert lines == [
        "  I5  InsightSelectors differ",
        "      baseline:",
        "        [",
        "          {",
        '            "InsightType": "ApiCallRateInsight"',
        "          }",
        "        ]",
        "      live:",
        "        []",
    ]


def test_selector_order_is_not_a_difference() -> None:
    two = ({"ReadWriteType": "All"}, {"ReadWriteType": "ReadOnly"})
    baseline = replace(BASELINE, selectors=Selectors(event_selectors=two))
    live = replace(BASELINE, selectors=Selectors(event_selectors=tuple(reversed(two))))

    assert differences(baseline, LiveTrail(True, live, True)) == []


def test_json_in_selectors_cannot_escape_the_blob() -> None:
    hostile = ({"ReadWriteType": "All\u001b[2J\u202e"},)
    live = replace(BASELINE, selectors=replace(BASELINE.selectors, event_selectors=hostile))

    text = "\n".join(format_differences(differences(BASELINE, LiveTrail(True, live, True))))

    assert "\x1b" not in text and "\u202e" not in text
    assert '"All\\u001b[2J\\u202e"' in text


# ---------------------------------------------------------------- reconcile plans


def test_plan_only_changes_nothing_and_publishes_nothing() -> None:
    deps = make_deps()
    trails: FakeTrails = deps.trails  # type: ignore[assignment]
    trails.logging[REF] = False

    report = reconcile(deps, "111111111111", plan_only=True)

    assert trails.calls == ["read"]
    assert deps.alerts.alerts == []  # type: ignore[attr-defined]
    [plan] = report.planned
    assert plan.steps == (("StartLogging", REF.arn),)
    assert plan.drift == ("the trail is not logging",)
    assert report.results == []
    assert report.summary()["planned"] == [plan.summary()]


def test_plan_for_a_lost_org_trail_enables_trusted_access_once() -> None:
    deps = make_deps()
    deps.trails = FakeTrails()
    deps.trusted_access.enabled.clear()  # type: ignore[attr-defined]

    report = reconcile(deps, "111111111111", plan_only=True)

    assert [[call for call, _ in p.steps] for p in report.planned] == [
        ["EnableAWSServiceAccess"],
        ["CreateTrail", "StartLogging", "PutEventSelectors", "PutInsightSelectors"],
    ]
    assert deps.trusted_access.calls == ["List"]  # type: ignore[attr-defined]


def test_plan_in_detect_mode_is_alert_only() -> None:
    deps = make_deps(settings=replace(SETTINGS, detect_only=True))
    deps.trails.logging[REF] = False  # type: ignore[attr-defined]

    report = reconcile(deps, "111111111111", plan_only=True)

    assert [p.alert_only for p in report.planned] == [True]
    assert "would alert only" in "\n".join(format_plan(report))


def test_real_run_labels_alerts_with_detected_by() -> None:
    deps = make_deps()
    deps.trails.logging[REF] = False  # type: ignore[attr-defined]

    report = reconcile(deps, "111111111111", detected_by="operator")

    assert report.repaired == 1
    assert [a.detected_by for a in deps.alerts.alerts] == ["operator"]  # type: ignore[attr-defined]
    assert "planned" not in report.summary()


def test_default_run_is_still_the_schedule() -> None:
    deps = make_deps()
    deps.trails.logging[REF] = False  # type: ignore[attr-defined]

    reconcile(deps, "111111111111")

    assert [a.detected_by for a in deps.alerts.alerts] == ["schedule"]  # type: ignore[attr-defined]


def test_plan_and_results_text() -> None:
    deps = make_deps()
    deps.trails.logging[REF] = False  # type: ignore[attr-defined]

    plan = format_plan(reconcile(deps, "111111111111", plan_only=True))
    assert plan == [
        "Dry run: nothing was changed and no alert was published.",
        "",
        f"I2 protected trail  {REF.arn}",
        "  drift: the trail is not logging",
        "  would run, in this order:",
        f"    1. StartLogging {REF.arn}",
        "",
        "1 repair planned. Run `trailguard reconcile` to repair.",
    ]
    report = reconcile(deps, "111111111111", detected_by="operator")
    assert report.results[0].outcome is Outcome.REPAIRED
    assert format_results(report) == [
        f"repaired   {REF.arn}",
        f"  - StartLogging {REF.arn}: ok",
        "  alert published, message id message-1",
    ]
    assert reconcile_exit(report) == 0


# ---------------------------------------------------------------- arguments


def test_usage_errors_are_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["baseline"]) == 2
    assert main(["reconcile", "--mode", "bogus"]) == 2
    assert main(["--help"]) == 0
    assert "trailguard" in capsys.readouterr().out


def test_aws_failure_is_exit_2_with_the_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    def denied(name: str, region: str) -> dict[str, Any]:
        raise _denied("DescribeStacks", "cloudformation:DescribeStacks")

    monkeypatch.setattr(aws, "describe_stack", denied)
    out, err = io.StringIO(), io.StringIO()

    assert main(["status"], stdout=out, stderr=err) == 2
    assert out.getvalue() == ""
    assert err.getvalue().splitlines() == [
        "trailguard: DescribeStacks failed with AccessDenied: no",
        "  hint: your credentials are missing the permission cloudformation:DescribeStacks: "
        "sign in with a role that has it",
    ]


def test_refused_alerts_are_kept_and_the_run_goes_on() -> None:
    class RefusingTopic:
        def publish(self, alert: Any) -> str:
            raise AssertionError("the CLI publishes rendered alerts")

        def publish_rendered(self, rendered: Any) -> str:
            cause = AwsCallFailed("Publish", "AuthorizationError", "denied by policy", "x")
            raise AlertNotDelivered("not delivered (x)") from cause

    deps = make_deps()
    deps.trails.logging[REF] = False  # type: ignore[attr-defined]
    deps.trusted_access.enabled.clear()  # type: ignore[attr-defined]
    alerts = OperatorAlerts(RefusingTopic())
    deps.alerts = alerts

    report = reconcile(deps, "111111111111", detected_by="operator")

    assert report.repaired == 2  # I1 and I2: the first refused alert did not stop the run
    assert [u.error for u in alerts.undelivered] == [
        "Publish failed with AuthorizationError: denied by policy"
    ] * 2
    lines = format_results(report, alerts.undelivered)
    assert lines.count("  alert NOT published (below)") == 2
    assert "  | [trailguard] HIGH operator org-trail: drift repaired and verified" in lines
    document: Any = alerts.undelivered[0].document()
    assert document["alert"]["detectedBy"] == "operator"
