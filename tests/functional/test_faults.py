"""Faults: throttling, missing permissions, missing bucket, disabled KMS key, SNS down.

Throttling is injected in moto's backend, behind its HTTP layer, so the real
standard-mode retries run against it. AWS-only refusals use botocore's Stubber (moto does not check
IAM or KMS key state).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from drill.world import World
from tests.fakes import make_deps
from tests.functional.helpers import aws, fresh
from trailguard import clients
from trailguard.adapters.cloudtrail import CloudTrailGateway
from trailguard.domain.events import parse_api_call_event
from trailguard.errors import RemediationFailed
from trailguard.protected.trail import protect_trail

FUNCTION = "RestoreTrailFunction"


def _throttle(monkeypatch: pytest.MonkeyPatch, backend_method: str, times: int) -> list[int]:
    """Make moto's CloudTrail answer `backend_method` with 400 ThrottlingException
    `times` times. The error goes back over moto's HTTP layer, so botocore's
    standard-mode retry loop sees it exactly as it would see AWS's."""
    from moto.cloudtrail.models import CloudTrailBackend
    from moto.core.exceptions import JsonRESTError

    seen: list[int] = []
    original = getattr(CloudTrailBackend, backend_method)

    def throttled(self: Any, *args: Any, **kwargs: Any) -> Any:
        if len(seen) < times:
            seen.append(1)
            raise JsonRESTError("ThrottlingException", "Rate exceeded")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CloudTrailBackend, backend_method, throttled)
    return seen


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # Standard-mode backoff sleeps up to seconds per attempt; the attempts are what count.
    monkeypatch.setattr(
        "botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, context: 0
    )


def test_throttled_start_logging_is_retried_and_repairs(
    world: World, event: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    throttled = _throttle(monkeypatch, "start_logging", times=3)

    result = world.invoke(FUNCTION, fresh(event("stop_logging.json")))

    assert len(throttled) == 3
    assert result["outcome"] == "repaired"
    assert world.is_logging()


def test_throttling_beyond_the_attempt_cap_is_critical(
    world: World, event: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    throttled = _throttle(monkeypatch, "start_logging", times=100)

    with pytest.raises(RemediationFailed):
        world.invoke(FUNCTION, fresh(event("stop_logging.json")))

    assert len(throttled) == 5  # total_max_attempts of the one client configuration
    [alert] = world.drain_alerts()
    assert alert.severity == "CRITICAL"
    assert "throttled" in alert.document["manualAction"]
    assert alert.document["verification"] == "still drifted: the trail is not logging"
    assert not world.is_logging()


@pytest.fixture
def stubbed_cloudtrail(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    import boto3

    stubber = Stubber(boto3.client("cloudtrail", region_name="us-east-1"))
    stubber.activate()
    monkeypatch.setattr(clients, "client", lambda service, region: stubber.client)
    yield stubber
    stubber.assert_no_pending_responses()


def test_access_denied_names_the_missing_permission(
    stubbed_cloudtrail: Stubber, event: Any
) -> None:
    stubbed_cloudtrail.add_client_error("start_logging", "AccessDeniedException", "denied")
    stubbed_cloudtrail.add_response("get_trail_status", {"IsLogging": False})
    deps = make_deps()
    deps.trails = CloudTrailGateway()

    with pytest.raises(RemediationFailed):
        protect_trail(parse_api_call_event(fresh(event("stop_logging.json"))), deps)

    [alert] = deps.alerts.alerts  # type: ignore[attr-defined]
    assert "missing the permission cloudtrail:StartLogging" in alert.manual_action


def test_disabled_kms_key_says_so(world: World, event: Any) -> None:
    """A KMS key CreateTrail refuses is optional: the trail is recreated and logging
    without it (degraded repair), and the CRITICAL names the key's error.
    drill/emulation makes CreateTrail refuse a disabled key, as AWS does (KmsException)."""
    aws("kms").disable_key(KeyId=world.trail_key_arn.rsplit("/", 1)[-1])
    aws("cloudtrail").delete_trail(Name=world.trail_name)

    result = world.invoke("RestoreTrailFunction", fresh(event("delete_trail.json")))

    assert result["outcome"] == "degraded"
    trail = world.trail()
    assert trail is not None and "KmsKeyId" not in trail and world.is_logging()
    [alert] = world.drain_alerts()
    assert alert.severity == "CRITICAL"
    assert "KMS encryption not restored" in alert.document["headline"]
    assert "KmsException" in alert.document["manualAction"]
    results = [a["result"] for a in alert.document["actions"]]
    assert results[:2] == ["KmsException", "ok"] and world.trail_arn == alert.document["resource"]


def test_state_read_failure_is_critical_and_retried(
    world: World, event: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws("cloudtrail").update_trail(Name=world.trail_name, S3KeyPrefix="elsewhere")
    _throttle(monkeypatch, "get_trail", times=100)

    with pytest.raises(RemediationFailed):
        world.invoke(FUNCTION, fresh(event("update_trail_weaken.json")))

    [alert] = world.drain_alerts()
    assert alert.severity == "CRITICAL"
    assert alert.document["headline"] == "could not check state; drift may be unrepaired"
