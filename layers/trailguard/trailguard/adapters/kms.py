"""KMS adapter: the alert topic's key, re-enabled when it was disabled or scheduled
for deletion (protected/trailguard_itself.py)."""

from __future__ import annotations

from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call

IAM_ACTIONS = frozenset({"kms:DescribeKey", "kms:EnableKey", "kms:CancelKeyDeletion"})


class KmsKeyGateway:
    def __init__(self, region: str) -> None:
        self._region = region

    def _client(self, key_id: str) -> Any:
        # A key ARN names its region; a bare key id is in the stack's region.
        parts = key_id.split(":")
        region = parts[3] if key_id.startswith("arn:") and len(parts) > 3 else self._region
        return clients.client("kms", region)

    def state(self, key_id: str) -> str:
        response = call(
            "DescribeKey", "kms:DescribeKey", self._client(key_id).describe_key, KeyId=key_id
        )
        return str(response["KeyMetadata"]["KeyState"])

    def enable(self, key_id: str) -> None:
        call("EnableKey", "kms:EnableKey", self._client(key_id).enable_key, KeyId=key_id)

    def cancel_deletion(self, key_id: str) -> None:
        call(
            "CancelKeyDeletion",
            "kms:CancelKeyDeletion",
            self._client(key_id).cancel_key_deletion,
            KeyId=key_id,
        )
