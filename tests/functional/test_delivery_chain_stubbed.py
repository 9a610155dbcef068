"""The delivery chain's adapters against AWS's own response shapes (botocore's
Stubber), where moto answers otherwise: HeadBucket's bodiless 403/404, the null
location of us-east-1, KMS's NotFoundException, the lockout check left on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.fakes import SETTINGS
from trailguard import clients
from trailguard.adapters.delivery_chain import DeliveryChainGateway
from trailguard.adapters.kms import KmsGateway
from trailguard.adapters.s3 import S3Gateway
from trailguard.domain.delivery_chain import ChainLocation, Part

BUCKET = "org-trail-logs"
KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/4f1d5c2a-8b3e-4c6f-9a7d-2e5b8c1f0a93"


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Stubber]]:
    made = {
        service: boto3.client(
            service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        for service in ("s3", "kms")
    }
    stubbers = {service: Stubber(client) for service, client in made.items()}

    def client_as(service: str, region: str, role_arn: str, **_: Any) -> Any:
        return made[service]

    monkeypatch.setattr(clients, "client_as", client_as)
    for stubber in stubbers.values():
        stubber.activate()
    yield stubbers
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()


def test_a_missing_bucket_is_a_bare_404(stubbed: dict[str, Stubber]) -> None:
    stubbed["s3"].add_client_error("head_bucket", service_error_code="404", http_status_code=404)

    assert S3Gateway().read(BUCKET).exists is False


def test_a_bucket_in_us_east_1_has_a_null_location(stubbed: dict[str, Stubber]) -> None:
    s3 = stubbed["s3"]
    s3.add_response("head_bucket", {}, {"Bucket": BUCKET})
    # AWS answers an empty LocationConstraint for us-east-1.
    s3.add_response("get_bucket_location", {})
    s3.add_client_error("get_bucket_policy", "NoSuchBucketPolicy", http_status_code=404)
    s3.add_client_error(
        "get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration", http_status_code=404
    )
    s3.add_response("get_bucket_versioning", {})
    s3.add_client_error(
        "get_object_lock_configuration",
        "ObjectLockConfigurationNotFoundError",
        http_status_code=404,
    )
    s3.add_client_error(
        "get_bucket_encryption",
        "ServerSideEncryptionConfigurationNotFoundError",
        http_status_code=404,
    )

    state = S3Gateway().read(BUCKET)

    assert (state.exists, state.region, state.policy, state.versioning) == (
        True,
        "us-east-1",
        None,
        "",
    )
    assert state.lifecycle_rules == () and state.object_lock is None


def test_a_bucket_another_account_owns_answers_403_and_is_unreadable(
    stubbed: dict[str, Stubber],
) -> None:
    stubbed["s3"].add_client_error("head_bucket", service_error_code="403", http_status_code=403)
    location = ChainLocation(bucket_name=BUCKET, bucket_account="111111111111")

    gateway = DeliveryChainGateway(SETTINGS.region)
    chain = gateway.read(location, frozenset({Part.BUCKET}), "111111111111")

    assert chain.bucket is None
    assert "HeadBucket failed with 403" in chain.unreadable["bucket"]
    assert "companions/log-archive/" in chain.unreadable["bucket"]


def test_a_deleted_key_is_not_found(stubbed: dict[str, Stubber]) -> None:
    stubbed["kms"].add_client_error(
        "describe_key",
        "NotFoundException",
        http_status_code=400,
        expected_params={"KeyId": KEY_ARN},
    )

    assert KmsGateway().read(KEY_ARN).exists is False


def test_key_policy_is_put_with_the_lockout_check_on(stubbed: dict[str, Stubber]) -> None:
    policy = {"Version": "2012-10-17", "Statement": []}
    stubbed["kms"].add_response(
        "put_key_policy",
        {},
        {
            "KeyId": KEY_ARN,
            "PolicyName": "default",
            "Policy": json.dumps(policy),
            "BypassPolicyLockoutSafetyCheck": False,
        },
    )

    KmsGateway().put_policy(KEY_ARN, policy)
