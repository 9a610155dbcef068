"""Pure parts of the drill: sorting handler output, escaping, colour, fresh events."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from drill.events import fresh_event, scheduled_event
from drill.handler_output import Printed, sort_printed
from drill.render import Style, colour_wanted, safe
from drill.routing import Invocation, schedules
from drill.scenarios import BY_NAME


def test_handler_output_is_sorted_into_logs_metrics_and_other_lines() -> None:
    printed = sort_printed(
        '{"level":"INFO","message":"done"}\n'
        '{"_aws":{"CloudWatchMetrics":[{"Metrics":[{"Name":"Outcome_repaired"}]}]}}\n'
        "plain text\n\n"
    )

    assert printed.logs == ({"level": "INFO", "message": "done"},)
    assert printed.metrics == ("Outcome_repaired",)
    assert printed.other == ("plain text",)


def test_control_characters_are_shown_escaped() -> None:
    assert safe("curl/8.0\r\nX: 1\x1b[31m") == "curl/8.0\\r\\nX: 1\\x1b[31m"
    assert safe("aws-cli/2.17.0 ünïcode") == "aws-cli/2.17.0 ünïcode"


def test_colour_only_on_a_terminal_without_no_color() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert colour_wanted(Terminal(), {})
    assert not colour_wanted(Terminal(), {"NO_COLOR": "1"})
    assert colour_wanted(Terminal(), {"NO_COLOR": ""})  # no-color.org: empty means unset
    assert not colour_wanted(io.StringIO(), {})
    assert Style(False)("x", "red") == "x"
    assert Style(True)("x", "red", "bold") == "\033[31;1mx\033[0m"


def test_fresh_event_is_stamped_with_the_attack_time_and_a_new_id() -> None:
    at = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)

    first = fresh_event("stop_logging.json", at)
    second = fresh_event("stop_logging.json", at)

    assert first["detail"]["eventTime"] == "2030-01-02T03:04:05.678Z"
    assert first["time"] == "2030-01-02T03:04:05Z"
    assert first["detail"]["eventID"] != second["detail"]["eventID"]
    assert first["id"] != second["id"]
    assert first["detail"]["eventName"] == "StopLogging"


def test_attack_is_described_as_the_api_call() -> None:
    [attack] = BY_NAME["exclude-management-events"].attacks

    assert attack.describe() == (
        'cloudtrail:PutEventSelectors TrailName=org-trail EventSelectors=[{"ReadWriteType":'
        '"All","IncludeManagementEvents":false,"DataResources":[]}]'
    )


def test_scheduled_event_is_what_a_schedule_rule_sends() -> None:
    at = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)

    event = scheduled_event("trailguard-ReconcileInvariantsFunctionEvery-EXAMPLE", at)

    assert event == {
        "version": "0",
        "id": event["id"],
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "111111111111",
        "time": "2030-01-02T03:04:05Z",
        "region": "us-east-1",
        "resources": [
            "arn:aws:events:us-east-1:111111111111:rule/"
            "trailguard-ReconcileInvariantsFunctionEvery-EXAMPLE"
        ],
        "detail": {},
    }
    assert event["id"] != scheduled_event("x", at)["id"]


def test_fresh_event_names_what_the_attack_named() -> None:
    at = datetime(2030, 1, 2, tzinfo=UTC)

    event = fresh_event("disable_own_rule.json", at, {"name": "trailguard-Rule-EXAMPLE"})

    assert event["detail"]["requestParameters"] == {
        "name": "trailguard-Rule-EXAMPLE",
        "eventBusName": "default",
    }


def test_schedules_are_found_in_the_template_functions() -> None:
    [schedule] = schedules()

    assert (schedule.function_id, schedule.event_id) == ("ReconcileInvariantsFunction", "Every")
    assert schedule.module == "reconcile_invariants.app"
    assert schedule.rule_name == "trailguard-ReconcileInvariantsFunctionEvery-EXAMPLE"
    assert schedule.expression == {
        "Fn::FindInMap": ["ReconcileInterval", {"Ref": "ReconcileIntervalMinutes"}, "Expression"]
    }


def _invocation(summary: dict[str, Any] | None) -> Invocation:
    return Invocation("Every", "ReconcileInvariantsFunction", summary, "", 0.1, False, Printed())


def test_the_reconcilers_summary_gives_the_outcome_and_the_calls() -> None:
    repaired = _invocation(
        {
            "checked": ["I1", "I6"],
            "repaired": 2,
            "results": [
                {"outcome": "repaired", "actions": ["EnableAWSServiceAccess x: ok"]},
                {"outcome": "repaired", "actions": ["CreateTrail t: ok", "StartLogging t: ok"]},
            ],
            "failures": [],
        }
    )
    healthy = _invocation({"checked": ["I1"], "repaired": 0, "results": [], "failures": []})

    assert repaired.outcome == "repaired"
    assert repaired.actions == [
        "EnableAWSServiceAccess x: ok",
        "CreateTrail t: ok",
        "StartLogging t: ok",
    ]
    assert healthy.outcome == "in_sync"
    assert healthy.actions == []
    assert _invocation(None).outcome == "raised"
