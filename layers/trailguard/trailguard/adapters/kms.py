"""KMS adapter: the alert topic's key, re-enabled when it was disabled or scheduled
for deletion (protected/trailguard_itself.py)."""

from __future__ import annotations

from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call


def key_id(key: str) -> str:
    """The key id of a key ARN (arn:aws:kms:<region>:<account>:key/<id>) or of an id.
    KMS takes either; the client is made in the ARN's region, so the id is enough."""
    return key.rsplit("/", 1)[-1] if key.startswith("arn:") else key


IAM_ACTIONS = frozenset({"kms:DescribeKey", "kms:EnableKey", "kms:CancelKeyDeletion"})


class KmsKeyGateway:
    def __init__(self, region: str) -> None:
        self._region = region

    def _client(self, key: str) -> Any:
        # A key ARN names its region; a bare key id is in the stack's region.
        parts = key.split(":")
        region = parts[3] if key.startswith("arn:") and len(parts) > 3 else self._region
        return clients.client("kms", region)

    def state(self, key: str) -> str:
        response = call(
            "DescribeKey", "kms:DescribeKey", self._client(key).describe_key, KeyId=key_id(key)
        )
        return str(response["KeyMetadata"]["KeyState"])

    def enable(self, key: str) -> None:
        call("EnableKey", "kms:EnableKey", self._client(key).enable_key, KeyId=key_id(key))

    def cancel_deletion(self, key: str) -> None:
        call(
            "CancelKeyDeletion",
            "kms:CancelKeyDeletion",
            self._client(key).cancel_key_deletion,
            KeyId=key_id(key),
        )
