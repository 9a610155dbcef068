"""A first incident costs the minimum's calls plus one, cold as well as warm: with
`ProtectedTrailNames` empty, "this trail has a baseline" is checked inside the
delivery ledger's claim (one DynamoDB transaction), not by a read of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from drill.world import LOG_BUCKET, World
from tests.functional.helpers import aws, fresh
from trailguard import clients, runtime

FUNCTION = "RestoreTrailFunction"
# The minimum (bench/bare.py): StartLogging, GetTrailStatus, Publish.
MINIMUM = 3
# Beyond the minimum's alert (engine/destinations.py): the default bus, always, and the
# account alias on a cold start.
ALERT_DESTINATION_CALLS = ("PutEvents", "ListAccountAliases")


@pytest.fixture
def calls(world: World) -> Iterator[list[str]]:
    """The AWS operations trailguard's own clients make, in order, from a fresh
    execution environment (nothing cached: a cold start)."""
    made: list[str] = []
    runtime.reset()

    def record(model: Any, **_: Any) -> None:
        made.append(model.name)

    session = clients._session()
    session.register("before-call", record)
    yield made
    session.unregister("before-call", record)


def test_cold_stop_logging_costs_the_minimum_plus_the_claim(
    world: World, event: Any, calls: list[str]
) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    result = world.invoke(FUNCTION, fresh(event("stop_logging.json")))

    assert result["outcome"] == "repaired"
    # Issue 13: every alert also goes to the default event bus (PutEvents, at the same
    # time as the alert topic), and names the account alias, read once per execution
    # environment on a background thread while the repair waits on AWS.
    # Issue 11: the blind window is remembered (UpdateItem) for the reconciler's
    # follow-up that lists Event history's calls; no LookupEvents here, Event history
    # shows calls minutes after they are made.
    repair = ["TransactWriteItems", "StartLogging", "GetTrailStatus", "UpdateItem", "Publish"]
    assert [c for c in calls if c in repair] == repair
    assert sorted(c for c in calls if c not in repair) == ["ListAccountAliases", "PutEvents"]
    assert len(calls) == MINIMUM + 1 + 1 + len(ALERT_DESTINATION_CALLS)
    assert world.is_logging()
    assert [a.severity for a in world.drain_alerts()] == ["HIGH"]


def test_stop_logging_of_a_trail_without_baseline_claims_nothing_and_changes_nothing(
    world: World, event: Any, calls: list[str]
) -> None:
    ct = aws("cloudtrail")
    ct.create_trail(Name="team-trail", S3BucketName=LOG_BUCKET)
    ct.start_logging(Name="team-trail")
    ct.stop_logging(Name="team-trail")
    delivery = fresh(event("stop_logging.json"), requestParameters={"name": "team-trail"})

    result = world.invoke(FUNCTION, delivery)

    assert result["outcome"] == "notice"
    # The claim was cancelled: no CURRENT. Then a look for a version (GetItem, Query):
    # a deleted CURRENT must not unprotect a trail whose versions remain.
    # (The account alias for alerts is fetched on a background thread meanwhile.)
    writes_and_reads = [c for c in calls if c != "ListAccountAliases"]
    assert writes_and_reads == ["TransactWriteItems", "GetItem", "Query"]
    assert not ct.get_trail_status(Name="team-trail")["IsLogging"]
    items = aws("dynamodb").scan(TableName=world.ledger_table_name)["Items"]
    assert items == []
    assert world.drain_alerts() == []


def test_a_duplicate_of_a_repaired_stop_logging_is_answered_by_the_ledger(
    world: World, event: Any, calls: list[str]
) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    delivery = fresh(event("stop_logging.json"))
    world.invoke(FUNCTION, delivery)
    calls.clear()

    assert world.invoke(FUNCTION, delivery)["outcome"] == "duplicate"
    # The environment remembers the baseline now: a plain conditional claim, then its read.
    assert calls == ["PutItem", "GetItem"]
    assert len(world.drain_alerts()) == 1
