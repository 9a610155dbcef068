"""`python -m drill` on the first-run problems: an unwritable --json path, CloudTrail
records instead of EventBridge events, events no rule matches, --apply, --email,
the storm note, and --cli (the operator command line in the drill's world)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from drill.__main__ import main
from drill.runner import EXIT_OK
from tests.drill.helpers import only_play, run_drill

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
TRAIL_ARN = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"


def _detail(name: str) -> dict[str, Any]:
    """The CloudTrail record inside one of the EventBridge events in events/."""
    return dict(json.loads((EVENTS / name).read_text())["detail"])


def _write(path: Path, content: Any) -> Path:
    path.write_text(json.dumps(content))
    return path


def _states(play: dict[str, Any], moment: str) -> dict[str, bool]:
    return {c["key"]: c["holds"] for c in play["states"][moment]}


# ------------------------------------------------------------------ --json


def test_json_to_a_path_that_cannot_be_written_is_refused_before_any_attack(
    tmp_path: Path,
) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()

    code = main(
        ["--scenario", "stop-logging", "--json", str(tmp_path / "missing" / "report.json")],
        stdout=stdout,
        stderr=stderr,
    )

    assert code == 2
    assert stdout.getvalue() == ""  # nothing was played
    assert "cannot write the JSON report to" in stderr.getvalue()
    assert "No such file or directory" in stderr.getvalue()


def test_json_to_a_directory_is_refused(tmp_path: Path) -> None:
    stderr = io.StringIO()

    code = main(["--json", str(tmp_path)], stdout=io.StringIO(), stderr=stderr)

    assert code == 2
    assert "Is a directory" in stderr.getvalue()


def test_json_path_check_leaves_no_file_behind_when_refused_elsewhere(tmp_path: Path) -> None:
    target = tmp_path / "report.json"

    code = main(["--apply", "--json", str(target)], stdout=io.StringIO(), stderr=io.StringIO())

    assert code == 2  # --apply without --event
    assert not target.exists()


# ------------------------------------------------------------------ CloudTrail records


def test_a_cloudtrail_record_is_wrapped_as_eventbridge_delivers_it(tmp_path: Path) -> None:
    record = _write(tmp_path / "record.json", _detail("stop_logging.json"))

    run = run_drill("--event", str(record))

    assert run.exit_code == EXIT_OK
    play = only_play(run.report)
    assert "a CloudTrail record, wrapped as EventBridge delivers it" in play["note"]
    [delivery] = play["deliveries"]
    assert delivery["event"]["detailType"] == "AWS API Call via CloudTrail"
    assert delivery["event"]["source"] == "aws.cloudtrail"
    [invocation] = delivery["invocations"]
    # Not applied: the trail was never stopped, so the StopLogging is not what its state
    # says (StopLoggingTime): unverified, and no repair claimed.
    assert (invocation["function"], invocation["outcome"]) == (
        "RestoreTrailFunction",
        "unverified",
    )
    [alert] = delivery["alerts"]
    assert alert["document"]["event"]["name"] == "StopLogging"
    assert "not delivered" not in run.readable


def test_a_cloudtrail_log_file_replays_every_record_in_order(tmp_path: Path) -> None:
    records = [_detail("update_trail_weaken.json"), _detail("stop_logging.json")]
    log_file = _write(tmp_path / "log.json", {"Records": records})

    run = run_drill("--event", str(log_file), "--apply")

    assert run.exit_code == EXIT_OK
    plays = run.report["plays"]
    assert [p["name"] for p in plays] == ["log.json (record 1 of 2)", "log.json (record 2 of 2)"]
    assert [p["deliveries"][0]["invocations"][0]["outcome"] for p in plays] == ["repaired"] * 2
    assert all(check["holds"] for check in run.report["invariants"])
    assert "2 replayed events" in run.readable


def test_an_empty_cloudtrail_log_file_is_a_usage_error(tmp_path: Path) -> None:
    empty = _write(tmp_path / "empty.json", {"Records": []})
    stderr = io.StringIO()

    code = main(["--event", str(empty)], stdout=io.StringIO(), stderr=stderr)

    assert code == 2
    assert "no CloudTrail record" in stderr.getvalue()


# ------------------------------------------------------------------ no rule matches


def test_an_event_no_rule_matches_says_which_field_kept_it_out(tmp_path: Path) -> None:
    event = json.loads((EVENTS / "stop_logging.json").read_text())
    event["detail"]["eventName"] = "GetTrailStatus"
    path = _write(tmp_path / "read_only.json", event)

    run = run_drill("--event", str(path))

    [delivery] = only_play(run.report)["deliveries"]
    assert delivery["invocations"] == []
    [nearest] = delivery["unmatched"]
    assert (nearest["rule"], nearest["function"]) == ("TrailChanged", "RestoreTrailFunction")
    [reason] = nearest["reasons"]
    assert reason.startswith('detail.eventName is "GetTrailStatus"; the rule wants one of [')
    assert "rule TrailChanged -> RestoreTrailFunction did not match:" in run.readable
    assert 'detail.eventName is "GetTrailStatus"' in run.readable


def test_an_event_without_detail_is_told_so_once() -> None:
    run = run_drill("--event", str(EVENTS / "malformed_missing_detail.json"))

    [delivery] = only_play(run.report)["deliveries"]
    assert delivery["unmatched"]
    assert {tuple(m["reasons"]) for m in delivery["unmatched"]} == {
        ("detail is missing; the rule tests fields in it",)
    }


# ------------------------------------------------------------------ --apply


def test_apply_makes_the_recorded_call_so_the_replay_shows_the_real_repair() -> None:
    weaken = str(EVENTS / "update_trail_weaken.json")

    as_is = only_play(run_drill("--event", weaken).report)
    run = run_drill("--event", weaken, "--apply")

    # Delivered as it is, to a world where nothing changed: nothing to repair.
    assert as_is["deliveries"][0]["invocations"][0]["outcome"] == "in_sync"
    assert run.exit_code == EXIT_OK
    play = only_play(run.report)
    assert play["attack"].startswith("cloudtrail:UpdateTrail Name=org-trail S3BucketName=")
    assert _states(play, "afterAttack")["trail-baseline"] is False
    assert _states(play, "afterTrailguard")["trail-baseline"] is True
    [delivery] = play["deliveries"]
    [invocation] = delivery["invocations"]
    assert invocation["outcome"] == "repaired"
    assert invocation["actions"] == [f"UpdateTrail {TRAIL_ARN}: ok"]
    [alert] = delivery["alerts"]
    assert (alert["severity"], alert["outcome"]) == ("HIGH", "repaired")
    # The event is the call made now: secondsToRepair measures this repair.
    assert 0 <= alert["secondsToRepair"] < 60


def test_apply_of_a_refused_call_makes_no_call() -> None:
    run = run_drill("--event", str(EVENTS / "disable_trusted_access_denied.json"), "--apply")

    assert run.exit_code == EXIT_OK
    play = only_play(run.report)
    assert play["attack"] is None
    assert "errorCode AccessDenied" in play["note"]
    assert _states(play, "afterAttack")["trusted-access"] is True


def test_apply_without_event_is_a_usage_error() -> None:
    stderr = io.StringIO()

    assert main(["--apply"], stdout=io.StringIO(), stderr=stderr) == 2
    assert "--apply needs --event FILE" in stderr.getvalue()


# ------------------------------------------------------------------ what on-call reads


def test_email_prints_each_alerts_email_text() -> None:
    run = run_drill("--scenario", "stop-logging", "--email")

    assert run.exit_code == EXIT_OK
    [alert] = only_play(run.report)["deliveries"][0]["alerts"]
    assert f"e-mail      Subject: {alert['subject']}" in run.readable
    for line in ("trailguard HIGH: drift repaired and verified", "What trailguard did"):
        assert line in run.readable
    assert f"- StartLogging {TRAIL_ARN}: ok" in run.readable


def test_the_storm_note_is_in_the_readable_output(tmp_path: Path) -> None:
    stop = _detail("stop_logging.json")
    log_file = _write(tmp_path / "storm.json", {"Records": [stop, stop]})

    run = run_drill("--event", str(log_file), "--apply")

    second = run.report["plays"][1]["deliveries"][0]["alerts"]
    [alert] = second
    assert "occurrence 2 of this alert within 15 minutes" in alert["document"]["detail"]
    assert "note: Storm: this is occurrence 2 of this alert within 15 minutes" in run.readable


def test_trailguard_itself_is_named_as_what_is_checked_not_as_a_status() -> None:
    run = run_drill("--scenario", "tamper-with-trailguard")

    [alert] = only_play(run.report)["deliveries"][0]["alerts"]
    assert alert["severity"] == "CRITICAL"
    assert alert["document"]["invariant"] == "trailguard's own resources"
    assert "CRITICAL | repaired | trailguard's own resources" in run.readable
    assert "intact" not in run.readable


# ------------------------------------------------------------------ --cli


def test_cli_runs_the_operator_command_line_in_the_drills_world() -> None:
    run = run_drill("--scenario", "stop-logging", "--cli", "status")

    assert run.exit_code == EXIT_OK
    assert run.report["cliExitCode"] == 0
    assert "== trailguard status (the operator command line, in the drill's world)" in (
        run.readable
    )
    assert "OK: all 8 checks hold." in run.readable
    assert "== trailguard status: exit 0" in run.readable


def test_own_role_replay_is_repaired_and_cli_reconcile_finds_nothing_left() -> None:
    # Calls under trailguard's own role are checked, not ignored (issue 10): applied,
    # this StopLogging stops the trail, and the handler repairs it with a CRITICAL.
    stopped = str(EVENTS / "stop_logging_by_remediator.json")

    left = run_drill("--event", stopped, "--apply")
    run = run_drill("--event", stopped, "--apply", "--cli", "reconcile")

    assert left.exit_code == EXIT_OK
    [alert] = only_play(left.report)["deliveries"][0]["alerts"]
    assert (alert["severity"], alert["outcome"]) == ("CRITICAL", "repaired")
    assert run.exit_code == EXIT_OK
    assert run.report["cliExitCode"] == 0
    assert all(check["holds"] for check in run.report["invariants"])
    assert f"- StartLogging {TRAIL_ARN}: ok" not in run.readable


def test_a_passing_drill_exits_with_the_command_lines_status() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()

    code = main(
        ["--scenario", "denied-attempt", "--cli", "baseline", "show", "no-such-trail"],
        stdout=stdout,
        stderr=stderr,
    )

    assert code == 1
    assert "== trailguard baseline show no-such-trail: exit 1" in stdout.getvalue()


def test_cli_without_arguments_is_a_usage_error() -> None:
    stderr = io.StringIO()

    assert main(["--cli"], stdout=io.StringIO(), stderr=stderr) == 2
    assert "--cli needs" in stderr.getvalue()
