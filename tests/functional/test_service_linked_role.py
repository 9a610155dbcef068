"""I6: deleting AWSServiceRoleForCloudTrail is answered by recreating it."""

from __future__ import annotations

from drill.world import World
from tests.functional.helpers import aws, fresh

FUNCTION = "RestoreServiceLinkedRoleFunction"


def _delete_role() -> None:
    # moto names the role AWSServiceRoleForcloudtrail (AWS: AWSServiceRoleForCloudTrail);
    # the adapter finds it by its service path, which both share.
    iam = aws("iam")
    [role] = iam.list_roles(PathPrefix="/aws-service-role/cloudtrail.amazonaws.com/")["Roles"]
    iam.delete_service_linked_role(RoleName=role["RoleName"])


def test_deleted_service_linked_role_is_recreated(world: World, event) -> None:
    _delete_role()
    assert not world.service_linked_role_exists()

    result = world.invoke(FUNCTION, fresh(event("delete_service_linked_role.json")))

    assert result["outcome"] == "repaired"
    assert world.service_linked_role_exists()
    [alert] = world.drain_alerts()
    assert alert.document["actions"] == [
        {"call": "CreateServiceLinkedRole", "target": "cloudtrail.amazonaws.com", "result": "ok"}
    ]


def test_role_still_present_after_request_is_a_warning(world: World, event) -> None:
    result = world.invoke(FUNCTION, fresh(event("delete_service_linked_role.json")))

    assert result["outcome"] == "notice"
    [alert] = world.drain_alerts()
    assert alert.severity == "WARNING"
    assert "asynchronously" in alert.document["detail"]


def test_lower_case_role_name_is_still_the_cloudtrail_role(world: World, event) -> None:
    _delete_role()
    sample = fresh(event("delete_service_linked_role.json"))
    sample["detail"]["requestParameters"]["roleName"] = "awsservicerolefor" + "cloudtrail"

    world.invoke(FUNCTION, sample)

    assert world.service_linked_role_exists()


def test_other_service_linked_role_is_ignored(world: World, event) -> None:
    result = world.invoke(FUNCTION, fresh(event("delete_other_service_linked_role.json")))

    assert result["outcome"] == "notice"
    assert world.drain_alerts() == []
