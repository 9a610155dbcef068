"""Pure parts of the drill: sorting handler output, escaping, colour, fresh events."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from drill.events import fresh_event
from drill.handler_output import sort_printed
from drill.render import Style, colour_wanted, safe
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
    attack = BY_NAME["exclude-management-events"].attack
    assert attack is not None

    assert attack.describe() == (
        'cloudtrail:PutEventSelectors TrailName=org-trail EventSelectors=[{"ReadWriteType":'
        '"All","IncludeManagementEvents":false,"DataResources":[]}]'
    )
