"""scripts/reliability.py counts what AWS saw: its call recorder, its write classification,
and its duplicate run across processes, each checked against calls made for real."""

from __future__ import annotations

from typing import Any

import pytest

from drill.events import fresh_event, now
from drill.world import World
from scripts import reliability
from scripts.reliability import (
    START_LOGGING,
    Call,
    alerts_published,
    by_action,
    duplicates,
    fuzz,
    is_write,
    recording,
    repairs_seen,
    writes,
)
from tests.functional.helpers import aws


@pytest.mark.parametrize(
    ("service", "operation", "write"),
    [
        ("dynamodb", "PutItem", True),
        ("dynamodb", "DeleteItem", True),
        ("dynamodb", "GetItem", False),
        ("dynamodb", "Query", False),
        ("dynamodb", "TransactWriteItems", True),  # no IAM action of that name: by its name
        ("sns", "Publish", True),
        ("cloudtrail", "StartLogging", True),
        ("cloudtrail", "GetTrailStatus", False),
        ("cloudtrail", "AddTags", True),  # Tagging
        ("iam", "CreateServiceLinkedRole", True),
        ("iam", "ListRoles", False),
        ("organizations", "EnableAWSServiceAccess", True),
        ("organizations", "ListAWSServiceAccessForOrganization", False),
        ("madeup", "DescribeThing", False),  # not in the definitions: named as a read
        ("madeup", "ZapThing", True),  # not in the definitions: anything else writes
    ],
)
def test_writes_are_what_aws_calls_write(service: str, operation: str, write: bool) -> None:
    assert is_write(service, operation) is write


def test_the_recorder_sees_every_call_of_every_new_client(world: World) -> None:
    import boto3

    with recording() as recorder:
        ct = boto3.session.Session().client("cloudtrail", region_name="us-east-1")
        ct.get_trail_status(Name=world.trail_name)
        ct.stop_logging(Name=world.trail_name)
        with pytest.raises(ct.exceptions.TrailNotFoundException):
            ct.start_logging(Name="no-such-trail")

    assert recorder.calls == [
        Call("cloudtrail", "GetTrailStatus", True, trailguard=False),
        Call("cloudtrail", "StopLogging", True, trailguard=False),
        Call("cloudtrail", "StartLogging", False, trailguard=False),
    ]
    assert [c.operation for c in writes(recorder.calls)] == ["StopLogging", "StartLogging"]
    after = boto3.session.Session().client("cloudtrail", region_name="us-east-1")
    after.get_trail_status(Name=world.trail_name)
    assert len(recorder.calls) == 3  # uninstalled: later clients are not recorded


def test_a_repair_is_counted_from_trailguards_own_calls(world: World) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    with recording() as recorder:
        aws("cloudtrail").stop_logging(Name=world.trail_name)  # the world's client, not ours
        world.invoke("RestoreTrailFunction", fresh_event("stop_logging.json", now()))

    ours = [c.action for c in recorder.calls if c.trailguard]
    # The delivery ledger's claim (and, depending on the build, a baseline lookup) come
    # first; then the repair, its verification and the alert, then the alert's other
    # destinations (the account alias for its content, the default event bus).
    repair = ["cloudtrail:StartLogging", "cloudtrail:GetTrailStatus", "sns:Publish"]
    # ...and the blind window saved for its follow-up (the trail-health item).
    content = {"iam:ListAccountAliases", "events:PutEvents", "dynamodb:UpdateItem"}
    start = ours.index(repair[0])
    assert [a for a in ours[start:] if a not in content] == repair
    assert ours[:start]
    assert all(action.startswith("dynamodb:") for action in ours[:start])
    assert repairs_seen(recorder.calls, START_LOGGING) == 1
    assert alerts_published(recorder.calls) == 1
    assert len(world.drain_alerts()) == 1
    written = by_action(writes(recorder.calls))
    ledger_claims = {
        k: v for k, v in written.items() if k.startswith("dynamodb:") and k != "dynamodb:UpdateItem"
    }
    assert sum(ledger_claims.values()) == 1  # the claim, and the blind window saved:
    assert written.get("dynamodb:UpdateItem") == 1  # the only bookkeeping writes
    assert {
        k: v for k, v in written.items() if k not in ledger_claims and k != "dynamodb:UpdateItem"
    } == {
        "cloudtrail:StartLogging": 1,
        "cloudtrail:StopLogging": 1,  # the world's, recorded too: set apart by `trailguard`
        "sns:Publish": 1,
        "events:PutEvents": 1,  # the alert on the default bus
    }


def test_failed_and_foreign_calls_are_not_repairs_or_alerts() -> None:
    calls = [
        Call("cloudtrail", "StartLogging", False),
        Call("cloudtrail", "StartLogging", True, trailguard=False),
        Call("sns", "Publish", False),
        Call("sns", "Publish", True, trailguard=False),
    ]

    assert repairs_seen(calls, START_LOGGING) == 0
    assert alerts_published(calls) == 0


def test_fuzzing_books_each_write_to_the_input_that_made_it(world: World) -> None:
    with recording() as recorder:
        figures = fuzz(world, recorder, "RestoreTrailFunction", 60)
        ours = [c for c in recorder.calls if c.trailguard]

    assert figures.inputs == 60
    assert 0 < figures.rejected < 60
    assert figures.crashed == 0
    booked = figures.rejected_writes + figures.accepted_writes
    assert sorted(booked, key=repr) == sorted(writes(ours), key=repr)


def test_rejected_means_the_handler_said_so() -> None:
    assert reliability._rejected("RestoreTrailFunction", {"outcome": "rejected"})
    assert not reliability._rejected("RestoreTrailFunction", {"outcome": "notice"})
    assert reliability._rejected(
        "CaptureBaselineFunction", {"ok": False, "reason": "expected a custom resource request"}
    )
    assert not reliability._rejected("CaptureBaselineFunction", {"ok": True})
    assert not reliability._rejected("ReconcileInvariantsFunction", {"repaired": 0})


def test_duplicates_across_processes_are_stopped_by_the_ledger_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stop_logging, control = reliability.DUPLICATE_CASES[0], reliability.DUPLICATE_CASES[-1]
    assert not control.ledger
    monkeypatch.setattr(reliability, "DUPLICATE_CASES", (stop_logging, control))

    with_ledger, without = duplicates(processes=2, per_process=3)

    assert (with_ledger.deliveries, with_ledger.failed_invocations) == (6, 0)
    assert (with_ledger.repairs, with_ledger.published, with_ledger.delivered) == (1, 1, 1)
    # Without the ledger each process repairs once: the count can fail.
    assert (without.repairs, without.published, without.delivered) == (2, 2, 2)


def test_the_report_is_healthy_only_when_every_figure_is(world: World) -> None:
    fine = reliability.DuplicateFigures("x", 2, 10, 1, 1, 1, 1, 0)
    lost = reliability.ScenarioFigures("y", 1, 1, 1, 2, 1, 2)
    report: Any = reliability.Report([], [fine], [], 1.0)
    assert report.healthy
    report.scenarios = [lost]
    assert not report.healthy
    assert "NOT HEALTHY" in reliability.render(report)
