"""I1: DisableAWSServiceAccess for CloudTrail is answered by re-enabling trusted access."""

from __future__ import annotations

import pytest

from drill.world import World
from tests.functional.helpers import aws, fresh
from trailguard.errors import RemediationFailed

FUNCTION = "RestoreTrustedAccessFunction"


def _disable() -> None:
    aws("organizations").disable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")


def test_disabled_trusted_access_is_reenabled_and_alerted(world: World, event) -> None:
    _disable()
    assert not world.trusted_access_enabled()

    result = world.invoke(FUNCTION, fresh(event("disable_trusted_access.json")))

    assert world.trusted_access_enabled()
    assert result["outcome"] == "repaired"
    [alert] = world.drain_alerts()
    assert alert.severity == "HIGH"
    assert alert.outcome == "repaired"
    assert alert.document["actions"] == [
        {"call": "EnableAWSServiceAccess", "target": "cloudtrail.amazonaws.com", "result": "ok"}
    ]
    assert alert.document["actor"]["arn"].endswith("assumed-role/BreakGlassAdmin/mallory")
    assert alert.document["actor"]["sourceIp"] == "198.51.100.23"
    assert alert.document["secondsToRepair"] is not None
    assert alert.attributes == {
        "severity": "HIGH",
        "outcome": "repaired",
        "invariant": "I1 trusted access for cloudtrail.amazonaws.com",
        "account": "111111111111",
        "event_name": "DisableAWSServiceAccess",
        "dedup_key": alert.document["dedupKey"],
    }
    assert alert.subject.startswith("[trailguard] HIGH DisableAWSServiceAccess")


def test_other_service_principal_is_left_alone_without_alert(world: World, event) -> None:
    aws("organizations").enable_aws_service_access(ServicePrincipal="config.amazonaws.com")
    aws("organizations").disable_aws_service_access(ServicePrincipal="config.amazonaws.com")

    result = world.invoke(FUNCTION, fresh(event("disable_trusted_access_other_service.json")))

    assert result["outcome"] == "notice"
    assert world.drain_alerts() == []
    enabled = aws("organizations").list_aws_service_access_for_organization()
    assert "config.amazonaws.com" not in {
        p["ServicePrincipal"] for p in enabled["EnabledServicePrincipals"]
    }


def test_other_service_principal_gets_info_alert_when_configured(world: World, event) -> None:
    world.apply_environment(ALERT_ON_OTHER_SERVICE_PRINCIPALS="true")

    world.invoke(FUNCTION, fresh(event("disable_trusted_access_other_service.json")))

    [alert] = world.drain_alerts()
    assert alert.severity == "INFO"
    assert "config.amazonaws.com" in alert.document["detail"]


def test_refused_attempt_changes_nothing_and_is_alerted(world: World, event) -> None:
    result = world.invoke(FUNCTION, fresh(event("disable_trusted_access_denied.json")))

    assert result["outcome"] == "attempt_failed"
    assert world.trusted_access_enabled()
    [alert] = world.drain_alerts()
    assert alert.severity == "WARNING"
    assert alert.document["event"]["errorCode"] == "AccessDenied"
    assert alert.document["actions"] == []


def test_detect_only_mode_alerts_without_repairing(world: World, event) -> None:
    world.apply_environment(DETECT_ONLY="true")
    _disable()

    result = world.invoke(FUNCTION, fresh(event("disable_trusted_access.json")))

    assert result["outcome"] == "detected"
    assert not world.trusted_access_enabled()
    [alert] = world.drain_alerts()
    assert alert.outcome == "detected"
    assert "Mode=enforce" in alert.document["manualAction"]


def test_allow_listed_principal_is_reverted_like_the_reconciler_would(world: World, event) -> None:
    # One desired state: disabling trusted access breaks an invariant, which no
    # allow-list covers (domain/guards.py, AllowListed.REVERT).
    world.apply_environment(ALLOWED_PRINCIPAL_ARNS="arn:aws:iam::111111111111:role/BreakGlassAdmin")
    _disable()

    world.invoke(FUNCTION, fresh(event("disable_trusted_access.json")))

    assert world.trusted_access_enabled()
    [alert] = world.drain_alerts()
    assert alert.outcome == "repaired"
    assert "allow-list does not cover" in alert.document["detail"]
    assert world.invoke("ReconcileInvariantsFunction", {})["repaired"] == 0


def test_enable_that_does_not_take_is_critical_and_raises(world: World, event, monkeypatch) -> None:
    from trailguard.adapters.organizations import OrganizationsGateway

    _disable()
    monkeypatch.setattr(OrganizationsGateway, "enable", lambda self, principal: None)

    with pytest.raises(RemediationFailed):
        world.invoke(FUNCTION, fresh(event("disable_trusted_access.json")))

    [alert] = world.drain_alerts()
    assert alert.severity == "CRITICAL"
    assert "enable-aws-service-access" in alert.document["manualAction"]
    assert alert.document["verification"].startswith("still drifted")


def test_cloudtrail_delegated_administrator_registration_is_alerted(world: World, event) -> None:
    result = world.invoke(
        FUNCTION, fresh(event("register_delegated_administrator_organizations.json"))
    )

    assert result["outcome"] == "notice"
    [alert] = world.drain_alerts()
    assert alert.severity == "HIGH"
    assert alert.document["resource"] == "account 222222222222"
    assert "delegated administrator" in alert.document["manualAction"]
