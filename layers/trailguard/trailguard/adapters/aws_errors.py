"""Turning botocore errors into AwsCallFailed with an actionable hint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from trailguard.domain.text import clean_text
from trailguard.errors import AwsCallFailed

T = TypeVar("T")

_HINTS = {
    "S3BucketDoesNotExistException": "the trail's S3 bucket does not exist: recreate the bucket "
    "with its CloudTrail bucket policy",
    "InsufficientS3BucketPolicyException": "the S3 bucket policy does not let CloudTrail write: "
    "restore the bucket policy (CloudTrail User Guide, 'Amazon S3 bucket policy for CloudTrail')",
    "KmsKeyDisabledException": "the trail's KMS key is disabled: enable it (kms:EnableKey) or "
    "cancel its deletion",
    "KmsKeyNotFoundException": "the trail's KMS key is missing or pending deletion: cancel the "
    "deletion (kms:CancelKeyDeletion) and enable the key",
    "KmsException": "KMS refused the trail's key: check that the key policy grants "
    "cloudtrail.amazonaws.com",
    "InsufficientEncryptionPolicyException": "the KMS key policy does not let CloudTrail use "
    "the key",
    "InsufficientSnsTopicPolicyException": "the trail's SNS topic policy does not let CloudTrail "
    "publish",
    "InvalidCloudWatchLogsLogGroupArnException": "the trail's CloudWatch Logs group is missing",
    "InvalidCloudWatchLogsRoleArnException": "the trail's CloudWatch Logs role is missing or "
    "cannot be assumed by CloudTrail",
    "CloudTrailAccessNotEnabledException": "trusted access for cloudtrail.amazonaws.com is off: "
    "enable it in AWS Organizations",
    "InvalidHomeRegionException": "the call was made outside the trail's home region: check the "
    "protected trail's region",
    "NotOrganizationMasterAccountException": "trailguard is not running in the organization's "
    "management account",
    "TrailAlreadyExistsException": "a trail with this name already exists (possibly in another "
    "region): inspect it before deleting anything",
    # SNS's codes when the topic's key is unusable (Publish API reference).
    "KMSDisabled": "the alert topic's KMS key is disabled: enable it (kms:EnableKey); until "
    "then no alert or alarm reaches on-call (the witness, if deployed, has them)",
    "KMSInvalidState": "the alert topic's KMS key cannot be used (pending deletion?): cancel "
    "the deletion (kms:CancelKeyDeletion) and enable the key",
    "KMSNotFound": "the alert topic's KMS key does not exist: redeploy trailguard",
    "ThrottlingException": "AWS throttled the call after retries: the next delivery or the "
    "scheduled reconciler will try again",
    "TooManyRequestsException": "AWS throttled the call after retries: the next delivery or the "
    "scheduled reconciler will try again",
}

_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


def hint_for(operation: str, code: str, iam_action: str) -> str:
    if code in _DENIED:
        return f"the function's role is missing the permission {iam_action}: add it to the role"
    return _HINTS.get(code, f"{operation} failed with {code}: repair by hand, then check the trail")


@contextmanager
def translated(operation: str, iam_action: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        error: dict[str, Any] = dict(exc.response.get("Error", {}))
        code = str(error.get("Code", "Unknown"))
        # AWS error messages echo request values (names, ARNs): shown as cleaned text.
        message = clean_text(str(error.get("Message", "")), 300)
        raise AwsCallFailed(
            operation, code, message, hint_for(operation, code, iam_action)
        ) from exc
    except BotoCoreError as exc:
        raise AwsCallFailed(
            operation,
            type(exc).__name__,
            clean_text(str(exc), 300),
            "AWS could not be reached after retries: the next delivery or the scheduled "
            "reconciler will try again",
        ) from exc


def call(operation: str, iam_action: str, fn: Callable[..., T], **kwargs: Any) -> T:
    with translated(operation, iam_action):
        return fn(**kwargs)


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
