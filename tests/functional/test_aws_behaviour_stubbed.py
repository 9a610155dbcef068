"""Real AWS behaviour that moto does not model (docs/testing-offline.md), shown with
botocore's Stubber: the adapters get clients whose responses are AWS's own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.fakes import BASELINE, REF, make_deps
from tests.functional.helpers import fresh
from trailguard import clients, concurrency
from trailguard.adapters.cloudtrail import CloudTrailGateway
from trailguard.adapters.iam import IamGateway
from trailguard.adapters.organizations import OrganizationsGateway
from trailguard.domain.drift import EVERY_ASPECT, Aspect
from trailguard.domain.events import parse_api_call_event
from trailguard.errors import RemediationFailed
from trailguard.protected.trail import protect_trail

TRAIL_DESCRIPTION = {
    "Name": "org-trail",
    "S3BucketName": "org-trail-logs",
    "S3KeyPrefix": "org",
    "IncludeGlobalServiceEvents": True,
    "IsMultiRegionTrail": True,
    "HomeRegion": "us-east-1",
    "TrailARN": REF.arn,
    "LogFileValidationEnabled": True,
    "KmsKeyId": BASELINE.settings.kms_key_id,
    "HasCustomEventSelectors": False,
    "HasInsightSelectors": True,
    "IsOrganizationTrail": True,
}


class StubbedClients:
    def __init__(self) -> None:
        self.stubbers: dict[tuple[str, str], Stubber] = {}

    def __call__(self, service: str, region: str) -> Any:
        if service in ("organizations", "iam"):
            region = "us-east-1"
        return self.stub(service, region).client

    def stub(self, service: str, region: str = "us-east-1") -> Stubber:
        key = (service, region)
        if key not in self.stubbers:
            stubber = Stubber(boto3.client(service, region_name=region))
            stubber.activate()
            self.stubbers[key] = stubber
        return self.stubbers[key]


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubbedClients]:
    # The Stubber answers in the order responses were queued: calls one at a time.
    monkeypatch.setattr(concurrency, "_MAX_WORKERS", 1)
    fake = StubbedClients()
    monkeypatch.setattr(clients, "client", fake)
    yield fake
    for stubber in fake.stubbers.values():
        stubber.assert_no_pending_responses()


def _deps_with_real_cloudtrail() -> Any:
    deps = make_deps()
    deps.trails = CloudTrailGateway()
    deps.trusted_access = OrganizationsGateway()
    return deps


def test_stop_logging_seen_in_another_region_is_repaired_in_home_region(
    stubbed: StubbedClients, event: Any
) -> None:
    # The trail ARN names the home region; the call must go there even if the
    # event arrived from elsewhere. Only a us-east-1 client is stubbed: a call to
    # any other region would create an unstubbed client and fail the test.
    sample = fresh(event("stop_logging_by_arn.json"), awsRegion="eu-west-1")
    home = stubbed.stub("cloudtrail", "us-east-1")
    home.add_response("start_logging", {}, {"Name": REF.arn})
    # AWS's status carries the time of the stop: the event's own time here.
    stopped = parse_api_call_event(sample).event_time
    home.add_response(
        "get_trail_status", {"IsLogging": True, "StopLoggingTime": stopped}, {"Name": REF.arn}
    )
    deps = _deps_with_real_cloudtrail()

    result = protect_trail(parse_api_call_event(sample), deps)

    assert result.outcome.value == "repaired"
    assert ("cloudtrail", "eu-west-1") not in stubbed.stubbers


def test_invalid_home_region_is_critical_with_its_meaning(
    stubbed: StubbedClients, event: Any
) -> None:
    # AWS answers InvalidHomeRegionException (moto: TrailNotFoundException).
    ct = stubbed.stub("cloudtrail")
    ct.add_client_error("start_logging", "InvalidHomeRegionException", "not home region")
    ct.add_response("get_trail_status", {"IsLogging": False}, {"Name": REF.arn})
    deps = _deps_with_real_cloudtrail()

    with pytest.raises(RemediationFailed):
        protect_trail(parse_api_call_event(fresh(event("stop_logging.json"))), deps)

    [alert] = deps.alerts.alerts
    assert alert.severity.value == "CRITICAL"
    assert "home region" in alert.manual_action


def test_trail_recreated_meanwhile_is_compared_and_brought_back_to_baseline(
    stubbed: StubbedClients, event: Any
) -> None:
    # AWS refuses CreateTrail on an existing name (moto silently replaces the trail).
    ct = stubbed.stub("cloudtrail")
    ct.add_client_error("get_trail", "TrailNotFoundException", "gone")
    org = stubbed.stub("organizations")
    org.add_response(
        "list_aws_service_access_for_organization",
        {"EnabledServicePrincipals": [{"ServicePrincipal": "cloudtrail.amazonaws.com"}]},
    )
    ct.add_client_error("create_trail", "TrailAlreadyExistsException", "exists")
    stray = [{"Key": "owner", "Value": "security"}, {"Key": "x", "Value": "1"}]
    # Someone recreated it meanwhile: read it whole, then repair what differs.
    _queue_full_read(ct, logging=False, tags=stray)
    ct.add_response("start_logging", {}, {"Name": REF.arn})
    ct.add_response("remove_tags", {}, {"ResourceId": REF.arn, "TagsList": [{"Key": "x"}]})
    # Verification re-reads everything.
    _queue_full_read(ct, logging=True, tags=stray[:1])
    deps = _deps_with_real_cloudtrail()

    result = protect_trail(parse_api_call_event(fresh(event("delete_trail.json"))), deps)

    assert result.outcome.value == "repaired"
    assert [a.call for a in result.actions] == ["StartLogging", "AddTags/RemoveTags"]


def _queue_full_read(ct: Stubber, *, logging: bool, tags: list[dict[str, str]]) -> None:
    ct.add_response("get_trail", {"Trail": TRAIL_DESCRIPTION}, {"Name": REF.arn})
    ct.add_response("get_trail_status", {"IsLogging": logging}, {"Name": REF.arn})
    ct.add_response(
        "get_event_selectors",
        {"EventSelectors": list(BASELINE.selectors.event_selectors)},
        {"TrailName": REF.arn},
    )
    ct.add_response(
        "get_insight_selectors",
        {"InsightSelectors": list(BASELINE.selectors.insight_selectors)},
        {"TrailName": REF.arn},
    )
    ct.add_response(
        "list_tags",
        {"ResourceTagList": [{"ResourceId": REF.arn, "TagsList": tags}]},
        {"ResourceIdList": [REF.arn]},
    )


def test_insights_not_enabled_reads_as_no_insight_selectors(stubbed: StubbedClients) -> None:
    # AWS raises InsightNotEnabledException where moto returns an empty answer.
    ct = stubbed.stub("cloudtrail")
    ct.add_response("get_trail", {"Trail": {**TRAIL_DESCRIPTION, "HasInsightSelectors": False}})
    ct.add_client_error("get_insight_selectors", "InsightNotEnabledException", "off")

    live = CloudTrailGateway().read(REF, frozenset({Aspect.EXISTS, Aspect.INSIGHT_SELECTORS}))

    assert live.snapshot is not None
    assert live.snapshot.selectors.insight_selectors == ()


def test_insight_selectors_are_replaced_not_appended(stubbed: StubbedClients) -> None:
    # AWS replaces the trail's insight selectors (moto appends to them), so one
    # PutInsightSelectors with the baseline's list restores it exactly.
    ct = stubbed.stub("cloudtrail")
    ct.add_response(
        "put_insight_selectors",
        {},
        {"TrailName": REF.arn, "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]},
    )

    CloudTrailGateway().put_insight_selectors(BASELINE)


def test_service_linked_role_is_found_under_its_aws_name(stubbed: StubbedClients) -> None:
    # AWS: AWSServiceRoleForCloudTrail (moto: AWSServiceRoleForcloudtrail). Both
    # live under the service's path, which is what the adapter asks for.
    iam = stubbed.stub("iam")
    role = {
        "Path": "/aws-service-role/cloudtrail.amazonaws.com/",
        "RoleName": "AWSServiceRoleForCloudTrail",
        "RoleId": "AROAEXAMPLESLR0000001",
        "Arn": "arn:aws:iam::111111111111:role/aws-service-role/cloudtrail.amazonaws.com/"
        "AWSServiceRoleForCloudTrail",
        "CreateDate": "2026-01-01T00:00:00Z",
    }
    iam.add_response(
        "list_roles",
        {"Roles": [role], "IsTruncated": False},
        {"PathPrefix": "/aws-service-role/cloudtrail.amazonaws.com/"},
    )

    assert IamGateway().exists("cloudtrail.amazonaws.com")


def test_every_aspect_read_costs_five_calls(stubbed: StubbedClients) -> None:
    ct = stubbed.stub("cloudtrail")
    ct.add_response("get_trail", {"Trail": TRAIL_DESCRIPTION})
    ct.add_response("get_trail_status", {"IsLogging": True})
    ct.add_response("get_event_selectors", {"EventSelectors": []})
    ct.add_response("get_insight_selectors", {"InsightSelectors": []})
    ct.add_response("list_tags", {"ResourceTagList": []})

    live = CloudTrailGateway().read(REF, EVERY_ASPECT)

    assert live.exists and live.is_logging
