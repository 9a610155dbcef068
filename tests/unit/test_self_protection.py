from __future__ import annotations

import pytest

from trailguard.protected.trailguard_itself import base_name, is_ours


@pytest.mark.parametrize(
    ("resource", "ours"),
    [
        ("trailguard-RestoreTrailFunctionTrailChanged-1A2B", True),
        ("arn:aws:lambda:us-east-1:111111111111:function:trailguard-RestoreTrail-AbC", True),
        ("arn:aws:sns:us-east-1:111111111111:trailguard-AlertTopic-AbC", True),
        ("arn:aws:sns:us-east-1:111111111111:trailguard-AlertTopic-AbC:5e1f-0000", True),
        ("arn:aws:events:us-east-1:111111111111:rule/trailguard-X-1", True),
        ("trailguardian-Function-1", False),
        ("team-trailguard-copy", False),
        ("", False),
    ],
)
def test_resources_are_recognised_by_stack_prefix(resource: str, ours: bool) -> None:
    assert is_ours(resource, "trailguard") is ours


def test_no_stack_name_means_nothing_is_ours() -> None:
    assert not is_ours("trailguard-Function-1", "")


def test_lambda_api_versions_are_stripped() -> None:
    assert base_name("PutFunctionConcurrency20171031") == "PutFunctionConcurrency"
    assert base_name("UpdateFunctionConfiguration20150331v2") == "UpdateFunctionConfiguration"
    assert base_name("DeleteRule") == "DeleteRule"
