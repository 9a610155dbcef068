"""CreateTrail and UpdateTrail refuse dependencies CloudTrail cannot use; moto 5.2
accepts any CloudWatch Logs role, log group and KMS key.

What AWS does (CloudTrail API Reference, CreateTrail and UpdateTrail, "Errors"):
- `InvalidCloudWatchLogsRoleArnException`: the role is not valid (missing, or
  CloudTrail cannot assume it).
- `InvalidCloudWatchLogsLogGroupArnException`: the log group is not valid.
- `KmsKeyNotFoundException`: the KMS key does not exist (or is in another region).
- `KmsException`: another problem with the key (disabled, pending deletion).
- `InsufficientEncryptionPolicyException`: the key policy does not let CloudTrail
  use the key.
moto already refuses a missing SNS topic (InsufficientSnsTopicPolicyException).
An empty string clears a setting (UpdateTrail) and is never checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from drill.emulation.trail_status import _key, policy_allows_cloudtrail


def refusal(params: dict[str, Any], region: str, account: str) -> tuple[str, str] | None:
    """(error code, message) AWS would answer for these trail parameters, or None."""
    from moto.iam.models import iam_backends
    from moto.logs.models import logs_backends

    role_arn = params.get("CloudWatchLogsRoleArn") or ""
    group_arn = params.get("CloudWatchLogsLogGroupArn") or ""
    if group_arn:
        parts = group_arn.split(":")
        if len(parts) < 7 or parts[6] not in logs_backends[parts[4]][parts[3]].groups:
            return "InvalidCloudWatchLogsLogGroupArnException", "Invalid log group ARN."
    if role_arn:
        try:
            iam_backends[role_arn.split(":")[4]]["aws"].get_role_by_arn(role_arn)
        except Exception:  # moto's IAMNotFoundException: the role cannot be assumed
            return (
                "InvalidCloudWatchLogsRoleArnException",
                "Access denied. Verify in IAM that the role has adequate permissions.",
            )
    key_id = params.get("KmsKeyId") or ""
    if key_id:
        key = _key(key_id, region, account)
        if key is None:
            return "KmsKeyNotFoundException", f"KMS key {key_id} does not exist."
        if key.key_state != "Enabled":
            return "KmsException", f"KMS key {key_id} is {key.key_state}."
        if not policy_allows_cloudtrail(key.policy, "kms:GenerateDataKey"):
            return "InsufficientEncryptionPolicyException", "Insufficient permissions."
    return None


@contextmanager
def installed() -> Iterator[None]:
    from moto.cloudtrail.responses import CloudTrailResponse
    from moto.core.exceptions import JsonRESTError

    originals = {
        name: getattr(CloudTrailResponse, name) for name in ("create_trail", "update_trail")
    }

    def checked(name: str) -> Any:
        def handler(self: Any) -> str:
            refused = refusal(json.loads(self.body or "{}"), self.region, self.current_account)
            if refused is not None:
                raise JsonRESTError(*refused)
            return str(originals[name](self))

        return handler

    for name in originals:
        setattr(CloudTrailResponse, name, checked(name))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(CloudTrailResponse, name, original)
