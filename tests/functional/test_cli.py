"""The operator command line against the moto world: output, exit status, AWS state.

The world has no CloudFormation stack, so most tests name the table and topic
(--table/--topic); the stack tests create one whose outputs point at them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from drill.world import REGION, World
from tests.functional.helpers import aws
from trailguard.adapters.baseline_store import DynamoBaselineStore
from trailguard.adapters.cloudtrail import CloudTrailGateway
from trailguard.domain.trails import TrailRef
from trailguard.errors import AwsCallFailed
from trailguard_cli import main

CALLER = "arn:aws:sts::111111111111:user/moto"  # moto's GetCallerIdentity


def run(*args: str, stdin: Any = None) -> tuple[int, str, str]:
    # Own streams: in tests the functions' powertools loggers also write to sys.stdout.
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err, stdin=stdin or io.StringIO())
    return code, out.getvalue(), err.getvalue()


def where(world: World) -> list[str]:
    return [
        "--table",
        world.table_name,
        "--topic",
        world.topic_arn,
        "--signing-key",
        world.signing_key_arn,
    ]


class Terminal:
    """An interactive stdin; `before_answer` runs while the operator reads the prompt."""

    def __init__(self, answer: str, before_answer: Callable[[], None] = lambda: None) -> None:
        self._answer = answer
        self._before_answer = before_answer

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        self._before_answer()
        return self._answer + "\n"


def history(world: World) -> list[Any]:
    store = DynamoBaselineStore(world.table_name, REGION)
    return store.history(TrailRef.from_arn(world.trail_arn))


# ---------------------------------------------------------------- status


def test_status_all_ok(world: World) -> None:
    code, out, err = run("status", *where(world))

    assert code == 0, err
    assert "OK: all 8 checks hold." in out
    assert "DRIFTED" not in out
    assert "account 111111111111" in out


def test_stopped_logging_is_drift_on_i2(world: World) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    code, out, _ = run("status", *where(world))

    assert code == 1
    assert "DRIFTED  I2    trail is logging" in out
    assert "- the trail is not logging" in out
    assert "DRIFTED: 1 of 8 checks" in out


def test_status_json(world: World) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    aws("organizations").disable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")

    code, out, _ = run("status", "--json", *where(world))

    document = json.loads(out)
    assert code == 1
    assert document["ok"] is False
    assert document["drifted"] == 2
    drifted = {(c["invariant"], c["resource"]) for c in document["checks"] if c["state"] != "OK"}
    assert drifted == {("I1", "cloudtrail.amazonaws.com"), ("I2", world.trail_arn)}
    assert document["context"]["caller"] == CALLER


def test_deleted_trail_is_one_drifted_row(world: World) -> None:
    aws("cloudtrail").delete_trail(Name=world.trail_name)

    code, out, _ = run("status", *where(world))

    assert code == 1
    assert "DRIFTED  I3    trail exists" in out
    assert "- the trail does not exist" in out
    assert "trail is logging" not in out


def test_protected_trail_without_baseline(world: World) -> None:
    code, out, _ = run("status", "--protected-trails", "org-trail,other-trail", *where(world))

    assert code == 1
    assert "other-trail: protected but has no baseline" in out


def test_hostile_values_are_printed_escaped(world: World) -> None:
    aws("cloudtrail").update_trail(Name=world.trail_name, S3KeyPrefix="x\x1b[2J\x1b]0;pwned\x07")

    for command in (["status"], ["baseline", "diff"], ["reconcile", "--dry-run"]):
        _, out, _ = run(*command, *where(world))
        assert "\x1b" not in out and "\x07" not in out
        assert r"'x\x1b[2J\x1b]0;pwned\x07'" in out


# ---------------------------------------------------------------- reconcile


def test_dry_run_plans_and_changes_nothing(world: World) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    code, out, _ = run("reconcile", "--dry-run", *where(world))

    assert code == 1
    assert "Dry run: nothing was changed and no alert was published." in out
    assert f"1. StartLogging {world.trail_arn}" in out
    assert not world.is_logging()
    assert world.drain_alerts() == []


def test_dry_run_needs_no_topic(world: World) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    code, out, err = run(
        "reconcile",
        "--dry-run",
        "--table",
        world.table_name,
        "--signing-key",
        world.signing_key_arn,
    )

    assert code == 1, err
    assert "StartLogging" in out


def test_dry_run_of_a_lost_trail_plans_the_design_order_once(world: World) -> None:
    aws("cloudtrail").delete_trail(Name=world.trail_name)
    aws("organizations").disable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")

    code, out, _ = run("reconcile", "--dry-run", "--json", *where(world))

    document = json.loads(out)
    assert code == 1
    assert document["dryRun"] is True
    steps = [[s["call"] for s in plan["steps"]] for plan in document["planned"]]
    assert steps == [
        ["EnableAWSServiceAccess"],
        ["CreateTrail", "StartLogging", "PutEventSelectors", "PutInsightSelectors"],
    ]
    assert world.trail() is None
    assert not world.trusted_access_enabled()


def test_reconcile_repairs_and_alerts_as_operator(world: World) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    code, out, err = run("reconcile", *where(world))

    assert code == 0, err
    assert world.is_logging()
    assert f"- StartLogging {world.trail_arn}: ok" in out
    [alert] = world.drain_alerts()
    assert alert.outcome == "repaired"
    assert alert.document["detectedBy"] == "operator"
    assert alert.subject == "[trailguard] HIGH operator org-trail: drift repaired and verified"

    code, out, _ = run("status", *where(world))
    assert code == 0


def test_refused_alerts_do_not_stop_the_run_and_are_printed(world: World) -> None:
    # The real topic's policy lets only trailguard's roles publish; moto does not
    # enforce it, so the topic is deleted to make the operator's Publish fail.
    aws("sns").delete_topic(TopicArn=world.topic_arn)
    aws("organizations").disable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    code, out, err = run("reconcile", *where(world))

    assert code == 0, err
    assert world.trusted_access_enabled()
    assert world.is_logging()
    assert out.count("alert NOT published (below)") == 2
    assert "2 alerts could not be published to the alert topic" in out
    assert "  | [trailguard] HIGH operator org-trail: drift repaired and verified" in out
    assert "  | Detected by:   operator" in out

    _, out, _ = run("status", *where(world))
    assert "OK: all 8 checks hold." in out


def test_refused_alerts_in_json(world: World) -> None:
    aws("sns").delete_topic(TopicArn=world.topic_arn)
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    code, out, _ = run("reconcile", "--json", *where(world))

    document = json.loads(out)
    assert code == 0
    assert document["repaired"] == 1
    [refused] = document["alertsNotPublished"]
    assert refused["alert"]["detectedBy"] == "operator"
    assert refused["alert"]["drift"] == ["the trail is not logging"]
    assert "NotFound" in refused["error"]


def test_reconcile_with_nothing_drifted(world: World) -> None:
    code, out, _ = run("reconcile", *where(world))

    assert code == 0
    assert "Nothing to repair: every invariant holds." in out
    assert world.drain_alerts() == []


def test_reconcile_in_detect_mode_alerts_only(world: World) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    code, _, _ = run("reconcile", "--mode", "detect", *where(world))

    assert code == 1
    assert not world.is_logging()
    [alert] = world.drain_alerts()
    assert alert.outcome == "detected"


def test_failed_repair_is_exit_1_with_the_manual_action_alerted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws("cloudtrail").delete_trail(Name=world.trail_name)

    def denied(self: object, baseline: object) -> None:
        # A refusal no degraded repair can work around (protected/trail.py).
        raise AwsCallFailed("CreateTrail", "AccessDeniedException", "denied", "grant it")

    monkeypatch.setattr(CloudTrailGateway, "create", denied)

    code, out, _ = run("reconcile", *where(world))

    assert code == 1
    assert "FAILED" in out
    assert [a.severity for a in world.drain_alerts()] == ["CRITICAL"]


# ---------------------------------------------------------------- baselines


def test_diff_shows_the_changed_field(world: World) -> None:
    aws("cloudtrail").update_trail(Name=world.trail_name, S3KeyPrefix="elsewhere")

    code, out, _ = run("baseline", "diff", *where(world))

    assert code == 1
    assert "I4  S3KeyPrefix  baseline 'org', live 'elsewhere'" in out


def test_diff_prints_both_selector_documents(world: World) -> None:
    aws("cloudtrail").put_event_selectors(
        TrailName=world.trail_name,
        EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
    )

    code, out, _ = run("baseline", "diff", "org-trail", "--json", *where(world))

    assert code == 1
    [trail] = json.loads(out)["trails"]
    [diff] = trail["differences"]
    assert diff["field"] == "EventSelectors"
    assert diff["baseline"][0]["ReadWriteType"] == "All"
    assert diff["live"] == [{"IncludeManagementEvents": True, "ReadWriteType": "WriteOnly"}]


def test_diff_without_drift(world: World) -> None:
    code, out, _ = run("baseline", "diff", world.trail_arn, *where(world))

    assert code == 0
    assert "live state matches the baseline" in out


def test_capture_after_update_replaces_baseline_and_writes_history(world: World) -> None:
    aws("cloudtrail").update_trail(Name=world.trail_name, S3KeyPrefix="new-prefix")

    code, out, err = run(
        "baseline", "capture", "--reason", "CHG-1234 new prefix", "--yes", *where(world)
    )

    assert code == 0, err
    assert "I4  S3KeyPrefix  now 'org', new 'new-prefix'" in out
    assert f"captured  {world.trail_arn}" in out
    baseline = world.baseline()
    assert baseline.snapshot.settings.s3_key_prefix == "new-prefix"
    assert baseline.captured_by == CALLER
    assert baseline.reason == "CHG-1234 new prefix"
    versions = history(world)
    assert [v.reason for v in versions] == ["drill", "CHG-1234 new prefix"]

    assert run("baseline", "diff", *where(world))[0] == 0
    code, out, _ = run("baseline", "show", "--history", *where(world))
    assert code == 0
    assert "History: 2 versions, oldest first" in out
    assert "I4  S3KeyPrefix  was 'org', became 'new-prefix'" in out


def test_capture_refuses_without_confirmation(world: World) -> None:
    aws("cloudtrail").update_trail(Name=world.trail_name, S3KeyPrefix="new-prefix")

    code, _, err = run("baseline", "capture", *where(world))

    assert code == 2
    assert "pass --yes" in err
    assert world.baseline().snapshot.settings.s3_key_prefix == "org"
    assert len(history(world)) == 1


def test_capture_declined_at_the_prompt(world: World) -> None:
    aws("cloudtrail").update_trail(Name=world.trail_name, S3KeyPrefix="new-prefix")

    code, out, err = run("baseline", "capture", *where(world), stdin=Terminal("no"))

    assert code == 1
    assert "Type 'yes' to confirm" in err
    assert "Nothing captured." in out
    assert world.baseline().snapshot.settings.s3_key_prefix == "org"


def test_capture_stores_what_was_confirmed_not_a_later_change(world: World) -> None:
    aws("cloudtrail").update_trail(Name=world.trail_name, S3KeyPrefix="reviewed")

    def attacker_meanwhile() -> None:
        aws("cloudtrail").update_trail(Name=world.trail_name, S3KeyPrefix="attacker")

    code, _, err = run(
        "baseline", "capture", *where(world), stdin=Terminal("yes", attacker_meanwhile)
    )

    assert code == 0, err
    assert world.baseline().snapshot.settings.s3_key_prefix == "reviewed"
    assert run("status", *where(world))[0] == 1  # the attacker's change is drift


def test_show_json_and_unknown_trail(world: World) -> None:
    code, out, _ = run("baseline", "show", "--history", "--json", *where(world))

    document = json.loads(out)
    assert code == 0
    assert document["schema"] == "trailguard.baselines/1"
    [baseline] = document["baselines"]
    assert baseline["trail"] == world.trail_arn
    assert baseline["snapshot"]["settings"]["s3_key_prefix"] == "org"
    assert [v["reason"] for v in document["history"][world.trail_arn]] == ["drill"]

    code, out, _ = run("baseline", "show", "no-such-trail", *where(world))
    assert code == 1
    assert "No baseline: no baseline for trail 'no-such-trail'." in out

    code, _, err = run("baseline", "show", "bad name!", *where(world))
    assert code == 2
    assert "not a trail name" in err


# ---------------------------------------------------------------- the stack


def _stack(world: World, mode: str = "enforce", outputs: bool = True) -> None:
    template: dict[str, Any] = {
        "Parameters": {
            "ProtectedTrailNames": {"Type": "String", "Default": ""},
            "AllowedPrincipalArns": {"Type": "String", "Default": ""},
            "Mode": {"Type": "String", "Default": "enforce"},
        },
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
    }
    if outputs:
        template["Outputs"] = {
            "AlertTopicArn": {"Value": world.topic_arn},
            "BaselineTableName": {"Value": world.table_name},
            "BaselineSigningKeyArn": {"Value": world.signing_key_arn},
        }
    aws("cloudformation").create_stack(
        StackName="trailguard",
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "Mode", "ParameterValue": mode},
            {"ParameterKey": "ProtectedTrailNames", "ParameterValue": "org-trail"},
        ],
    )


def test_settings_come_from_the_stack(world: World) -> None:
    _stack(world, mode="detect")
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    code, out, err = run("reconcile")

    assert code == 1, err
    assert "stack 'trailguard'" in out
    assert "mode detect" in out
    assert "protected trails: org-trail" in out
    assert not world.is_logging()
    [alert] = world.drain_alerts()
    assert alert.outcome == "detected"

    code, _, err = run("reconcile", "--mode", "enforce")
    assert code == 0, err
    assert world.is_logging()


def test_missing_stack_is_exit_2_with_a_hint(world: World) -> None:
    code, out, err = run("status", "--stack", "not-deployed")

    assert code == 2
    assert out == ""
    assert "no CloudFormation stack 'not-deployed' in us-east-1" in err
    assert "hint:" in err


def test_stack_without_outputs_is_exit_2(world: World) -> None:
    _stack(world, outputs=False)

    code, _, err = run("status")

    assert code == 2
    assert "has no output BaselineTableName" in err


@pytest.mark.parametrize("position", ["before", "after"])
def test_options_go_before_or_after_the_command(world: World, position: str) -> None:
    options = ["--json", *where(world)]
    argv = [*options, "status"] if position == "before" else ["status", *options]

    code, out, _ = run(*argv)

    assert code == 0
    assert json.loads(out)["ok"] is True
