"""S3 adapter: the trail's bucket, read and repaired (delivery chain).

Every call may act in another account: `role_arn` is the log-archive companion's
role there, '' for the management account itself (clients.client_as).
"""

from __future__ import annotations

import json
from typing import Any

from trailguard.adapters.assumed import client_in_chain_account
from trailguard.adapters.aws_errors import call
from trailguard.domain.delivery_chain import BucketState
from trailguard.errors import AwsCallFailed

IAM_ACTIONS_READ = frozenset(
    {
        "s3:ListBucket",  # HeadBucket
        "s3:GetBucketLocation",
        "s3:GetBucketPolicy",
        "s3:GetLifecycleConfiguration",
        "s3:GetBucketVersioning",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetEncryptionConfiguration",
        # Every call may act through the log-archive companion's role (adapters/assumed.py).
    }
)
IAM_ACTIONS_WRITE = frozenset(
    {
        "s3:CreateBucket",
        "s3:PutEncryptionConfiguration",
        "s3:PutBucketVersioning",
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutBucketPolicy",
        "s3:PutLifecycleConfiguration",  # also what DeleteBucketLifecycle needs
    }
)

_MISSING_BUCKET = ("NoSuchBucket", "404", "NotFound")


def _absent(exc: AwsCallFailed, *codes: str) -> bool:
    return exc.code in codes


class S3Gateway:
    def __init__(self, role_arn: str = "", region: str = "us-east-1") -> None:
        self._role_arn = role_arn
        self._region = region

    def _client(self) -> Any:
        return client_in_chain_account("s3", self._region, self._role_arn)

    def read(self, bucket: str) -> BucketState:
        api = self._client()
        try:
            call("HeadBucket", "s3:ListBucket", api.head_bucket, Bucket=bucket)
        except AwsCallFailed as exc:
            if _absent(exc, *_MISSING_BUCKET):
                return BucketState(exists=False)
            raise
        location = call(
            "GetBucketLocation", "s3:GetBucketLocation", api.get_bucket_location, Bucket=bucket
        ).get("LocationConstraint")
        policy = None
        try:
            text = call(
                "GetBucketPolicy", "s3:GetBucketPolicy", api.get_bucket_policy, Bucket=bucket
            )
            policy = json.loads(text["Policy"])
        except AwsCallFailed as exc:
            if not _absent(exc, "NoSuchBucketPolicy"):
                raise
        rules: list[Any] = []
        try:
            rules = call(
                "GetBucketLifecycleConfiguration",
                "s3:GetLifecycleConfiguration",
                api.get_bucket_lifecycle_configuration,
                Bucket=bucket,
            ).get("Rules", [])
        except AwsCallFailed as exc:
            if not _absent(exc, "NoSuchLifecycleConfiguration"):
                raise
        versioning = call(
            "GetBucketVersioning",
            "s3:GetBucketVersioning",
            api.get_bucket_versioning,
            Bucket=bucket,
        ).get("Status", "")
        object_lock = None
        try:
            object_lock = call(
                "GetObjectLockConfiguration",
                "s3:GetBucketObjectLockConfiguration",
                api.get_object_lock_configuration,
                Bucket=bucket,
            ).get("ObjectLockConfiguration")
        except AwsCallFailed as exc:
            if not _absent(exc, "ObjectLockConfigurationNotFoundError"):
                raise
        encryption = None
        try:
            encryption = call(
                "GetBucketEncryption",
                "s3:GetEncryptionConfiguration",
                api.get_bucket_encryption,
                Bucket=bucket,
            ).get("ServerSideEncryptionConfiguration")
        except AwsCallFailed as exc:
            if not _absent(exc, "ServerSideEncryptionConfigurationNotFoundError"):
                raise
        return BucketState(
            exists=True,
            # GetBucketLocation answers null for us-east-1.
            region=str(location or "us-east-1"),
            policy=policy,
            lifecycle_rules=tuple(rules),
            versioning=str(versioning or ""),
            object_lock=object_lock,
            encryption=encryption,
        )

    def create(self, bucket: str, baseline: BucketState) -> None:
        kwargs: dict[str, Any] = {"Bucket": bucket}
        region = baseline.region or self._region
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        if baseline.object_lock:
            # Object Lock can only be switched on when the bucket is created.
            kwargs["ObjectLockEnabledForBucket"] = True
        call("CreateBucket", "s3:CreateBucket", self._client().create_bucket, **kwargs)

    def put_encryption(self, bucket: str, baseline: BucketState) -> None:
        call(
            "PutBucketEncryption",
            "s3:PutEncryptionConfiguration",
            self._client().put_bucket_encryption,
            Bucket=bucket,
            ServerSideEncryptionConfiguration=dict(baseline.encryption or {}),
        )

    def enable_versioning(self, bucket: str) -> None:
        call(
            "PutBucketVersioning",
            "s3:PutBucketVersioning",
            self._client().put_bucket_versioning,
            Bucket=bucket,
            VersioningConfiguration={"Status": "Enabled"},
        )

    def put_object_lock(self, bucket: str, baseline: BucketState) -> None:
        call(
            "PutObjectLockConfiguration",
            "s3:PutBucketObjectLockConfiguration",
            self._client().put_object_lock_configuration,
            Bucket=bucket,
            ObjectLockConfiguration=dict(baseline.object_lock or {}),
        )

    def put_policy(self, bucket: str, policy: dict[str, Any]) -> None:
        call(
            "PutBucketPolicy",
            "s3:PutBucketPolicy",
            self._client().put_bucket_policy,
            Bucket=bucket,
            Policy=json.dumps(policy),
        )

    def put_lifecycle(self, bucket: str, baseline: BucketState) -> None:
        call(
            "PutBucketLifecycleConfiguration",
            "s3:PutLifecycleConfiguration",
            self._client().put_bucket_lifecycle_configuration,
            Bucket=bucket,
            LifecycleConfiguration={"Rules": [dict(r) for r in baseline.lifecycle_rules]},
        )

    def delete_lifecycle(self, bucket: str) -> None:
        call(
            "DeleteBucketLifecycle",
            "s3:PutLifecycleConfiguration",
            self._client().delete_bucket_lifecycle,
            Bucket=bucket,
        )
